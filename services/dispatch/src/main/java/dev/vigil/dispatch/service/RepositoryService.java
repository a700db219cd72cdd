package dev.vigil.dispatch.service;

import dev.vigil.dispatch.config.DispatchConfig;
import dev.vigil.dispatch.domain.Release;
import dev.vigil.dispatch.domain.TemplateParameter;
import dev.vigil.dispatch.persistence.Database;
import dev.vigil.dispatch.persistence.MetadataRepository;
import dev.vigil.dispatch.persistence.MetadataRepository.Stored;
import dev.vigil.dispatch.persistence.ProductRepository;
import dev.vigil.dispatch.persistence.ReleaseRepository;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.delivery.ChannelHead;
import dev.vigil.schemas.delivery.ImageFormat;
import dev.vigil.schemas.delivery.MetaFile;
import dev.vigil.schemas.delivery.MetadataSigning;
import dev.vigil.schemas.delivery.ParameterKind;
import dev.vigil.schemas.delivery.ReleaseParameter;
import dev.vigil.schemas.delivery.ReleaseTarget;
import dev.vigil.schemas.delivery.Role;
import dev.vigil.schemas.delivery.RoleKeys;
import dev.vigil.schemas.delivery.RootMetadata;
import dev.vigil.schemas.delivery.SignedMetadata;
import dev.vigil.schemas.delivery.SigningKey;
import dev.vigil.schemas.delivery.SnapshotMetadata;
import dev.vigil.schemas.delivery.TargetFile;
import dev.vigil.schemas.delivery.TargetsMetadata;
import dev.vigil.schemas.delivery.TimestampMetadata;
import dev.vigil.schemas.delivery.VendorKey;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.jboss.logging.Logger;

/**
 * The delivery repository agents read, after The Update Framework: a root that names every key, a targets document
 * per product listing its published releases, a snapshot pinning every targets document, and a short-lived
 * timestamp pinning the snapshot. Every change signs new versions of what it touches under one PostgreSQL advisory
 * lock, so replicas never sign two documents with the same version; expiring documents are re-signed on a schedule.
 */
@ApplicationScoped
public class RepositoryService {

    static final String ROOT = "root";
    static final String SNAPSHOT = "snapshot";
    static final String TIMESTAMP = "timestamp";
    private static final Logger LOG = Logger.getLogger(RepositoryService.class);
    private static final List<Role> ROLES =
            List.of(Role.ROOT, Role.TARGETS, Role.SNAPSHOT, Role.TIMESTAMP, Role.COMMANDS, Role.LICENSES);

    private final Database db;
    private final Keyring keys;
    private final DispatchConfig.Expiry expiry;
    private final Clock clock = Clock.systemUTC();

    RepositoryService(Database db, Keyring keys, DispatchConfig config) {
        this.db = db;
        this.keys = keys;
        this.expiry = config.dispatch().expiry();
    }

    void onStart(@Observes StartupEvent event) {
        db.transaction(c -> {
            MetadataRepository.lock(c);
            if (MetadataRepository.latest(c, Role.ROOT.name(), ROOT) == null) {
                RootMetadata root = firstRoot();
                insert(c, Role.ROOT, ROOT, root.getVersion(), root, root.getExpiresAt(), keys.signers(root, Role.ROOT));
                signSnapshotAndTimestamp(c, root);
                LOG.infof(
                        "delivery repository created: root v1 with keys %s",
                        root.getKeys().stream().map(VendorKey::getKeyId).toList());
            } else {
                RootMetadata root = root(c);
                for (Role role : ROLES) {
                    keys.signers(root, role);
                }
            }
            return null;
        });
    }

    /** The current root. */
    public RootMetadata root() {
        return db.read(this::root);
    }

    RootMetadata root(Connection c) throws SQLException {
        return decode(MetadataRepository.latest(c, Role.ROOT.name(), ROOT), RootMetadata.class);
    }

    /** The held keys the current root gives {@code role}. */
    public List<SigningKey> signers(Connection c, Role role) throws SQLException {
        return keys.signers(root(c), role);
    }

    /** The newest version of a document; null when there is none. */
    public Stored latest(Role role, String name) {
        return db.read(c -> MetadataRepository.latest(c, role.name(), name));
    }

    /** A given version of a document; null when there is none. */
    public Stored version(Role role, String name, long version) {
        return db.read(c -> MetadataRepository.version(c, role.name(), name, version));
    }

    /**
     * Signs new targets for {@code products} from their published releases and channel heads, then a new snapshot and
     * timestamp. Runs inside the caller's transaction, which has changed those releases.
     */
    public void publish(Connection c, Collection<String> products) throws SQLException {
        MetadataRepository.lock(c);
        RootMetadata root = root(c);
        for (String product : new TreeSet<>(products)) {
            signTargets(c, root, product);
        }
        signSnapshotAndTimestamp(c, root);
    }

    /**
     * Gives {@code role} new keys (held by dispatch) and threshold in a new root version, signed by the current root
     * keys and the new root's, and re-signs what the new keys now sign.
     */
    public RootMetadata rotate(Role role, List<String> keyIds, int threshold) {
        return db.transaction(c -> {
            MetadataRepository.lock(c);
            RootMetadata current = root(c);
            Map<Role, RoleKeys> roles = new EnumMap<>(Role.class);
            current.getRoles().forEach(r -> roles.put(r.getRole(), r));
            roles.put(
                    role,
                    RoleKeys.newBuilder()
                            .setRole(role)
                            .setKeyIds(keyIds.stream().sorted().distinct().toList())
                            .setThreshold(threshold)
                            .build());
            RootMetadata next = rootDocument(current.getVersion() + 1, roles);
            List<SigningKey> signers = new ArrayList<>(keys.signers(current, Role.ROOT));
            for (SigningKey key : keys.signers(next, Role.ROOT)) {
                if (!signers.contains(key)) {
                    signers.add(key);
                }
            }
            for (Role checked : ROLES) {
                keys.signers(next, checked);
            }
            insert(c, Role.ROOT, ROOT, next.getVersion(), next, next.getExpiresAt(), signers);
            if (role == Role.TARGETS) {
                for (var product : ProductRepository.all(c)) {
                    signTargets(c, next, product.id());
                }
            }
            signSnapshotAndTimestamp(c, next);
            LOG.infof("root v%d: %s keys %s, threshold %d", next.getVersion(), role, keyIds, threshold);
            return next;
        });
    }

    /** Re-signs documents with less than half their lifetime left, so agents never see them expire. */
    @Scheduled(
            every = "${vigil.dispatch.expiry.refresh-every}",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void refresh() {
        db.transaction(c -> {
            MetadataRepository.lock(c);
            Stored currentRoot = MetadataRepository.latest(c, Role.ROOT.name(), ROOT);
            if (currentRoot == null) {
                // The first run can come before start-up has created the repository; there is nothing to re-sign.
                return null;
            }
            RootMetadata root = root(c);
            Instant now = clock.instant();
            boolean changed = false;
            if (expiring(currentRoot, expiry.root(), now)) {
                Map<Role, RoleKeys> roles = new EnumMap<>(Role.class);
                root.getRoles().forEach(r -> roles.put(r.getRole(), r));
                RootMetadata next = rootDocument(root.getVersion() + 1, roles);
                insert(c, Role.ROOT, ROOT, next.getVersion(), next, next.getExpiresAt(), keys.signers(root, Role.ROOT));
                root = next;
            }
            for (Stored targets : MetadataRepository.latestOfRole(c, Role.TARGETS.name())) {
                if (expiring(targets, expiry.targets(), now)) {
                    signTargets(c, root, targets.name());
                    changed = true;
                }
            }
            Stored snapshot = MetadataRepository.latest(c, Role.SNAPSHOT.name(), SNAPSHOT);
            Stored timestamp = MetadataRepository.latest(c, Role.TIMESTAMP.name(), TIMESTAMP);
            if (changed || expiring(snapshot, expiry.snapshot(), now)) {
                signSnapshotAndTimestamp(c, root);
            } else if (expiring(timestamp, expiry.timestamp(), now)) {
                signTimestamp(c, root);
            }
            return null;
        });
    }

    private static boolean expiring(Stored document, Duration lifetime, Instant now) {
        return document == null || !now.plus(lifetime.dividedBy(2)).isBefore(document.expiresAt());
    }

    private RootMetadata firstRoot() {
        Map<Role, RoleKeys> roles = new EnumMap<>(Role.class);
        for (Role role : ROLES) {
            roles.put(
                    role,
                    RoleKeys.newBuilder()
                            .setRole(role)
                            .setKeyIds(keys.configured(role).stream()
                                    .map(SigningKey::keyId)
                                    .sorted()
                                    .distinct()
                                    .toList())
                            .setThreshold(1)
                            .build());
        }
        return rootDocument(1, roles);
    }

    private RootMetadata rootDocument(long version, Map<Role, RoleKeys> roles) {
        Map<String, VendorKey> vendorKeys = new LinkedHashMap<>();
        for (RoleKeys roleKeys : roles.values()) {
            for (String id : roleKeys.getKeyIds()) {
                SigningKey key = keys.byId(id);
                if (key == null) {
                    throw new MissingKeysException("key " + id + " for " + roleKeys.getRole()
                            + " is not configured in dispatch: add it to vigil.dispatch.keys first");
                }
                vendorKeys.put(id, key.vendorKey());
            }
        }
        Instant now = clock.instant();
        return RootMetadata.newBuilder()
                .setVersion(version)
                .setIssuedAt(now)
                .setExpiresAt(now.plus(expiry.root()))
                .setKeys(vendorKeys.values().stream()
                        .sorted(Comparator.comparing(VendorKey::getKeyId))
                        .toList())
                .setRoles(ROLES.stream().map(roles::get).toList())
                .build();
    }

    private void signTargets(Connection c, RootMetadata root, String product) throws SQLException {
        Stored previous = MetadataRepository.latest(c, Role.TARGETS.name(), product);
        long version = previous == null ? 1 : previous.version() + 1;
        Instant now = clock.instant();
        List<ReleaseTarget> releases = new ArrayList<>();
        for (Release release : ReleaseRepository.published(c, product)) {
            releases.add(target(release));
        }
        List<ChannelHead> channels = new ArrayList<>();
        ReleaseRepository.channelHeads(c, product)
                .forEach((channel, release) -> channels.add(ChannelHead.newBuilder()
                        .setChannel(channel)
                        .setRelease(release)
                        .build()));
        TargetsMetadata document = TargetsMetadata.newBuilder()
                .setProduct(product)
                .setVersion(version)
                .setIssuedAt(now)
                .setExpiresAt(now.plus(expiry.targets()))
                .setReleases(releases)
                .setChannels(channels)
                .build();
        insert(c, Role.TARGETS, product, version, document, document.getExpiresAt(), keys.signers(root, Role.TARGETS));
    }

    private void signSnapshotAndTimestamp(Connection c, RootMetadata root) throws SQLException {
        Stored previous = MetadataRepository.latest(c, Role.SNAPSHOT.name(), SNAPSHOT);
        long version = previous == null ? 1 : previous.version() + 1;
        List<MetaFile> targets = new ArrayList<>();
        for (Stored document : MetadataRepository.latestOfRole(c, Role.TARGETS.name())) {
            targets.add(MetadataSigning.metaFile(document.name(), document.version(), document.body()));
        }
        Instant now = clock.instant();
        SnapshotMetadata snapshot = SnapshotMetadata.newBuilder()
                .setVersion(version)
                .setIssuedAt(now)
                .setExpiresAt(now.plus(expiry.snapshot()))
                .setTargets(targets)
                .build();
        insert(
                c,
                Role.SNAPSHOT,
                SNAPSHOT,
                version,
                snapshot,
                snapshot.getExpiresAt(),
                keys.signers(root, Role.SNAPSHOT));
        signTimestamp(c, root);
    }

    private void signTimestamp(Connection c, RootMetadata root) throws SQLException {
        Stored snapshot = MetadataRepository.latest(c, Role.SNAPSHOT.name(), SNAPSHOT);
        Stored previous = MetadataRepository.latest(c, Role.TIMESTAMP.name(), TIMESTAMP);
        long version = previous == null ? 1 : previous.version() + 1;
        Instant now = clock.instant();
        TimestampMetadata timestamp = TimestampMetadata.newBuilder()
                .setVersion(version)
                .setIssuedAt(now)
                .setExpiresAt(now.plus(expiry.timestamp()))
                .setSnapshot(MetadataSigning.metaFile(SNAPSHOT, snapshot.version(), snapshot.body()))
                .build();
        insert(
                c,
                Role.TIMESTAMP,
                TIMESTAMP,
                version,
                timestamp,
                timestamp.getExpiresAt(),
                keys.signers(root, Role.TIMESTAMP));
    }

    private static <T extends org.apache.avro.specific.SpecificRecord> void insert(
            Connection c, Role role, String name, long version, T document, Instant expiresAt, List<SigningKey> signers)
            throws SQLException {
        byte[] signed = MetadataSigning.sign(document, role, signers);
        MetadataRepository.insert(
                c, new Stored(role.name(), name, version, signed, MetadataSigning.sha256(signed), expiresAt));
    }

    private static ReleaseTarget target(Release release) {
        List<ReleaseParameter> parameters = new ArrayList<>();
        for (TemplateParameter p : release.parameters()) {
            parameters.add(ReleaseParameter.newBuilder()
                    .setName(p.name())
                    .setKind(ParameterKind.valueOf(p.kind().name()))
                    .setDefaultValue(p.defaultValue())
                    .setMin(p.min())
                    .setMax(p.max())
                    .setMaxLength(p.maxLength())
                    .setChoices(p.choices())
                    .setDescription(p.description())
                    .build());
        }
        return ReleaseTarget.newBuilder()
                .setRelease(release.version())
                .setChannel(release.channel())
                .setFormat(ImageFormat.valueOf(release.format()))
                .setImageSize(release.imageSize())
                .setImageSha256(release.imageSha256())
                .setVirtualSize(release.virtualSize())
                .setManifest(TargetFile.newBuilder()
                        .setPath(manifestPath(release.product(), release.version()))
                        .setLength(release.manifestLength())
                        .setSha256(release.manifestSha256())
                        .build())
                .setTemplateSha256(release.templateSha256())
                .setParameters(parameters)
                .setNotes(release.notes())
                .setPublishedAt(release.publishedAt())
                .build();
    }

    private static <T extends org.apache.avro.specific.SpecificRecord> T decode(Stored stored, Class<T> type) {
        SignedMetadata signed = EventCodec.of(SignedMetadata.class).decode(stored.body());
        return EventCodec.of(type).decode(dev.vigil.schemas.CommandSignatures.bytes(signed.getBody()));
    }

    /** Where agents fetch a release's image manifest. */
    static String manifestPath(String product, String release) {
        return "/api/v1/agent/repository/images/" + product + "/" + release + "/manifest";
    }
}
