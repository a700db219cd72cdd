package dev.vigil.agent.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vigil.agent.config.AgentConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KafkaCertificateTest {

    @Test
    void aCertificateIsDueForRenewalOnceHalfItsLifeHasPassed() {
        KafkaCertificate.Validity twoDays = new KafkaCertificate.Validity(
                Instant.parse("2026-12-08T00:00:00Z"), Instant.parse("2026-12-10T00:00:00Z"));
        assertThat(twoDays.due(Instant.parse("2026-12-08T23:59:59Z"))).isFalse();
        assertThat(twoDays.due(Instant.parse("2026-12-09T00:00:00Z"))).isTrue();
        assertThat(twoDays.due(Instant.parse("2026-12-11T00:00:00Z"))).isTrue();
    }

    @Test
    void aKeyStoreThatCannotBeReadIsNoCertificate(@TempDir Path dir) throws Exception {
        AgentConfig config = AgentConfig.load(Map.of(
                "VIGIL_AGENT_KAFKA_BOOTSTRAP_SERVERS", "b:1",
                "VIGIL_AGENT_KAFKA_SECURITY_PROTOCOL", "SSL",
                "VIGIL_AGENT_STATE_DIR", dir.toString()));
        assertThat(KafkaCertificate.kept(config)).isNull();
        Files.createDirectories(config.enrolmentKeystore().getParent());
        Files.writeString(config.enrolmentKeystore().resolveSibling("kafka-client.password"), "pw");
        Files.write(config.enrolmentKeystore(), new byte[] {0x30, 0x03, 1, 2, 3});
        // A damaged key store is asked for again, not trusted.
        assertThat(KafkaCertificate.kept(config)).isNull();
    }
}
