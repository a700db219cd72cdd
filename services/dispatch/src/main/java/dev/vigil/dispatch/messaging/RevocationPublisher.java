package dev.vigil.dispatch.messaging;

import dev.vigil.dispatch.persistence.Database;
import dev.vigil.dispatch.persistence.HostRepository;
import dev.vigil.dispatch.persistence.HostRepository.Revocation;
import dev.vigil.schemas.CloudEventHeaders;
import dev.vigil.schemas.Envelopes;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.HostRevocations;
import dev.vigil.schemas.common.Source;
import dev.vigil.schemas.dispatch.HostRevocation;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.jboss.logging.Logger;

/**
 * Publishes host revocations from the host table (the outbox) to the compacted topic
 * {@code vigil.dispatch.host-revocations.v1}, keyed by tenant and host, each marked published once the broker has
 * it; what fails is sent by the next sweep.
 */
@ApplicationScoped
public class RevocationPublisher {

    private static final Logger LOG = Logger.getLogger(RevocationPublisher.class);
    private static final Source SOURCE = Source.newBuilder()
            .setHostId("vigil-dispatch")
            .setAgentId("vigil-dispatch")
            .setAgentVersion("1")
            .build();

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
        try {
            db.read(c -> {
                for (Revocation r : HostRepository.unpublishedRevocations(c)) {
                    HostRevocation event = HostRevocation.newBuilder()
                            .setEnvelope(Envelopes.create(
                                    HostRevocation.class,
                                    HostRevocation.getClassSchema(),
                                    SOURCE,
                                    r.tenant(),
                                    r.revokedAt()))
                            .setTenant(r.tenant())
                            .setHostId(r.hostId())
                            .setRevokedAt(r.revokedAt())
                            .setRevokedBy(r.revokedBy())
                            .setReason(r.reason())
                            .build();
                    RecordHeaders headers = new RecordHeaders();
                    CloudEventHeaders.write(headers, event.getEnvelope());
                    revocations.sendMessageAndAwait(Message.of(
                                    EventCodec.of(HostRevocation.class).encode(event))
                            .addMetadata(OutgoingKafkaRecordMetadata.<byte[]>builder()
                                    .withKey(HostRevocations.key(r.tenant(), r.hostId())
                                            .getBytes(StandardCharsets.UTF_8))
                                    .withHeaders(headers)
                                    .build()));
                    HostRepository.revocationPublished(c, r.hostId(), clock.instant());
                }
                return null;
            });
        } catch (RuntimeException e) {
            LOG.warnf("host revocations not published yet (%s); the next sweep sends them", e.getMessage());
        }
    }
}
