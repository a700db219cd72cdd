package dev.vigil.ingestion.messaging;

import dev.vigil.ingestion.config.IngestionConfig;
import dev.vigil.ingestion.domain.Rejection;
import dev.vigil.ingestion.persistence.DatabaseProbe;
import dev.vigil.ingestion.service.IngestionMetrics;
import dev.vigil.schemas.DeadLetterReason;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.jboss.logging.Logger;

/**
 * How every agent channel takes a poll: one transaction for the whole batch, its refused records sent to the
 * dead-letter topic (acks awaited) before that transaction commits, then the batch's metrics. The connector
 * acknowledges the offsets only after this returns, so a record is never committed before it is stored, dropped as
 * a duplicate, or dead-lettered.
 *
 * <p>A batch whose processing fails (not a refusal: a database error, a bug that one record sets off) never stops
 * the channel for good: it is tried again {@code vigil.ingestion.retry-attempts} times with a doubling wait, then each
 * of its records alone, so the good ones are kept; a record that still fails alone while the database answers goes to
 * the dead-letter topic as {@code PROCESSING_FAILED} with the error. When the database does not answer, nothing is
 * dead-lettered and the channel does not stop: the batch waits, uncommitted, until PostgreSQL answers again (readiness
 * is DOWN meanwhile) and is then tried again, however long the outage lasts.
 */
@ApplicationScoped
class PolledBatches {

    private static final Logger LOG = Logger.getLogger(PolledBatches.class);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);
    // How often a batch waiting for PostgreSQL asks whether it answers again: short, so a restart is noticed quickly.
    private static final Duration DATABASE_POLL = Duration.ofSeconds(2);

    private final DeadLetterPublisher deadLetter;
    private final IngestionMetrics metrics;
    private final DatabaseProbe database;
    private final int attempts;
    private final Duration backoff;

    PolledBatches(
            DeadLetterPublisher deadLetter, IngestionMetrics metrics, DatabaseProbe database, IngestionConfig config) {
        this.deadLetter = deadLetter;
        this.metrics = metrics;
        this.database = database;
        this.attempts = Math.max(1, config.retryAttempts());
        this.backoff = config.retryBackoff();
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
        long handed = System.currentTimeMillis();
        long started = System.nanoTime();
        String topic = records.get(0).topic();
        String what = topic + " batch of " + records.size();
        // When the batch's work was done inside its transaction, and when that committed.
        long[] done = new long[2];
        RuntimeException failure = triesWhileDatabaseAnswers(what, () -> store(records, ingest, done));
        if (failure != null) {
            for (ConsumerRecord<byte[], byte[]> record : records) {
                String where = record.topic() + "-" + record.partition() + "@" + record.offset();
                RuntimeException alone =
                        triesWhileDatabaseAnswers(where, () -> store(List.of(record), ingest, new long[2]));
                if (alone != null) {
                    deadLetter(record, where, alone);
                }
            }
        }
        metrics.batch(topic, records.size(), System.nanoTime() - started);
        long[] timestamps =
                records.stream().mapToLong(ConsumerRecord::timestamp).toArray();
        metrics.durable(topic, timestamps);
        if (failure == null) {
            metrics.stages(topic, timestamps, handed, done[0] - started, done[1] - done[0]);
        }
    }

    /** Stores in one transaction; {@code done} gets the nano times its work ended and its commit returned. */
    private void store(
            List<ConsumerRecord<byte[], byte[]>> records,
            Function<List<ConsumerRecord<byte[], byte[]>>, List<DeadLetterPublisher.Refused>> ingest,
            long[] done) {
        QuarkusTransaction.requiringNew().run(() -> {
            deadLetter.sendAll(ingest.apply(records));
            done[0] = System.nanoTime();
        });
        done[1] = System.nanoTime();
    }

    /**
     * {@link #tries} until {@code work} succeeds or fails while PostgreSQL answers (the work's own fault); returns
     * that failure, or null. While PostgreSQL does not answer, waits for it and starts over.
     */
    private RuntimeException triesWhileDatabaseAnswers(String what, Runnable work) {
        while (true) {
            RuntimeException failure = tries(what, work);
            if (failure == null || database.answers()) {
                return failure;
            }
            awaitDatabase(what, failure);
        }
    }

    private void awaitDatabase(String what, RuntimeException failure) {
        LOG.warnf(
                "%s waits for PostgreSQL, which does not answer; nothing is committed or dead-lettered: %s",
                what, failure.toString());
        long started = System.nanoTime();
        do {
            sleep(DATABASE_POLL);
        } while (!database.answers());
        LOG.infof(
                "PostgreSQL answers again after %d s: %s is tried again",
                Duration.ofNanos(System.nanoTime() - started).toSeconds(), what);
    }

    /** Runs {@code work} up to the configured attempts; returns the last failure, or null once it succeeded. */
    private RuntimeException tries(String what, Runnable work) {
        Duration wait = backoff;
        for (int attempt = 1; ; attempt++) {
            try {
                work.run();
                return null;
            } catch (RuntimeException e) {
                if (attempt >= attempts) {
                    return e;
                }
                LOG.warnf("%s failed (attempt %d of %d), again in %s: %s", what, attempt, attempts, wait, e.toString());
                sleep(wait);
                wait = wait.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : wait.multipliedBy(2);
            }
        }
    }

    private void deadLetter(ConsumerRecord<byte[], byte[]> record, String where, RuntimeException failure) {
        LOG.errorf(
                failure,
                "%s failed alone %d times while the database answers: dead-lettered as %s",
                where,
                attempts,
                DeadLetterReason.PROCESSING_FAILED);
        deadLetter.sendAll(List.of(new DeadLetterPublisher.Refused(
                record,
                new Rejection(
                        DeadLetterReason.PROCESSING_FAILED.name(),
                        "failed " + attempts + " times; last: " + failure))));
        metrics.rejected(record.topic(), DeadLetterReason.PROCESSING_FAILED);
    }

    private static void sleep(Duration wait) {
        try {
            Thread.sleep(wait.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("stopping while a batch waited for a retry; it is read again", e);
        }
    }
}
