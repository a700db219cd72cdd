package dev.vigil.ingestion.messaging;

import dev.vigil.ingestion.domain.Rejection;
import dev.vigil.ingestion.service.AgentEventIngestionService;
import dev.vigil.ingestion.service.AgentEventIngestionService.Outcome;
import dev.vigil.ingestion.service.AgentEventIngestionService.Result;
import dev.vigil.schemas.DeadLetterHeaders;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * Consumes {@code vigil.agent.events.v1}. The offset is acknowledged (and, with the throttled strategy, committed)
 * only after this method returns: after the transaction commits, or after the dead-letter record is acked.
 */
@ApplicationScoped
public class AgentEventConsumer {

    static final String AGENT_EVENTS = "agent-events";
    static final String DEAD_LETTER = "dead-letter";
    static final String CONSUMER_GROUP = "vigil-ingestion";

    private final AgentEventIngestionService ingestion;
    private final MutinyEmitter<byte[]> deadLetter;

    AgentEventConsumer(AgentEventIngestionService ingestion, @Channel(DEAD_LETTER) MutinyEmitter<byte[]> deadLetter) {
        this.ingestion = ingestion;
        this.deadLetter = deadLetter;
    }

    @Incoming(AGENT_EVENTS)
    @Blocking
    @Transactional
    public void consume(ConsumerRecord<byte[], byte[]> record) {
        Result result = ingestion.ingest(record.value(), record.topic(), record.partition(), record.offset());
        if (result.outcome() == Outcome.REJECTED) {
            sendToDeadLetter(record, result.rejection());
        }
    }

    private void sendToDeadLetter(ConsumerRecord<byte[], byte[]> record, Rejection rejection) {
        RecordHeaders headers = new RecordHeaders(record.headers().toArray());
        header(headers, DeadLetterHeaders.REASON, rejection.reason());
        header(headers, DeadLetterHeaders.DETAIL, rejection.detail());
        header(headers, DeadLetterHeaders.SOURCE_TOPIC, record.topic());
        header(headers, DeadLetterHeaders.SOURCE_PARTITION, String.valueOf(record.partition()));
        header(headers, DeadLetterHeaders.SOURCE_OFFSET, String.valueOf(record.offset()));
        header(headers, DeadLetterHeaders.CONSUMER, CONSUMER_GROUP);
        OutgoingKafkaRecordMetadata<byte[]> metadata = OutgoingKafkaRecordMetadata.<byte[]>builder()
                .withKey(record.key())
                .withHeaders(headers)
                .build();
        // Awaited: the source offset must not be committed before the dead-letter record is durable.
        deadLetter.sendMessageAndAwait(Message.of(record.value() == null ? new byte[0] : record.value())
                .addMetadata(metadata));
    }

    private static void header(RecordHeaders headers, String name, String value) {
        headers.remove(name);
        headers.add(name, value.getBytes(StandardCharsets.UTF_8));
    }
}
