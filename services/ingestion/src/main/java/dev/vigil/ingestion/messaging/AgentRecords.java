package dev.vigil.ingestion.messaging;

import dev.vigil.ingestion.domain.AgentRecord;
import dev.vigil.schemas.RecordSeals;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/** Polled Kafka records as the ingestion services take them: value and seal. */
final class AgentRecords {

    private AgentRecords() {}

    static List<AgentRecord> of(List<ConsumerRecord<byte[], byte[]>> records) {
        return records.stream()
                .map(r -> new AgentRecord(r.value(), RecordSeals.Seal.of(r.headers())))
                .toList();
    }
}
