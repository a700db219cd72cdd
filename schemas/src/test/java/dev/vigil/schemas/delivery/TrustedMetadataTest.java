package dev.vigil.schemas.delivery;

import static dev.vigil.schemas.delivery.TestRepository.NOW;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vigil.schemas.EventCodec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

class TrustedMetadataTest {

    private final Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
    private final TestRepository repo = new TestRepository();

    @Test
    void followsTimestampSnapshotAndTargetsToARelease() throws Exception {
        TrustedMetadata trusted = TrustedMetadata.pin(repo.root(), clock);
        byte[] targets = repo.targets("AcmeOS", "1.0", "1.1");
        byte[] snapshot = repo.snapshot(Map.of("AcmeOS", targets), Map.of("AcmeOS", repo.targetsVersion));
        byte[] timestamp = repo.timestamp(snapshot, repo.snapshotVersion, NOW.plus(Duration.ofDays(1)));

        trusted.updateTimestamp(timestamp);
        trusted.updateSnapshot(snapshot);
        trusted.updateTargets(targets);

        assertThat(trusted.release("AcmeOS", "1.0").getChannel()).isEqualTo("beta");
        assertThat(trusted.channelHead("AcmeOS", "beta").getRelease()).isEqualTo("1.1");
        ImageManifest manifest = trusted.verifyManifest("AcmeOS", "1.1", TestRepository.manifest("AcmeOS", "1.1"));
        assertThat(manifest.getSize()).isEqualTo(4096);
        refused(() -> trusted.release("AcmeOS", "2.0"), MetadataProblem.NOT_LISTED);
        refused(
                () -> trusted.verifyManifest("AcmeOS", "1.1", TestRepository.manifest("AcmeOS", "1.0")),
                MetadataProblem.MISMATCHED);
    }

    @Test
    void refusesUnsignedTamperedAndWronglySignedDocuments() throws Exception {
        TrustedMetadata trusted = TrustedMetadata.pin(repo.root(), clock);
        byte[] snapshot = repo.snapshot(Map.of(), Map.of());
        byte[] timestamp = repo.timestamp(snapshot, repo.snapshotVersion, NOW.plus(Duration.ofDays(1)));
        SignedMetadata signed = EventCodec.of(SignedMetadata.class).decode(timestamp);

        byte[] unsigned = EventCodec.of(SignedMetadata.class)
                .encode(SignedMetadata.newBuilder(signed)
                        .setSignatures(List.of())
                        .build());
        refused(() -> trusted.updateTimestamp(unsigned), MetadataProblem.UNSIGNED);
        refused(() -> trusted.updateTimestamp(TestRepository.tamper(timestamp)), MetadataProblem.BAD_SIGNATURE);
        byte[] asSnapshot = EventCodec.of(SignedMetadata.class)
                .encode(SignedMetadata.newBuilder(signed).setRole(Role.SNAPSHOT).build());
        refused(() -> trusted.updateTimestamp(asSnapshot), MetadataProblem.WRONG_ROLE);
        // Signed by the targets key: a real key of the vendor, but not one the root gives the timestamp role.
        byte[] byOtherKey = MetadataSigning.sign(
                EventCodec.of(TimestampMetadata.class).decode(bytes(signed)),
                Role.TIMESTAMP,
                repo.keys.get(Role.TARGETS));
        refused(() -> trusted.updateTimestamp(byOtherKey), MetadataProblem.UNKNOWN_KEY);
        refused(() -> trusted.updateTimestamp(new byte[] {1, 2, 3}), MetadataProblem.MALFORMED);
    }

    @Test
    void aFrozenRepositoryIsNoticedWhenItsTimestampExpires() throws Exception {
        TrustedMetadata trusted = TrustedMetadata.pin(repo.root(), clock);
        byte[] snapshot = repo.snapshot(Map.of(), Map.of());
        byte[] stale = repo.timestamp(snapshot, repo.snapshotVersion, NOW.minusSeconds(1));

        refused(() -> trusted.updateTimestamp(stale), MetadataProblem.EXPIRED);
    }

    @Test
    void refusesOlderTimestampsSnapshotsAndTargets() throws Exception {
        TrustedMetadata trusted = TrustedMetadata.pin(repo.root(), clock);
        byte[] targetsV1 = repo.targets("AcmeOS", "1.0");
        byte[] snapshotV1 = repo.snapshot(Map.of("AcmeOS", targetsV1), Map.of("AcmeOS", 1L));
        byte[] timestampV1 = repo.timestamp(snapshotV1, 1, NOW.plus(Duration.ofDays(1)));
        byte[] targetsV2 = repo.targets("AcmeOS", "1.0", "1.1");
        byte[] snapshotV2 = repo.snapshot(Map.of("AcmeOS", targetsV2), Map.of("AcmeOS", 2L));
        byte[] timestampV2 = repo.timestamp(snapshotV2, 2, NOW.plus(Duration.ofDays(1)));
        trusted.updateTimestamp(timestampV2);
        trusted.updateSnapshot(snapshotV2);
        trusted.updateTargets(targetsV2);

        refused(() -> trusted.updateTimestamp(timestampV1), MetadataProblem.ROLLED_BACK);
        // A fresh timestamp that pins the old snapshot: a rollback of the snapshot.
        byte[] timestampV3 = repo.timestamp(snapshotV1, 1, NOW.plus(Duration.ofDays(1)));
        refused(() -> trusted.updateTimestamp(timestampV3), MetadataProblem.ROLLED_BACK);
        // A new snapshot version that lists the old targets: a rollback of the product's releases.
        byte[] snapshotV3 = repo.snapshot(Map.of("AcmeOS", targetsV1), Map.of("AcmeOS", 1L));
        trusted.updateTimestamp(repo.timestamp(snapshotV3, 3, NOW.plus(Duration.ofDays(1))));
        refused(() -> trusted.updateSnapshot(snapshotV3), MetadataProblem.ROLLED_BACK);
        assertThat(trusted.release("AcmeOS", "1.1").getRelease()).isEqualTo("1.1");
    }

    @Test
    void refusesDocumentsFromAnotherMomentThanTheOnesThatPinThem() throws Exception {
        TrustedMetadata trusted = TrustedMetadata.pin(repo.root(), clock);
        byte[] targetsV1 = repo.targets("AcmeOS", "1.0");
        byte[] snapshotV1 = repo.snapshot(Map.of("AcmeOS", targetsV1), Map.of("AcmeOS", 1L));
        byte[] targetsV2 = repo.targets("AcmeOS", "1.0", "1.1");
        byte[] snapshotV2 = repo.snapshot(Map.of("AcmeOS", targetsV2), Map.of("AcmeOS", 2L));
        trusted.updateTimestamp(repo.timestamp(snapshotV2, 2, NOW.plus(Duration.ofDays(1))));

        refused(() -> trusted.updateSnapshot(snapshotV1), MetadataProblem.MISMATCHED);
        trusted.updateSnapshot(snapshotV2);
        refused(() -> trusted.updateTargets(targetsV1), MetadataProblem.MISMATCHED);
        refused(() -> trusted.updateTargets(repo.targets("Other", "9")), MetadataProblem.NOT_LISTED);
        refused(() -> trusted.targets("AcmeOS"), MetadataProblem.NOT_LISTED);
    }

    @Test
    void rotatesTheRootOnlyWithTheOldAndTheNewRootKeys() throws Exception {
        TrustedMetadata trusted = TrustedMetadata.pin(repo.root(), clock);
        List<SigningKey> oldRoot = repo.keys.get(Role.ROOT);
        List<SigningKey> oldTimestamp = repo.keys.get(Role.TIMESTAMP);
        SigningKey newRoot = SigningKey.generate();
        SigningKey newTimestamp = SigningKey.generate();
        repo.keys.put(Role.ROOT, List.of(newRoot));
        repo.keys.put(Role.TIMESTAMP, List.of(newTimestamp));
        RootMetadata v2 = repo.rootDocument(2);

        refused(
                () -> trusted.updateRoot(MetadataSigning.sign(v2, Role.ROOT, List.of(newRoot))),
                MetadataProblem.UNKNOWN_KEY);
        refused(() -> trusted.updateRoot(MetadataSigning.sign(v2, Role.ROOT, oldRoot)), MetadataProblem.UNKNOWN_KEY);
        refused(
                () -> trusted.updateRoot(
                        MetadataSigning.sign(repo.rootDocument(3), Role.ROOT, List.of(oldRoot.get(0), newRoot))),
                MetadataProblem.MISMATCHED);
        trusted.updateRoot(MetadataSigning.sign(v2, Role.ROOT, List.of(oldRoot.get(0), newRoot)));

        assertThat(trusted.root().getVersion()).isEqualTo(2);
        refused(
                () -> trusted.updateRoot(MetadataSigning.sign(v2, Role.ROOT, List.of(newRoot))),
                MetadataProblem.ROLLED_BACK);
        // The timestamp key changed: documents signed by the old one are refused, the new one's are taken.
        byte[] snapshot = repo.snapshot(Map.of(), Map.of());
        byte[] byOldKey = MetadataSigning.sign(
                EventCodec.of(TimestampMetadata.class)
                        .decode(bytes(EventCodec.of(SignedMetadata.class)
                                .decode(repo.timestamp(snapshot, 1, NOW.plus(Duration.ofDays(1)))))),
                Role.TIMESTAMP,
                oldTimestamp);
        refused(() -> trusted.updateTimestamp(byOldKey), MetadataProblem.UNKNOWN_KEY);
        trusted.updateTimestamp(repo.timestamp(snapshot, 1, NOW.plus(Duration.ofDays(1))));
    }

    @Test
    void aThresholdNeedsThatManyDistinctKeys() throws Exception {
        SigningKey second = SigningKey.generate();
        SigningKey first = repo.keys.get(Role.TIMESTAMP).get(0);
        repo.keys.put(Role.TIMESTAMP, List.of(first, second));
        repo.thresholds.put(Role.TIMESTAMP, 2);
        TrustedMetadata trusted = TrustedMetadata.pin(repo.root(), clock);
        byte[] snapshot = repo.snapshot(Map.of(), Map.of());
        TimestampMetadata document = EventCodec.of(TimestampMetadata.class)
                .decode(bytes(EventCodec.of(SignedMetadata.class)
                        .decode(repo.timestamp(snapshot, 1, NOW.plus(Duration.ofDays(1))))));

        refused(
                () -> trusted.updateTimestamp(MetadataSigning.sign(document, Role.TIMESTAMP, List.of(first))),
                MetadataProblem.THRESHOLD_NOT_MET);
        // The same key twice is still one key.
        byte[] once = MetadataSigning.sign(document, Role.TIMESTAMP, List.of(first));
        SignedMetadata signed = EventCodec.of(SignedMetadata.class).decode(once);
        byte[] twice = EventCodec.of(SignedMetadata.class)
                .encode(SignedMetadata.newBuilder(signed)
                        .setSignatures(List.of(
                                signed.getSignatures().get(0),
                                signed.getSignatures().get(0)))
                        .build());
        refused(() -> trusted.updateTimestamp(twice), MetadataProblem.THRESHOLD_NOT_MET);
        trusted.updateTimestamp(MetadataSigning.sign(document, Role.TIMESTAMP, List.of(first, second)));
    }

    @Test
    void licensesAreBoundToTheirHostAndSignedByTheLicensesRole() throws Exception {
        TrustedMetadata trusted = TrustedMetadata.pin(repo.root(), clock);
        License document = repo.licenseDocument("host-a");
        byte[] license = MetadataSigning.sign(document, Role.LICENSES, repo.keys.get(Role.LICENSES));

        assertThat(trusted.verifyLicense(license, "host-a").getFeatures()).containsExactly("beta");
        refused(() -> trusted.verifyLicense(license, "host-b"), MetadataProblem.WRONG_TARGET);
        refused(
                () -> trusted.verifyLicense(
                        MetadataSigning.sign(document, Role.LICENSES, repo.keys.get(Role.TARGETS)), "host-a"),
                MetadataProblem.UNKNOWN_KEY);
        refused(() -> trusted.verifyLicense(TestRepository.tamper(license), "host-a"), MetadataProblem.BAD_SIGNATURE);
        assertThat(LicenseTerms.standing(document, NOW.plus(Duration.ofHours(1))))
                .isEqualTo(LicenseTerms.Standing.ACTIVE);
        assertThat(LicenseTerms.standing(document, NOW.plus(Duration.ofDays(2))))
                .isEqualTo(LicenseTerms.Standing.GRACE);
        assertThat(LicenseTerms.standing(document, NOW.plus(Duration.ofDays(5))))
                .isEqualTo(LicenseTerms.Standing.EXPIRED);
        assertThat(LicenseTerms.standing(
                        License.newBuilder(document).setRevoked(true).build(), NOW.plus(Duration.ofHours(1))))
                .isEqualTo(LicenseTerms.Standing.REVOKED);
    }

    @Test
    void aDomainDefinitionMustComeFromItsReleasesTemplateAndBeForThisHost() throws Exception {
        TrustedMetadata trusted = TrustedMetadata.pin(repo.root(), clock);
        byte[] targets = repo.targets("AcmeOS", "1.0");
        byte[] snapshot = repo.snapshot(Map.of("AcmeOS", targets), Map.of("AcmeOS", 1L));
        trusted.updateTimestamp(repo.timestamp(snapshot, 1, NOW.plus(Duration.ofDays(1))));
        trusted.updateSnapshot(snapshot);
        trusted.updateTargets(targets);
        DomainDefinition domain = DomainDefinition.newBuilder()
                .setProduct("AcmeOS")
                .setRelease("1.0")
                .setTemplateSha256("cd".repeat(32))
                .setHostId("host-a")
                .setVmUuid("0b4c1f3e-7c1a-4f59-9c1e-2a1d3c4b5e6f")
                .setVmName("acmeos")
                .setParameters(List.of())
                .setDomainXml("<domain/>")
                .setIssuedAt(Instant.EPOCH)
                .build();

        byte[] signed = MetadataSigning.sign(domain, Role.TARGETS, repo.keys.get(Role.TARGETS));
        assertThat(trusted.verifyDomain(signed, "host-a").getVmName()).isEqualTo("acmeos");
        refused(() -> trusted.verifyDomain(signed, "host-b"), MetadataProblem.WRONG_TARGET);
        byte[] otherTemplate = MetadataSigning.sign(
                DomainDefinition.newBuilder(domain)
                        .setTemplateSha256("ee".repeat(32))
                        .build(),
                Role.TARGETS,
                repo.keys.get(Role.TARGETS));
        refused(() -> trusted.verifyDomain(otherTemplate, "host-a"), MetadataProblem.MISMATCHED);
    }

    @Test
    void restoresWhatItTrustedFromStoredBytes() throws Exception {
        TrustedMetadata trusted = TrustedMetadata.pin(repo.root(), clock);
        byte[] targets = repo.targets("AcmeOS", "1.0");
        byte[] snapshot = repo.snapshot(Map.of("AcmeOS", targets), Map.of("AcmeOS", 1L));
        byte[] timestamp = repo.timestamp(snapshot, 1, NOW.plus(Duration.ofDays(1)));
        trusted.updateTimestamp(timestamp);
        trusted.updateSnapshot(snapshot);
        trusted.updateTargets(targets);

        TrustedMetadata restored = TrustedMetadata.restore(
                trusted.rootBytes(),
                trusted.timestampBytes(),
                trusted.snapshotBytes(),
                trusted.targetsBytes(),
                Clock.fixed(NOW.plus(Duration.ofDays(3)), ZoneOffset.UTC));

        assertThat(restored.release("AcmeOS", "1.0").getRelease()).isEqualTo("1.0");
        // A stored timestamp may since have expired: restoring keeps it, and the next one must be current.
        refused(
                () -> restored.updateTimestamp(repo.timestamp(snapshot, 1, NOW.plus(Duration.ofDays(1)))),
                MetadataProblem.EXPIRED);
    }

    private static byte[] bytes(SignedMetadata signed) {
        return dev.vigil.schemas.CommandSignatures.bytes(signed.getBody());
    }

    private static void refused(ThrowingCallable call, MetadataProblem problem) {
        assertThatThrownBy(call)
                .isInstanceOf(MetadataException.class)
                .satisfies(e -> assertThat(((MetadataException) e).problem())
                        .as(e.getMessage())
                        .isEqualTo(problem));
    }
}
