package dev.vigil.schemas.delivery;

import static dev.vigil.schemas.delivery.TestRepository.NOW;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Agents read delivery documents from the network: whatever bytes arrive, verification must answer with a document
 * it trusts or a typed refusal, never another exception, and never accept a document that is not byte for byte one
 * the vendor signed.
 */
class DeliveryDocumentFuzzTest {

    @Test
    void mutatedOrRandomDocumentsAreRefusedWithAReason() throws Exception {
        TestRepository repo = new TestRepository();
        Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
        byte[] root = repo.root();
        byte[] targets = repo.targets("AcmeOS", "1.0", "1.1");
        byte[] snapshot = repo.snapshot(Map.of("AcmeOS", targets), Map.of("AcmeOS", 1L));
        byte[] timestamp = repo.timestamp(snapshot, 1, NOW.plus(Duration.ofDays(1)));
        byte[] license =
                MetadataSigning.sign(repo.licenseDocument("host-a"), Role.LICENSES, repo.keys.get(Role.LICENSES));
        byte[] manifest = TestRepository.manifest("AcmeOS", "1.1");
        List<byte[]> originals = List.of(timestamp, snapshot, targets, license, manifest, root);
        Random random = new Random(17);
        int accepted = 0;

        // Refusals change nothing, and only the same bytes are accepted again: one trusted state serves every case.
        TrustedMetadata trusted = TrustedMetadata.pin(root, clock);
        trusted.updateTimestamp(timestamp);
        trusted.updateSnapshot(snapshot);
        trusted.updateTargets(targets);

        for (int i = 0; i < 20_000; i++) {
            byte[] original = originals.get(i % originals.size());
            byte[] input = i % 10 == 9 ? randomBytes(random) : mutate(original, random);
            try {
                switch (i % originals.size()) {
                    case 0 -> trusted.updateTimestamp(input);
                    case 1 -> trusted.updateSnapshot(input);
                    case 2 -> trusted.updateTargets(input);
                    case 3 -> trusted.verifyLicense(input, "host-a");
                    case 4 -> trusted.verifyManifest("AcmeOS", "1.1", input);
                    default -> TrustedMetadata.pin(input, clock);
                }
                assertThat(input)
                        .as("only the vendor's exact bytes are trusted")
                        .isEqualTo(original);
                accepted++;
            } catch (MetadataException e) {
                assertThat(e.problem()).isNotNull();
            }
        }
        assertThat(trusted.release("AcmeOS", "1.1").getRelease()).isEqualTo("1.1");
        // Some mutations leave the bytes as they were (a byte overwritten with itself): those must be accepted.
        assertThat(accepted).isLessThan(2_000);
    }

    private static byte[] mutate(byte[] original, Random random) {
        byte[] bytes = original.clone();
        int edits = 1 + random.nextInt(4);
        for (int e = 0; e < edits; e++) {
            switch (random.nextInt(3)) {
                case 0 -> bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
                case 1 -> bytes = java.util.Arrays.copyOf(bytes, random.nextInt(bytes.length + 1));
                default -> {
                    byte[] longer = java.util.Arrays.copyOf(bytes, bytes.length + 1 + random.nextInt(64));
                    for (int i = bytes.length; i < longer.length; i++) {
                        longer[i] = (byte) random.nextInt(256);
                    }
                    bytes = longer;
                }
            }
            if (bytes.length == 0) {
                return bytes;
            }
        }
        return bytes;
    }

    private static byte[] randomBytes(Random random) {
        byte[] bytes = new byte[random.nextInt(600)];
        random.nextBytes(bytes);
        if (bytes.length > 2) {
            bytes[0] = (byte) 0xC3;
            bytes[1] = 0x01;
        }
        return bytes;
    }
}
