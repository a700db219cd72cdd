package dev.vigil.ingestion.messaging;

import dev.vigil.ingestion.domain.IngestionResult;
import dev.vigil.ingestion.service.AgentEventIngestionService;
import dev.vigil.ingestion.service.IngestionMetrics;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.smallrye.common.annotation.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.List;
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
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>(batch.count());
        batch.forEach(records::add);
        // One transaction per poll: records are still taken in partition order, but commit together.
        long started = System.nanoTime();
        QuarkusTransaction.requiringNew().run(() -> {
            List<IngestionResult> results = ingestion.ingestAll(records.stream()
                    .map(r -> new AgentEventIngestionService.Incoming(r.value(), r.topic(), r.partition(), r.offset()))
                    .toList());
            deadLetter.sendAll(DeadLetterPublisher.refused(records, results));
        });
        metrics.batch(records.get(0).topic(), records.size(), System.nanoTime() - started);
        batch.forEach(record -> metrics.durable(record.topic(), record.timestamp()));
    }
}
