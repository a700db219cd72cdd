package dev.vigil.ingestion.messaging;

import dev.vigil.ingestion.domain.IngestionResult;
import dev.vigil.ingestion.domain.IngestionResult.Outcome;
import dev.vigil.ingestion.service.AgentEventIngestionService;
import dev.vigil.ingestion.service.HostSightings;
import dev.vigil.ingestion.service.IngestionMetrics;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.smallrye.common.annotation.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * Consumes {@code vigil.agent.events.v1} a poll at a time. The offsets are acknowledged (and, with the throttled strategy, committed)
 * only after this method returns: after the transaction commits (the publish-to-durable latency is measured
 * then), or after the dead-letter record is acked.
 */
@ApplicationScoped
public class AgentEventConsumer {

    static final String AGENT_EVENTS = "agent-events";

    private final AgentEventIngestionService ingestion;
    private final DeadLetterPublisher deadLetter;
    private final IngestionMetrics metrics;

    AgentEventConsumer(AgentEventIngestionService ingestion, DeadLetterPublisher deadLetter, IngestionMetrics metrics) {
        this.ingestion = ingestion;
        this.deadLetter = deadLetter;
        this.metrics = metrics;
    }

    @Incoming(AGENT_EVENTS)
    @Blocking
    public void consume(ConsumerRecords<byte[], byte[]> batch) {
        if (batch.isEmpty()) {
            return;
        }
        // One transaction per poll: records are still taken one by one, in partition order, but commit together.
        QuarkusTransaction.requiringNew().run(() -> {
            HostSightings hosts = new HostSightings();
            for (ConsumerRecord<byte[], byte[]> record : batch) {
                IngestionResult result =
                        ingestion.ingest(record.value(), record.topic(), record.partition(), record.offset(), hosts);
                if (result.outcome() == Outcome.REJECTED) {
                    deadLetter.send(record, result.rejection());
                }
            }
            ingestion.recordHosts(hosts);
        });
        batch.forEach(record -> metrics.durable(record.topic(), record.timestamp()));
    }
}
