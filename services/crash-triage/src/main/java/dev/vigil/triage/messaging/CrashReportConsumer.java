package dev.vigil.triage.messaging;

import dev.vigil.schemas.DeadLetterReason;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.EventDecodingException;
import dev.vigil.schemas.crash.CrashReported;
import dev.vigil.triage.bucket.DatabaseRepository;
import dev.vigil.triage.bucket.TriageService;
import dev.vigil.triage.config.TriageConfig;
import dev.vigil.triage.metrics.TriageMetrics;
import io.smallrye.common.annotation.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Takes ingestion's crash reports. A record that does not decode goes to {@code vigil.ingestion.dead-letter.v1}
 * with its typed reason and the stream moves on. A report whose filing fails (the database or the object store
 * unreachable, or a report the database refuses) is tried again in place with a doubling wait, and after the
 * configured attempts goes to the dead-letter topic as {@code PROCESSING_FAILED} with the last error: the channel
 * never stops on one record. Unless PostgreSQL does not answer: then the report is not its own fault, and it waits,
 * uncommitted, until PostgreSQL answers again (readiness is DOWN meanwhile), and its attempts start over.
 */
@ApplicationScoped
public class CrashReportConsumer {

    private static final Logger LOG = Logger.getLogger(CrashReportConsumer.class);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);
    // How often a report waiting for PostgreSQL asks whether it answers again: short, so a restart is noticed quickly.
    private static final Duration DATABASE_POLL = Duration.ofSeconds(2);

    private final TriageService triage;
    private final DatabaseRepository database;
    private final DeadLetterPublisher deadLetter;
    private final TriageMetrics metrics;
    private final TriageConfig config;

    CrashReportConsumer(
            TriageService triage,
            DatabaseRepository database,
            DeadLetterPublisher deadLetter,
            TriageMetrics metrics,
            TriageConfig config) {
        this.triage = triage;
        this.database = database;
        this.deadLetter = deadLetter;
        this.metrics = metrics;
        this.config = config;
    }

    @Incoming("crash-reported")
    @Blocking
    public void consume(ConsumerRecord<byte[], byte[]> record) {
        CrashReported report;
        try {
            report = EventCodec.of(CrashReported.class).decode(record.value());
        } catch (EventDecodingException e) {
            refuse(record, e.reason(), e.getMessage());
            return;
        } catch (RuntimeException e) {
            refuse(record, DeadLetterReason.MALFORMED, e.toString());
            return;
        }
        Duration wait = config.triage().retryBackoff();
        int attempts = Math.max(1, config.triage().retryAttempts());
        for (int attempt = 1; ; attempt++) {
            try {
                triage.triage(report);
                return;
            } catch (Exception e) {
                // Whatever failed, the database, the store or the commit (a jakarta.transaction exception): retried.
                if (attempt >= attempts && !database.answers()) {
                    awaitDatabase(report, e);
                    // Its attempts start over: the outage was not the report's fault.
                    attempt = 0;
                    wait = config.triage().retryBackoff();
                    continue;
                }
                if (attempt >= attempts) {
                    // A report that always fails must not stop the channel: it waits on the dead-letter topic.
                    refuse(
                            record,
                            DeadLetterReason.PROCESSING_FAILED,
                            "incident " + report.getIncidentId() + " failed " + attempts + " times; last: " + e);
                    return;
                }
                metrics.reportRetried();
                LOG.warnf(
                        "incident %s failed (attempt %d of %d), again in %s: %s",
                        report.getIncidentId(), attempt, attempts, wait, e.toString());
                pause(report, wait);
                wait = wait.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : wait.multipliedBy(2);
            }
        }
    }

    private void awaitDatabase(CrashReported report, Exception failure) {
        LOG.warnf(
                "incident %s waits for PostgreSQL, which does not answer; nothing is committed or dead-lettered: %s",
                report.getIncidentId(), failure.toString());
        long started = System.nanoTime();
        do {
            pause(report, DATABASE_POLL);
        } while (!database.answers());
        LOG.infof(
                "PostgreSQL answers again after %d s: incident %s is tried again",
                Duration.ofNanos(System.nanoTime() - started).toSeconds(), report.getIncidentId());
    }

    private static void pause(CrashReported report, Duration wait) {
        try {
            Thread.sleep(wait.toMillis());
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(
                    "stopping while incident " + report.getIncidentId()
                            + " waited for a retry; it is read again at the next start",
                    interrupted);
        }
    }

    private void refuse(ConsumerRecord<byte[], byte[]> record, DeadLetterReason reason, String detail) {
        metrics.reportDeadLettered(reason.name());
        LOG.warnf(
                "crash report at %s-%d@%d refused (%s): %s",
                record.topic(), record.partition(), record.offset(), reason, detail);
        deadLetter.send(record, reason, detail);
    }
}
