package dev.vigil.ingestion.messaging;

import dev.vigil.ingestion.service.AgentEventIngestionService;
import dev.vigil.schemas.RecordSeals;
import io.smallrye.common.annotation.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
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
    private final PolledBatches batches;

    AgentEventConsumer(AgentEventIngestionService ingestion, PolledBatches batches) {
        this.ingestion = ingestion;
        this.batches = batches;
    }

    @Incoming(AGENT_EVENTS)
    @Blocking
    public void consume(ConsumerRecords<byte[], byte[]> batch) {
        // One transaction per poll: records are still taken in partition order, but commit together.
        batches.settle(
                batch,
                records -> DeadLetterPublisher.refused(
                        records,
                        ingestion.ingestAll(records.stream()
                                .map(r -> new AgentEventIngestionService.Incoming(
                                        r.value(),
                                        RecordSeals.Seal.of(r.headers()),
                                        r.topic(),
                                        r.partition(),
                                        r.offset()))
                                .toList())));
    }
}
