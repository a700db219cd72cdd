package dev.vigil.agent.delivery;

import dev.vigil.schemas.delivery.License;
import dev.vigil.schemas.delivery.MetadataException;
import dev.vigil.schemas.delivery.TrustedMetadata;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The signed licenses this host holds, under {@code delivery/licenses/<id>.bin}: each verified against the trusted
 * root and this host before it is kept, and never replaced by an older document.
 */
final class Licenses {

    private final Path dir;

    Licenses(Path stateDir) {
        this.dir = Enrolment.dir(stateDir).resolve("licenses");
    }

    /** Verifies and keeps a license document; returns it. */
    License keep(TrustedMetadata trusted, byte[] signed, String hostId) throws DeliveryException {
        License license;
        try {
            license = trusted.verifyLicense(signed, hostId);
        } catch (MetadataException e) {
            throw TrustStore.untrusted(e);
        }
        Path file = dir.resolve(license.getLicenseId() + ".bin");
        try {
            Files.createDirectories(dir);
            if (Files.exists(file)) {
                License held = trusted.verifyLicense(Files.readAllBytes(file), hostId);
                if (held.getSequence() > license.getSequence()) {
                    return held;
                }
            }
            TrustStore.write(file, signed);
            return license;
        } catch (MetadataException e) {
            // The held one no longer verifies (a rotated key): the new one, which does, replaces it.
            try {
                TrustStore.write(file, signed);
            } catch (IOException io) {
                throw new DeliveryException(DeliveryException.Kind.IO, "cannot write " + file, io);
            }
            return license;
        } catch (IOException e) {
            throw new DeliveryException(DeliveryException.Kind.IO, "cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}
