package dev.vigil.ingestion.messaging;

import dev.vigil.ingestion.domain.AgentRecord;
import dev.vigil.ingestion.domain.IngestionResult;
import dev.vigil.ingestion.service.AgentRecordIngestionService;
import io.smallrye.common.annotation.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;
import java.util.function.BiFunction;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * Consumes {@code vigil.agent.artifacts.v1}, {@code vigil.agent.feedback.v1} and
 * {@code vigil.agent.command-results.v1}, one channel each, a polled batch per transaction, with the same guarantee as
 * agent events: a batch's offsets are committed only after each of its records is stored, dropped as a duplicate, or
 * acked on the dead-letter topic.
 */
@ApplicationScoped
public class AgentRecordConsumer {

    static final String ARTIFACTS = "agent-artifacts";
    static final String FEEDBACK = "agent-feedback";
    static final String COMMAND_RESULTS = "agent-command-results";

    private final AgentRecordIngestionService ingestion;
    private final PolledBatches batches;

    AgentRecordConsumer(AgentRecordIngestionService ingestion, PolledBatches batches) {
        this.ingestion = ingestion;
        this.batches = batches;
    }

    @Incoming(ARTIFACTS)
    @Blocking
    public void artifacts(ConsumerRecords<byte[], byte[]> batch) {
        settle(batch, ingestion::artifacts);
    }

    @Incoming(FEEDBACK)
    @Blocking
    public void feedback(ConsumerRecords<byte[], byte[]> batch) {
        settle(batch, ingestion::feedback);
    }

    @Incoming(COMMAND_RESULTS)
    @Blocking
    public void commandResults(ConsumerRecords<byte[], byte[]> batch) {
        settle(batch, ingestion::commandResults);
    }

    private void settle(
            ConsumerRecords<byte[], byte[]> batch,
            BiFunction<List<AgentRecord>, String, List<IngestionResult>> ingest) {
        batches.settle(
                batch,
                records -> DeadLetterPublisher.refused(
                        records,
                        ingest.apply(AgentRecords.of(records), records.get(0).topic())));
    }
}
