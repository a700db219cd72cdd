package dev.vigil.dispatch.service;

import dev.vigil.dispatch.config.DispatchConfig;
import dev.vigil.dispatch.messaging.RevocationPublisher;
import dev.vigil.dispatch.persistence.Database;
import dev.vigil.dispatch.persistence.HostRepository;
import dev.vigil.dispatch.persistence.HostRepository.Revocation;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import org.jboss.logging.Logger;

/**
 * Revoking a host for good (a machine lost, stolen or misbehaving): from the moment it is recorded its host token
 * opens nothing here and it cannot enrol again, and once it is on {@code vigil.dispatch.host-revocations.v1}
 * ingestion refuses every record sealed as that host ({@code HOST_REVOKED}). A second revocation changes nothing.
 */
@ApplicationScoped
public class HostRevocationService {

    private static final Logger LOG = Logger.getLogger(HostRevocationService.class);

    private final Database db;
    private final RevocationPublisher publisher;
    private final MeterRegistry metrics;
    private final String tenant;
    private final Clock clock = Clock.systemUTC();

    HostRevocationService(Database db, RevocationPublisher publisher, MeterRegistry metrics, DispatchConfig config) {
        this.db = db;
        this.publisher = publisher;
        this.metrics = metrics;
        this.tenant = config.dispatch().enrolment().tenant();
    }

    /** Revokes an enrolled host; returns its revocation (the first, if it was revoked before). */
    public Revocation revoke(String hostId, String reason, String by) {
        if (reason == null || reason.isBlank() || reason.length() > 500) {
            throw RefusedException.badRequest("Bad revocation", "say why in 1-500 characters");
        }
        boolean revoked =
                db.transaction(c -> HostRepository.revoke(c, hostId, tenant, clock.instant(), by, reason.strip()));
        Revocation revocation = db.read(c -> HostRepository.revocation(c, hostId));
        if (revocation == null) {
            throw RefusedException.notFound("Unknown host", "no host " + hostId + " ever enrolled here");
        }
        if (revoked) {
            // Counted once per host, however often it is revoked again.
            metrics.counter("vigil.dispatch.hosts.revoked").increment();
            LOG.infof("host %s revoked by %s: %s", hostId, by, revocation.reason());
            publisher.publishPending();
            return db.read(c -> HostRepository.revocation(c, hostId));
        }
        return revocation;
    }

    /** The host's revocation, or a 404 when it is not revoked. */
    public Revocation revocation(String hostId) {
        Revocation revocation = db.read(c -> HostRepository.revocation(c, hostId));
        if (revocation == null) {
            throw RefusedException.notFound("Not revoked", "host " + hostId + " is not revoked");
        }
        return revocation;
    }
}
