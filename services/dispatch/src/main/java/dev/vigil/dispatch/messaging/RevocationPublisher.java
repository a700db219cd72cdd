package dev.vigil.dispatch.messaging;

import dev.vigil.dispatch.persistence.Database;
import dev.vigil.dispatch.persistence.HostRepository;
import dev.vigil.dispatch.persistence.HostRepository.Revocation;
import dev.vigil.schemas.Envelopes;
import dev.vigil.schemas.HostRevocations;
import dev.vigil.schemas.dispatch.HostRevocation;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.reactive.messaging.MutinyEmitter;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import org.eclipse.microprofile.reactive.messaging.Channel;

/**
 * Publishes host revocations from the host table (the outbox) to the compacted topic
 * {@code vigil.dispatch.host-revocations.v1}, keyed by tenant and host, each marked published once the broker has
 * it; what fails is sent by the next sweep.
 */
@ApplicationScoped
public class RevocationPublisher implements Outbox.Table<Revocation> {

    private final MutinyEmitter<byte[]> revocations;
    private final Database db;
    private final Clock clock = Clock.systemUTC();

    RevocationPublisher(@Channel("host-revocations") MutinyEmitter<byte[]> revocations, Database db) {
        this.revocations = revocations;
        this.db = db;
    }

    /** Sends every unpublished revocation. */
    // Not before the messaging channels are connected at start.
    @Scheduled(
            every = "${vigil.dispatch.commands.sweep-every}",
            delayed = "3s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    public synchronized void publishPending() {
        Outbox.sweep(db, revocations, this, "host revocations", clock);
    }

    @Override
    public List<Revocation> unpublished(Connection c) throws SQLException {
        return HostRepository.unpublishedRevocations(c);
    }

    @Override
    public Outbox.Outgoing outgoing(Connection c, Revocation r) {
        HostRevocation event = HostRevocation.newBuilder()
                .setEnvelope(Envelopes.create(
                        HostRevocation.class,
                        HostRevocation.getClassSchema(),
                        Outbox.SOURCE,
                        r.tenant(),
                        r.revokedAt()))
                .setTenant(r.tenant())
                .setHostId(r.hostId())
                .setRevokedAt(r.revokedAt())
                .setRevokedBy(r.revokedBy())
                .setReason(r.reason())
                .build();
        return new Outbox.Outgoing(HostRevocations.key(r.tenant(), r.hostId()), event, event.getEnvelope());
    }

    @Override
    public void published(Connection c, Revocation r, Instant at) throws SQLException {
        HostRepository.revocationPublished(c, r.hostId(), at);
    }
}
