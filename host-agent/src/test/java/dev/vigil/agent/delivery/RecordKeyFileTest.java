package dev.vigil.agent.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.vigil.schemas.RecordSeals;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecordKeyFileTest {

    private static final byte[] SECRET = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    @TempDir
    Path state;

    @Test
    void aHostThatNeverEnrolledHasNoKey() {
        RecordKeyFile file = new RecordKeyFile(state, "acme", "host-1");
        assertThat(file.check()).isNull();
        assertThat(file.get()).isNull();
    }

    @Test
    void theKeyFromEnrolmentIsKeptForTheAgentAlone() throws Exception {
        RecordSeals.HostKey issued = RecordSeals.hostKey(SECRET, 1, "acme", "host-1");
        RecordKeyFile.save(state, issued);

        assertThat(Files.getPosixFilePermissions(state.resolve(RecordSeals.AGENT_KEY_FILE)))
                .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
        RecordSeals.HostKey read = new RecordKeyFile(state, "acme", "host-1").check();
        assertThat(read.key()).isEqualTo(issued.key());
        assertThat(read.epoch()).isEqualTo(1);
    }

    @Test
    void anAgentReportingAsAnotherHostOrTenantRefusesToStart() throws Exception {
        RecordKeyFile.save(state, RecordSeals.hostKey(SECRET, 1, "acme", "host-1"));

        assertThatThrownBy(() -> new RecordKeyFile(state, "acme", "host-2").check())
                .hasMessageContaining("is the record key of host host-1 of tenant acme, but this agent reports as"
                        + " host host-2 of tenant acme");
        assertThatThrownBy(() -> new RecordKeyFile(state, "globex", "host-1").check())
                .hasMessageContaining("of tenant globex");
    }

    @Test
    void aDamagedFileSaysEnrolAgain() throws Exception {
        Path file = state.resolve(RecordSeals.AGENT_KEY_FILE);
        Files.createDirectories(file.getParent());
        Files.writeString(file, "tenant=acme\nhost=host-1\nepoch=1\nkey=c2hvcnQ=\n");

        assertThatThrownBy(() -> new RecordKeyFile(state, "acme", "host-1").check())
                .hasMessageContaining("is not a record key: a record key is 32 bytes, not 5; enrol again");
    }

    @Test
    void aHostEnrolledWhileItsAgentRunsSealsFromThenOn() throws Exception {
        RecordKeyFile file = new RecordKeyFile(state, "acme", "host-1");
        assertThat(file.check()).isNull();
        RecordSeals.HostKey issued = RecordSeals.hostKey(SECRET, 2, "acme", "host-1");
        RecordKeyFile.save(state, issued);
        Files.setLastModifiedTime(
                state.resolve(RecordSeals.AGENT_KEY_FILE),
                FileTime.from(Instant.now().plusSeconds(1)));

        // Read again within the recheck period (a few seconds), not at once.
        await().atMost(Duration.ofSeconds(15))
                .untilAsserted(() -> assertThat(file.get()).isNotNull());
        assertThat(file.get().key()).isEqualTo(issued.key());
    }
}
