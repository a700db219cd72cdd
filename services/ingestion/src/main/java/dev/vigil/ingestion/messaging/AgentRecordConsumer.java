package dev.vigil.ingestion.messaging;

import dev.vigil.ingestion.domain.IngestionResult;
import dev.vigil.ingestion.domain.IngestionResult.Outcome;
import dev.vigil.ingestion.service.AgentRecordIngestionService;
import dev.vigil.ingestion.service.IngestionMetrics;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.smallrye.common.annotation.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.function.BiFunction;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * Consumes {@code vigil.agent.artifacts.v1}, {@code vigil.agent.feedback.v1} and
 * {@code vigil.agent.command-results.v1}, one channel each, with the same guarantee as agent events: the offset is
 * committed only after the record is stored, dropped as a duplicate, or acked on the dead-letter topic.
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
    public void artifact(ConsumerRecord<byte[], byte[]> record) {
        settle(record, ingestion::artifact);
    }

    @Incoming(FEEDBACK)
    @Blocking
    public void feedback(ConsumerRecord<byte[], byte[]> record) {
        settle(record, ingestion::feedback);
    }

    @Incoming(COMMAND_RESULTS)
    @Blocking
    public void commandResult(ConsumerRecord<byte[], byte[]> record) {
        settle(record, ingestion::commandResult);
    }

    private void settle(ConsumerRecord<byte[], byte[]> record, BiFunction<byte[], String, IngestionResult> ingest) {
        QuarkusTransaction.requiringNew().run(() -> {
            IngestionResult result = ingest.apply(record.value(), record.topic());
            if (result.outcome() == Outcome.REJECTED) {
                deadLetter.send(record, result.rejection());
            }
        });
        metrics.durable(record.topic(), record.timestamp());
    }
}
