package dev.vigil.ingestion.messaging;

import dev.vigil.ingestion.domain.Rejection;
import dev.vigil.ingestion.service.SampleIngestionService;
import io.smallrye.reactive.messaging.annotations.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * Consumes {@code vigil.agent.samples.v1} in batches (the bulk of agent traffic): one bulk write per poll. The
 * batch's offsets are committed after the write commits and every refused record is acked on the dead-letter topic.
 */
@ApplicationScoped
public class SampleConsumer {

    static final String SAMPLES = "agent-samples";
    /**
     * The worker pool batches are written on, {@code smallrye.messaging.worker.sample-writers.max-concurrency} (3) at
     * a time: batches decode while others wait on PostgreSQL. Writers lock rows in key order, so they cannot
     * deadlock; whichever commits first, a VM keeps the earliest sample of each bucket.
     */
    static final String WRITERS = "sample-writers";

    private final SampleIngestionService ingestion;
    private final PolledBatches batches;

    SampleConsumer(SampleIngestionService ingestion, PolledBatches batches) {
        this.ingestion = ingestion;
        this.batches = batches;
    }

    @Incoming(SAMPLES)
    @Blocking(value = WRITERS, ordered = false)
    public void consume(ConsumerRecords<byte[], byte[]> batch) {
        batches.settle(batch, records -> {
            Map<Integer, Rejection> refused = ingestion.ingestBatch(
                    AgentRecords.of(records), records.get(0).topic());
            return refused.entrySet().stream()
                    .map(e -> new DeadLetterPublisher.Refused(records.get(e.getKey()), e.getValue()))
                    .toList();
        });
    }
}
