package dev.vigil.dispatch.service;

import dev.vigil.dispatch.config.DispatchConfig;
import dev.vigil.dispatch.domain.Command;
import dev.vigil.dispatch.domain.LicenseRecord;
import dev.vigil.dispatch.persistence.Database;
import dev.vigil.dispatch.persistence.LicenseRepository;
import dev.vigil.dispatch.persistence.ProductRepository;
import dev.vigil.schemas.agent.CommandAction;
import dev.vigil.schemas.delivery.License;
import dev.vigil.schemas.delivery.MetadataSigning;
import dev.vigil.schemas.delivery.Role;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * Licenses: signed documents binding a product to a host for a term, leased so that the vendor stays in control.
 * The agent renews its lease online; when it cannot, the license's grace period keeps the product running for a
 * while; revocation and extension are pushed to the host at once as a {@code RENEW_LICENSE} command carrying the new
 * document, and the next lease renewal says the same. Each document issued for a license has the next sequence.
 */
@ApplicationScoped
public class LicenseService {

    private static final Logger LOG = Logger.getLogger(LicenseService.class);
    static final Duration MAX_TERM = Duration.ofDays(3650);

    private final Database db;
    private final RepositoryService repository;
    private final CommandService commands;
    private final HostDirectory hosts;
    private final MeterRegistry metrics;
    private final DispatchConfig.Licenses config;
    // Whole milliseconds, as documents sign them: finer instants would come back rounded from PostgreSQL.
    private final Clock clock = Clock.tickMillis(ZoneOffset.UTC);

    LicenseService(
            Database db,
            RepositoryService repository,
            CommandService commands,
            HostDirectory hosts,
            MeterRegistry metrics,
            DispatchConfig config) {
        this.db = db;
        this.repository = repository;
        this.commands = commands;
        this.hosts = hosts;
        this.metrics = metrics;
        this.config = config.dispatch().licenses();
    }

    /** An operator's license for a known host. */
    public LicenseRecord issue(String product, String hostId, List<String> features, Duration term, String by) {
        if (term.isNegative() || term.isZero() || term.compareTo(MAX_TERM) > 0) {
            throw RefusedException.badRequest("Bad term", "a license term is 1 day to 10 years");
        }
        if (!hosts.known(hostId)) {
            throw RefusedException.unprocessable(
                    "Unknown host", "host " + hostId + " is neither enrolled nor seen by ingestion");
        }
        return db.transaction(c -> {
            if (ProductRepository.find(c, product) == null) {
                throw RefusedException.unprocessable("Unknown product", "no product " + product);
            }
            return issue(c, product, hostId, null, features, term, by);
        });
    }

    /** Issues a license in the caller's transaction (enrolment does). */
    LicenseRecord issue(
            Connection c,
            String product,
            String hostId,
            UUID enrolmentId,
            List<String> features,
            Duration term,
            String by)
            throws SQLException {
        Instant now = clock.instant();
        Instant validUntil = now.plus(term);
        Instant lease = min(now.plus(config.lease()), validUntil);
        LicenseRecord record = new LicenseRecord(
                UUID.randomUUID(),
                product,
                hostId,
                enrolmentId,
                features.stream().sorted().distinct().toList(),
                now,
                validUntil,
                config.lease().toSeconds(),
                config.grace().toSeconds(),
                1,
                lease,
                min(lease.plus(config.grace()), validUntil),
                null,
                by,
                now,
                null,
                null,
                null,
                null);
        record = withDocument(c, record, now);
        LicenseRepository.insert(c, record);
        metrics.counter("vigil.dispatch.licenses.issued").increment();
        LOG.infof("license %s for %s on %s until %s issued by %s", record.id(), product, hostId, validUntil, by);
        return record;
    }

    /**
     * The agent's lease renewal: a fresh lease within the term, or, for a revoked or ended license, the document
     * that says so. The signed document is the answer either way.
     */
    public byte[] renewLease(UUID id, String hostId) {
        return db.transaction(c -> {
            LicenseRecord license = LicenseRepository.find(c, id, true);
            if (license == null || !license.hostId().equals(hostId)) {
                throw RefusedException.notFound("Unknown license", "host " + hostId + " has no license " + id);
            }
            Instant now = clock.instant();
            if (license.revokedAt() != null || !now.isBefore(license.validUntil())) {
                metrics.counter("vigil.dispatch.licenses.renewals", "outcome", "refused")
                        .increment();
                return license.document();
            }
            LicenseRecord renewed = license.renewed(now);
            renewed = withDocument(c, renewed, now);
            LicenseRepository.update(c, renewed);
            metrics.counter("vigil.dispatch.licenses.renewals", "outcome", "renewed")
                    .increment();
            return renewed.document();
        });
    }

    /** Extends a license's term by {@code extension} (from now if it ended) and pushes the new document to its host. */
    public LicenseRecord extend(UUID id, Duration extension, String by) {
        if (extension.isNegative() || extension.isZero() || extension.compareTo(MAX_TERM) > 0) {
            throw RefusedException.badRequest("Bad extension", "an extension is 1 day to 10 years");
        }
        LicenseRecord extended = db.transaction(c -> {
            LicenseRecord license = existing(c, id);
            if (license.revokedAt() != null) {
                throw RefusedException.conflict("License revoked", "license " + id + " was revoked: issue a new one");
            }
            Instant now = clock.instant();
            Instant until = max(license.validUntil(), now).plus(extension);
            LicenseRecord next = license.extended(until, now);
            next = withDocument(c, next, now);
            LicenseRepository.update(c, next);
            push(c, next, by);
            return next;
        });
        LOG.infof("license %s extended to %s by %s", id, extended.validUntil(), by);
        return extended;
    }

    /** Revokes a license and pushes the revoked document to its host, whose agent stops the product. */
    public LicenseRecord revoke(UUID id, String reason, String by) {
        if (reason == null || reason.isBlank() || reason.length() > 500) {
            throw RefusedException.badRequest("Bad revocation", "say why in 1-500 characters");
        }
        LicenseRecord revoked = db.transaction(c -> {
            LicenseRecord license = existing(c, id);
            if (license.revokedAt() != null) {
                return license;
            }
            Instant now = clock.instant();
            LicenseRecord next = license.revoked(now, by, reason.strip());
            next = withDocument(c, next, now);
            LicenseRepository.update(c, next);
            push(c, next, by);
            return next;
        });
        metrics.counter("vigil.dispatch.licenses.revoked").increment();
        LOG.infof("license %s revoked by %s: %s", id, by, reason);
        return revoked;
    }

    public LicenseRecord license(UUID id) {
        return db.read(c -> existingRead(c, id));
    }

    public List<LicenseRecord> search(String hostId, String product, int limit) {
        return db.read(c -> LicenseRepository.search(c, hostId, product, limit));
    }

    /** The signed document of a license, as agents receive it. */
    public static License document(LicenseRecord l, Instant issuedAt) {
        return License.newBuilder()
                .setLicenseId(l.id().toString())
                .setProduct(l.product())
                .setHostId(l.hostId())
                .setEnrolmentId(l.enrolmentId() == null ? null : l.enrolmentId().toString())
                .setFeatures(l.features())
                .setSequence(l.sequence())
                .setIssuedAt(issuedAt)
                .setValidFrom(l.validFrom())
                .setValidUntil(l.validUntil())
                .setLeaseExpiresAt(l.leaseExpiresAt())
                .setGraceUntil(l.graceUntil())
                .setRevoked(l.revokedAt() != null)
                .setRevocationReason(l.revocationReason())
                .build();
    }

    private List<Command> push(Connection c, LicenseRecord license, String by) throws SQLException {
        return commands.issue(
                c,
                CommandAction.RENEW_LICENSE,
                List.of(new CommandTarget(license.hostId(), null, null)),
                Map.of(
                        "licenseId", license.id().toString(),
                        "license", Base64.getEncoder().encodeToString(license.document())),
                Duration.ofDays(7),
                Command.LICENSE,
                null,
                by);
    }

    private LicenseRecord withDocument(Connection c, LicenseRecord l, Instant now) throws SQLException {
        return l.withDocument(
                MetadataSigning.sign(document(l, now), Role.LICENSES, repository.signers(c, Role.LICENSES)));
    }

    private static LicenseRecord existing(Connection c, UUID id) throws SQLException {
        LicenseRecord license = LicenseRepository.find(c, id, true);
        if (license == null) {
            throw RefusedException.notFound("Unknown license", "no license " + id);
        }
        return license;
    }

    private static LicenseRecord existingRead(Connection c, UUID id) throws SQLException {
        LicenseRecord license = LicenseRepository.find(c, id, false);
        if (license == null) {
            throw RefusedException.notFound("Unknown license", "no license " + id);
        }
        return license;
    }

    private static Instant min(Instant a, Instant b) {
        return a.isBefore(b) ? a : b;
    }

    private static Instant max(Instant a, Instant b) {
        return a.isAfter(b) ? a : b;
    }
}
