package dev.vigil.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vigil.schemas.delivery.SigningKey;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VigilCliTest {

    @TempDir
    Path dir;

    @Test
    void generatesASigningKeyThatDispatchCanReadAndOnlyItsOwnerCan() throws Exception {
        Path file = dir.resolve("targets.pem");

        int status = VigilCli.run(new String[] {"keys", "generate", "--out", file.toString()}, out(), Map.of());

        assertThat(status).isZero();
        assertThat(SigningKey.parse(Files.readString(file)).keyId()).hasSize(64);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
                .isEqualTo("rw-------");
    }

    @Test
    void printsTheKeyWithoutAFile() {
        ByteArrayOutputStream printed = new ByteArrayOutputStream();

        assertThat(VigilCli.run(new String[] {"keys", "generate"}, new PrintStream(printed), Map.of()))
                .isZero();

        assertThat(SigningKey.parse(printed.toString(StandardCharsets.UTF_8)).publicKey())
                .isNotNull();
    }

    @Test
    void badArgumentsExitWithTheUsageStatusAndNameWhatIsMissing() throws Exception {
        assertThat(VigilCli.run(new String[] {"frobnicate"}, out(), Map.of())).isEqualTo(CliException.USAGE);
        assertThat(VigilCli.options(new String[] {"release", "upload", "--server", "http://x", "image.raw"}, 2))
                .containsEntry("server", "http://x")
                .containsEntry("image", "image.raw");
        assertThat(VigilCli.run(
                        new String[] {"release", "upload", "--server", "http://127.0.0.1:9", "image.raw"},
                        out(),
                        Map.of()))
                .isEqualTo(CliException.USAGE);
        assertThat(VigilCli.run(new String[] {"release", "upload", "--server"}, out(), Map.of()))
                .isEqualTo(CliException.USAGE);
    }

    @Test
    void anUnreachableDispatchIsAnIoFailureNotACrash() throws Exception {
        Path template = Files.writeString(dir.resolve("domain.xml"), "<domain/>");
        Path image = Files.write(dir.resolve("image.raw"), new byte[512]);

        int status = VigilCli.run(
                new String[] {
                    "release",
                    "upload",
                    "--server",
                    "http://127.0.0.1:9",
                    "--product",
                    "p",
                    "--release",
                    "1",
                    "--channel",
                    "beta",
                    "--template",
                    template.toString(),
                    "--token",
                    "t",
                    image.toString()
                },
                out(),
                Map.of());

        assertThat(status).isEqualTo(CliException.IO);
    }

    private static PrintStream out() {
        return new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    }
}
