package dev.vigil.ingestion.messaging;

import dev.vigil.ingestion.domain.IngestionResult;
import dev.vigil.ingestion.domain.IngestionResult.Outcome;
import dev.vigil.ingestion.service.AgentRecordIngestionService;
import io.smallrye.common.annotation.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
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

    AgentRecordConsumer(AgentRecordIngestionService ingestion, DeadLetterPublisher deadLetter) {
        this.ingestion = ingestion;
        this.deadLetter = deadLetter;
    }

    @Incoming(ARTIFACTS)
    @Blocking
    @Transactional
    public void artifact(ConsumerRecord<byte[], byte[]> record) {
        settle(record, ingestion.artifact(record.value(), record.topic()));
    }

    @Incoming(FEEDBACK)
    @Blocking
    @Transactional
    public void feedback(ConsumerRecord<byte[], byte[]> record) {
        settle(record, ingestion.feedback(record.value(), record.topic()));
    }

    @Incoming(COMMAND_RESULTS)
    @Blocking
    @Transactional
    public void commandResult(ConsumerRecord<byte[], byte[]> record) {
        settle(record, ingestion.commandResult(record.value(), record.topic()));
    }

    private void settle(ConsumerRecord<byte[], byte[]> record, IngestionResult result) {
        if (result.outcome() == Outcome.REJECTED) {
            deadLetter.send(record, result.rejection());
        }
    }
}
