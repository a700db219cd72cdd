package dev.vigil.agent.delivery;

import dev.vigil.schemas.delivery.License;
import dev.vigil.schemas.delivery.LicenseTerms;
import dev.vigil.schemas.delivery.MetadataException;
import dev.vigil.schemas.delivery.TrustedMetadata;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The signed licenses this host holds, under {@code delivery/licenses/<id>.bin}: each verified against the trusted
 * root and this host before it is kept, and never replaced by an older document.
 */
final class Licenses {

    private final Path dir;

    Licenses(Path stateDir) {
        this.dir = Enrolment.dir(stateDir).resolve("licenses");
    }

    /**
     * The license this host holds for {@code product} that best lets it run at {@code now} (one that allows running,
     * the one with the latest term), or the newest held one, or null when there is none. Documents that no longer
     * verify (for another host, or signed by a key the root no longer trusts) are skipped.
     */
    License forProduct(TrustedMetadata trusted, String product, String hostId, Instant now) throws DeliveryException {
        if (!Files.isDirectory(dir)) {
            return null;
        }
        List<License> held = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".bin")).toList()) {
                try {
                    License license = trusted.verifyLicense(Files.readAllBytes(file), hostId);
                    if (license.getProduct().equals(product)) {
                        held.add(license);
                    }
                } catch (MetadataException e) {
                    // Not one this host may use.
                }
            }
        } catch (IOException e) {
            throw new DeliveryException(DeliveryException.Kind.IO, "cannot read " + dir + ": " + e.getMessage(), e);
        }
        return held.stream()
                .max(Comparator.comparing(
                                (License l) -> LicenseTerms.standing(l, now).allowsRunning())
                        .thenComparing(License::getValidUntil)
                        .thenComparing(License::getIssuedAt))
                .orElse(null);
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
