package dev.vigil.ingestion.messaging;

import dev.vigil.ingestion.domain.IngestionResult;
import dev.vigil.ingestion.service.AgentRecordIngestionService;
import dev.vigil.ingestion.service.IngestionMetrics;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.smallrye.common.annotation.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import org.apache.kafka.clients.consumer.ConsumerRecord;
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
    private final DeadLetterPublisher deadLetter;
    private final IngestionMetrics metrics;

    AgentRecordConsumer(
            AgentRecordIngestionService ingestion, DeadLetterPublisher deadLetter, IngestionMetrics metrics) {
        this.ingestion = ingestion;
        this.deadLetter = deadLetter;
        this.metrics = metrics;
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

    /** One transaction per poll; refused records go to the dead-letter topic before it commits. */
    private void settle(
            ConsumerRecords<byte[], byte[]> batch, BiFunction<List<byte[]>, String, List<IngestionResult>> ingest) {
        if (batch.isEmpty()) {
            return;
        }
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>(batch.count());
        batch.forEach(records::add);
        String topic = records.get(0).topic();
        long started = System.nanoTime();
        QuarkusTransaction.requiringNew().run(() -> {
            List<IngestionResult> results =
                    ingest.apply(records.stream().map(ConsumerRecord::value).toList(), topic);
            deadLetter.sendAll(DeadLetterPublisher.refused(records, results));
        });
        metrics.batch(topic, records.size(), System.nanoTime() - started);
        records.forEach(r -> metrics.durable(r.topic(), r.timestamp()));
    }
}
