package dev.vigil.schemas.delivery;

import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What an agent trusts of a vendor's delivery repository, and the update rules that keep it honest, after The
 * Update Framework: a pinned root that may only be replaced by the next version signed by both the old and the new
 * root keys; a short-lived timestamp that pins the snapshot (an expired one means the repository is frozen); a
 * snapshot that pins every product's targets document (so documents from different moments cannot be mixed); and
 * versions that never go back. Every refusal is a {@link MetadataException} with its {@link MetadataProblem}.
 *
 * <p>Not thread-safe: one updater per agent. The bytes of what is trusted are kept so they can be stored and
 * restored with {@link #restore}.
 */
public final class TrustedMetadata {

    private final Clock clock;
    private RootMetadata root;
    private byte[] rootBytes;
    private TimestampMetadata timestamp;
    private byte[] timestampBytes;
    private SnapshotMetadata snapshot;
    private byte[] snapshotBytes;
    private final Map<String, TargetsMetadata> targets = new HashMap<>();
    private final Map<String, byte[]> targetsBytes = new HashMap<>();

    private TrustedMetadata(Clock clock) {
        this.clock = clock;
    }

    /**
     * Trusts {@code rootBytes} as the root of trust: the caller established out of band that these are the vendor's
     * (an enrolment token's root hash, or a root shipped with the agent). The root must still be signed by a
     * threshold of its own root keys; its expiry is checked when the repository is read ({@link #updateTimestamp}).
     */
    public static TrustedMetadata pin(byte[] rootBytes, Clock clock) throws MetadataException {
        TrustedMetadata trusted = new TrustedMetadata(clock);
        RootMetadata root = MetadataSigning.verifyRoot(rootBytes);
        trusted.root = root;
        trusted.rootBytes = rootBytes.clone();
        return trusted;
    }

    /** Trust restored from stored bytes: the root is pinned, then each stored document is checked again in order. */
    public static TrustedMetadata restore(
            byte[] rootBytes, byte[] timestampBytes, byte[] snapshotBytes, List<byte[]> targetsDocuments, Clock clock)
            throws MetadataException {
        TrustedMetadata trusted = pin(rootBytes, clock);
        if (timestampBytes != null) {
            trusted.acceptTimestamp(timestampBytes, false);
            if (snapshotBytes != null) {
                trusted.acceptSnapshot(snapshotBytes, false);
                for (byte[] document : targetsDocuments) {
                    trusted.acceptTargets(document, false);
                }
            }
        }
        return trusted;
    }

    public RootMetadata root() {
        return root;
    }

    public byte[] rootBytes() {
        return rootBytes.clone();
    }

    /** The trusted timestamp's bytes, or null before the first update. */
    public byte[] timestampBytes() {
        return timestampBytes == null ? null : timestampBytes.clone();
    }

    /** The trusted snapshot's bytes, or null before the first update. */
    public byte[] snapshotBytes() {
        return snapshotBytes == null ? null : snapshotBytes.clone();
    }

    /** Every trusted targets document's bytes. */
    public List<byte[]> targetsBytes() {
        return targetsBytes.values().stream().map(byte[]::clone).toList();
    }

    /**
     * Replaces the root with its next version. It must be exactly one version newer and signed by a threshold of the
     * current root keys and of its own. If it changes the timestamp or snapshot keys, trusted timestamp and snapshot
     * are forgotten, so a repository whose old keys leaked can be recovered.
     */
    public RootMetadata updateRoot(byte[] nextBytes) throws MetadataException {
        RootMetadata next = MetadataSigning.verify(nextBytes, Role.ROOT, root, RootMetadata.class);
        if (next.getVersion() <= root.getVersion()) {
            throw new MetadataException(
                    MetadataProblem.ROLLED_BACK,
                    "root v" + next.getVersion() + " is not newer than the trusted v" + root.getVersion());
        }
        if (next.getVersion() != root.getVersion() + 1) {
            throw new MetadataException(
                    MetadataProblem.MISMATCHED,
                    "root v" + next.getVersion() + " skips versions after the trusted v" + root.getVersion());
        }
        MetadataSigning.verify(nextBytes, Role.ROOT, next, RootMetadata.class);
        boolean onlineKeysChanged = !keysOf(root, Role.TIMESTAMP).equals(keysOf(next, Role.TIMESTAMP))
                || !keysOf(root, Role.SNAPSHOT).equals(keysOf(next, Role.SNAPSHOT));
        root = next;
        rootBytes = nextBytes.clone();
        if (onlineKeysChanged) {
            timestamp = null;
            timestampBytes = null;
            snapshot = null;
            snapshotBytes = null;
        }
        return next;
    }

    /** Accepts a newer (or the same) timestamp; it must not be expired, nor point to an older snapshot. */
    public TimestampMetadata updateTimestamp(byte[] bytes) throws MetadataException {
        checkNotExpired("root", root.getVersion(), root.getExpiresAt());
        return acceptTimestamp(bytes, true);
    }

    /** Accepts the snapshot the trusted timestamp pins. */
    public SnapshotMetadata updateSnapshot(byte[] bytes) throws MetadataException {
        if (timestamp == null) {
            throw new MetadataException(MetadataProblem.NOT_LISTED, "no trusted timestamp pins a snapshot yet");
        }
        return acceptSnapshot(bytes, true);
    }

    /** Accepts a product's targets document as the trusted snapshot pins it. */
    public TargetsMetadata updateTargets(byte[] bytes) throws MetadataException {
        if (snapshot == null) {
            throw new MetadataException(MetadataProblem.NOT_LISTED, "no trusted snapshot pins targets yet");
        }
        return acceptTargets(bytes, true);
    }

    /** The trusted targets document of {@code product}. */
    public TargetsMetadata targets(String product) throws MetadataException {
        TargetsMetadata document = targets.get(product);
        if (document == null) {
            throw new MetadataException(MetadataProblem.NOT_LISTED, "no trusted targets for product " + product);
        }
        checkNotExpired("targets " + product, document.getVersion(), document.getExpiresAt());
        return document;
    }

    /** A published release of {@code product}, as trusted targets list it. */
    public ReleaseTarget release(String product, String release) throws MetadataException {
        return targets(product).getReleases().stream()
                .filter(r -> r.getRelease().equals(release))
                .findFirst()
                .orElseThrow(() -> new MetadataException(
                        MetadataProblem.NOT_LISTED, "release " + release + " of " + product + " is not published"));
    }

    /** The release {@code channel} of {@code product} offers to new installations. */
    public ReleaseTarget channelHead(String product, String channel) throws MetadataException {
        TargetsMetadata document = targets(product);
        String release = document.getChannels().stream()
                .filter(c -> c.getChannel().equals(channel))
                .map(ChannelHead::getRelease)
                .findFirst()
                .orElseThrow(() -> new MetadataException(
                        MetadataProblem.NOT_LISTED, "channel " + channel + " of " + product + " offers no release"));
        return release(product, release);
    }

    /** An image manifest, checked against the length and hash the release's target pins. */
    public ImageManifest verifyManifest(String product, String release, byte[] bytes) throws MetadataException {
        ReleaseTarget target = release(product, release);
        TargetFile pinned = target.getManifest();
        if (bytes.length != pinned.getLength() || !MetadataSigning.sha256(bytes).equals(pinned.getSha256())) {
            throw new MetadataException(
                    MetadataProblem.MISMATCHED,
                    "the manifest of " + product + " " + release + " is not the one its targets entry pins");
        }
        ImageManifest manifest = ImageManifests.decode(bytes);
        if (!manifest.getProduct().equals(product)
                || !manifest.getRelease().equals(release)
                || manifest.getSize() != target.getImageSize()
                || !manifest.getSha256().equals(target.getImageSha256())) {
            throw new MetadataException(
                    MetadataProblem.WRONG_TARGET, "the manifest describes another image than its targets entry");
        }
        return manifest;
    }

    /** A license for this host, signed by the licenses role. Whether it still allows running is its terms' call. */
    public License verifyLicense(byte[] bytes, String hostId) throws MetadataException {
        License license = MetadataSigning.verify(bytes, Role.LICENSES, root, License.class);
        if (!license.getHostId().equals(hostId)) {
            throw new MetadataException(
                    MetadataProblem.WRONG_TARGET,
                    "license " + license.getLicenseId() + " is for host " + license.getHostId() + ", not " + hostId);
        }
        return license;
    }

    /** A domain definition rendered for this host from a published release's template, signed by targets. */
    public DomainDefinition verifyDomain(byte[] bytes, String hostId) throws MetadataException {
        DomainDefinition domain = MetadataSigning.verify(bytes, Role.TARGETS, root, DomainDefinition.class);
        if (!domain.getHostId().equals(hostId)) {
            throw new MetadataException(
                    MetadataProblem.WRONG_TARGET,
                    "the definition is for host " + domain.getHostId() + ", not " + hostId);
        }
        ReleaseTarget release = release(domain.getProduct(), domain.getRelease());
        if (!release.getTemplateSha256().equals(domain.getTemplateSha256())) {
            throw new MetadataException(
                    MetadataProblem.MISMATCHED,
                    "the definition was rendered from another template than release " + domain.getRelease() + "'s");
        }
        return domain;
    }

    private TimestampMetadata acceptTimestamp(byte[] bytes, boolean checkExpiry) throws MetadataException {
        TimestampMetadata next = MetadataSigning.verify(bytes, Role.TIMESTAMP, root, TimestampMetadata.class);
        if (timestamp != null) {
            if (next.getVersion() < timestamp.getVersion()) {
                throw new MetadataException(
                        MetadataProblem.ROLLED_BACK,
                        "timestamp v" + next.getVersion() + " is older than the trusted v" + timestamp.getVersion());
            }
            if (next.getVersion() == timestamp.getVersion() && !Arrays.equals(bytes, timestampBytes)) {
                throw new MetadataException(
                        MetadataProblem.MISMATCHED,
                        "timestamp v" + next.getVersion() + " differs from the trusted one");
            }
        }
        if (snapshot != null && next.getSnapshot().getVersion() < snapshot.getVersion()) {
            throw new MetadataException(
                    MetadataProblem.ROLLED_BACK,
                    "timestamp pins snapshot v" + next.getSnapshot().getVersion() + ", older than the trusted v"
                            + snapshot.getVersion());
        }
        if (checkExpiry) {
            checkNotExpired("timestamp", next.getVersion(), next.getExpiresAt());
        }
        timestamp = next;
        timestampBytes = bytes.clone();
        return next;
    }

    private SnapshotMetadata acceptSnapshot(byte[] bytes, boolean checkExpiry) throws MetadataException {
        checkPinned("snapshot", bytes, timestamp.getSnapshot());
        SnapshotMetadata next = MetadataSigning.verify(bytes, Role.SNAPSHOT, root, SnapshotMetadata.class);
        if (next.getVersion() != timestamp.getSnapshot().getVersion()) {
            throw new MetadataException(
                    MetadataProblem.MISMATCHED,
                    "snapshot v" + next.getVersion() + " is not the v"
                            + timestamp.getSnapshot().getVersion() + " the timestamp pins");
        }
        if (snapshot != null) {
            for (MetaFile known : snapshot.getTargets()) {
                MetaFile now = find(next.getTargets(), known.getName());
                if (now == null || now.getVersion() < known.getVersion()) {
                    throw new MetadataException(
                            MetadataProblem.ROLLED_BACK,
                            "snapshot v" + next.getVersion() + " takes targets " + known.getName() + " back from v"
                                    + known.getVersion());
                }
            }
        }
        if (checkExpiry) {
            checkNotExpired("snapshot", next.getVersion(), next.getExpiresAt());
        }
        snapshot = next;
        snapshotBytes = bytes.clone();
        // Targets the new snapshot pins differently are no longer current.
        targets.keySet().removeIf(product -> !pinsCurrent(product));
        targetsBytes.keySet().retainAll(targets.keySet());
        return next;
    }

    private TargetsMetadata acceptTargets(byte[] bytes, boolean checkExpiry) throws MetadataException {
        TargetsMetadata next = MetadataSigning.verify(bytes, Role.TARGETS, root, TargetsMetadata.class);
        MetaFile pinned = find(snapshot.getTargets(), next.getProduct());
        if (pinned == null) {
            throw new MetadataException(
                    MetadataProblem.NOT_LISTED, "the trusted snapshot lists no product " + next.getProduct());
        }
        checkPinned("targets " + next.getProduct(), bytes, pinned);
        if (next.getVersion() != pinned.getVersion()) {
            throw new MetadataException(
                    MetadataProblem.MISMATCHED,
                    "targets " + next.getProduct() + " v" + next.getVersion() + " is not the pinned v"
                            + pinned.getVersion());
        }
        if (checkExpiry) {
            checkNotExpired("targets " + next.getProduct(), next.getVersion(), next.getExpiresAt());
        }
        targets.put(next.getProduct(), next);
        targetsBytes.put(next.getProduct(), bytes.clone());
        return next;
    }

    private boolean pinsCurrent(String product) {
        MetaFile pinned = find(snapshot.getTargets(), product);
        return pinned != null && Objects.equals(MetadataSigning.sha256(targetsBytes.get(product)), pinned.getSha256());
    }

    private static void checkPinned(String what, byte[] bytes, MetaFile pinned) throws MetadataException {
        if (bytes.length != pinned.getLength() || !MetadataSigning.sha256(bytes).equals(pinned.getSha256())) {
            throw new MetadataException(
                    MetadataProblem.MISMATCHED,
                    what + " is not the document pinned as v" + pinned.getVersion() + " (length or hash differs)");
        }
    }

    private void checkNotExpired(String what, long version, Instant expiresAt) throws MetadataException {
        if (!clock.instant().isBefore(expiresAt)) {
            throw new MetadataException(MetadataProblem.EXPIRED, what + " v" + version + " expired at " + expiresAt);
        }
    }

    private static MetaFile find(List<MetaFile> files, String name) {
        return files.stream().filter(f -> f.getName().equals(name)).findFirst().orElse(null);
    }

    private static List<String> keysOf(RootMetadata root, Role role) {
        return root.getRoles().stream()
                .filter(r -> r.getRole() == role)
                .flatMap(r -> r.getKeyIds().stream())
                .sorted()
                .toList();
    }
}
