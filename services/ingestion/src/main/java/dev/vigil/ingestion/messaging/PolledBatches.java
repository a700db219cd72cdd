package dev.vigil.ingestion.messaging;

import dev.vigil.ingestion.service.IngestionMetrics;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;

/**
 * How every agent channel takes a poll: one transaction for the whole batch, its refused records sent to the
 * dead-letter topic (acks awaited) before that transaction commits, then the batch's metrics. The connector
 * acknowledges the offsets only after this returns, so a record is never committed before it is stored, dropped as
 * a duplicate, or dead-lettered.
 */
@ApplicationScoped
class PolledBatches {

    private final DeadLetterPublisher deadLetter;
    private final IngestionMetrics metrics;

    PolledBatches(DeadLetterPublisher deadLetter, IngestionMetrics metrics) {
        this.deadLetter = deadLetter;
        this.metrics = metrics;
    }

    /**
     * @param ingest stores a poll's records inside the caller's transaction and returns the refused ones
     */
    void settle(
            ConsumerRecords<byte[], byte[]> batch,
            Function<List<ConsumerRecord<byte[], byte[]>>, List<DeadLetterPublisher.Refused>> ingest) {
        if (batch.isEmpty()) {
            return;
        }
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>(batch.count());
        batch.forEach(records::add);
        long started = System.nanoTime();
        QuarkusTransaction.requiringNew().run(() -> deadLetter.sendAll(ingest.apply(records)));
        metrics.batch(records.get(0).topic(), records.size(), System.nanoTime() - started);
        metrics.durable(
                records.get(0).topic(),
                records.stream().mapToLong(ConsumerRecord::timestamp).toArray());
    }
}
