package dev.vigil.schemas.delivery;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/** A vendor's delivery repository built in memory, with a key per role, for tests of what agents trust. */
final class TestRepository {

    static final Instant NOW = Instant.parse("2026-12-01T12:00:00Z");

    final Map<Role, List<SigningKey>> keys = new EnumMap<>(Role.class);
    final Map<Role, Integer> thresholds = new EnumMap<>(Role.class);
    long rootVersion;
    long targetsVersion;
    long snapshotVersion;
    long timestampVersion;

    TestRepository() {
        for (Role role : List.of(Role.ROOT, Role.TARGETS, Role.SNAPSHOT, Role.TIMESTAMP, Role.LICENSES)) {
            keys.put(role, List.of(SigningKey.generate()));
            thresholds.put(role, 1);
        }
    }

    RootMetadata rootDocument(long version) {
        List<VendorKey> all = new ArrayList<>();
        List<RoleKeys> roles = new ArrayList<>();
        keys.forEach((role, roleKeys) -> {
            roleKeys.forEach(k -> all.add(k.vendorKey()));
            roles.add(RoleKeys.newBuilder()
                    .setRole(role)
                    .setKeyIds(roleKeys.stream().map(SigningKey::keyId).sorted().toList())
                    .setThreshold(thresholds.get(role))
                    .build());
        });
        return RootMetadata.newBuilder()
                .setVersion(version)
                .setIssuedAt(NOW)
                .setExpiresAt(NOW.plus(Duration.ofDays(365)))
                .setKeys(all.stream()
                        .distinct()
                        .sorted(Comparator.comparing(VendorKey::getKeyId))
                        .toList())
                .setRoles(roles)
                .build();
    }

    byte[] root() {
        return MetadataSigning.sign(rootDocument(++rootVersion), Role.ROOT, keys.get(Role.ROOT));
    }

    TargetsMetadata targetsDocument(String product, String... releases) {
        List<ReleaseTarget> targets = new ArrayList<>();
        for (String release : releases) {
            targets.add(release(product, release, manifest(product, release)));
        }
        return TargetsMetadata.newBuilder()
                .setProduct(product)
                .setVersion(++targetsVersion)
                .setIssuedAt(NOW)
                .setExpiresAt(NOW.plus(Duration.ofDays(30)))
                .setReleases(targets)
                .setChannels(
                        releases.length == 0
                                ? List.of()
                                : List.of(ChannelHead.newBuilder()
                                        .setChannel("beta")
                                        .setRelease(releases[releases.length - 1])
                                        .build()))
                .build();
    }

    byte[] targets(String product, String... releases) {
        return MetadataSigning.sign(targetsDocument(product, releases), Role.TARGETS, keys.get(Role.TARGETS));
    }

    byte[] snapshot(Map<String, byte[]> targetsByProduct, Map<String, Long> versions) {
        List<MetaFile> files = new ArrayList<>();
        targetsByProduct.forEach(
                (product, bytes) -> files.add(MetadataSigning.metaFile(product, versions.get(product), bytes)));
        files.sort(Comparator.comparing(MetaFile::getName));
        return MetadataSigning.sign(
                SnapshotMetadata.newBuilder()
                        .setVersion(++snapshotVersion)
                        .setIssuedAt(NOW)
                        .setExpiresAt(NOW.plus(Duration.ofDays(7)))
                        .setTargets(files)
                        .build(),
                Role.SNAPSHOT,
                keys.get(Role.SNAPSHOT));
    }

    byte[] timestamp(byte[] snapshotBytes, long snapshotVersionPinned, Instant expiresAt) {
        return MetadataSigning.sign(
                TimestampMetadata.newBuilder()
                        .setVersion(++timestampVersion)
                        .setIssuedAt(NOW)
                        .setExpiresAt(expiresAt)
                        .setSnapshot(MetadataSigning.metaFile("snapshot", snapshotVersionPinned, snapshotBytes))
                        .build(),
                Role.TIMESTAMP,
                keys.get(Role.TIMESTAMP));
    }

    static byte[] manifest(String product, String release) {
        return dev.vigil.schemas.EventCodec.of(ImageManifest.class)
                .encode(ImageManifest.newBuilder()
                        .setProduct(product)
                        .setRelease(release)
                        .setFormat(ImageFormat.RAW)
                        .setSize(4096)
                        .setSha256("ab".repeat(32))
                        .setVirtualSize(4096)
                        .setChunking(ImageChunker.chunking())
                        .setChunks(List.of(ImageChunk.newBuilder()
                                .setOffset(0)
                                .setLength(4096)
                                .setSha256(new Sha256(new byte[32]))
                                .build()))
                        .build());
    }

    static ReleaseTarget release(String product, String release, byte[] manifest) {
        return ReleaseTarget.newBuilder()
                .setRelease(release)
                .setChannel("beta")
                .setFormat(ImageFormat.RAW)
                .setImageSize(4096)
                .setImageSha256("ab".repeat(32))
                .setVirtualSize(4096)
                .setManifest(TargetFile.newBuilder()
                        .setPath("images/" + product + "/" + release + "/manifest")
                        .setLength(manifest.length)
                        .setSha256(MetadataSigning.sha256(manifest))
                        .build())
                .setTemplateSha256("cd".repeat(32))
                .setParameters(List.of())
                .setPublishedAt(NOW)
                .build();
    }

    License licenseDocument(String hostId) {
        return License.newBuilder()
                .setLicenseId("lic-1")
                .setProduct("AcmeOS")
                .setHostId(hostId)
                .setFeatures(List.of("beta"))
                .setSequence(1)
                .setIssuedAt(NOW)
                .setValidFrom(NOW)
                .setValidUntil(NOW.plus(Duration.ofDays(30)))
                .setLeaseExpiresAt(NOW.plus(Duration.ofDays(1)))
                .setGraceUntil(NOW.plus(Duration.ofDays(4)))
                .build();
    }

    static byte[] tamper(byte[] signed) {
        SignedMetadata decoded =
                dev.vigil.schemas.EventCodec.of(SignedMetadata.class).decode(signed);
        byte[] body = dev.vigil.schemas.CommandSignatures.bytes(decoded.getBody());
        body[body.length - 1] ^= 1;
        return dev.vigil.schemas.EventCodec.of(SignedMetadata.class)
                .encode(SignedMetadata.newBuilder(decoded)
                        .setBody(ByteBuffer.wrap(body))
                        .build());
    }
}
