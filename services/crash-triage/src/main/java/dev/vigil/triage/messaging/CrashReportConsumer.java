package dev.vigil.triage.messaging;

import dev.vigil.schemas.DeadLetterReason;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.EventDecodingException;
import dev.vigil.schemas.crash.CrashReported;
import dev.vigil.triage.bucket.TriageService;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.common.annotation.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.SQLException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Takes ingestion's crash reports. A record that does not decode goes to {@code vigil.ingestion.dead-letter.v1}
 * with its typed reason and the stream moves on; a database failure stops the channel so no report is lost.
 */
@ApplicationScoped
public class CrashReportConsumer {

    private static final Logger LOG = Logger.getLogger(CrashReportConsumer.class);

    private final TriageService triage;
    private final DeadLetterPublisher deadLetter;
    private final MeterRegistry metrics;

    CrashReportConsumer(TriageService triage, DeadLetterPublisher deadLetter, MeterRegistry metrics) {
        this.triage = triage;
        this.deadLetter = deadLetter;
        this.metrics = metrics;
    }

    @Incoming("crash-reported")
    @Blocking
    public void consume(ConsumerRecord<byte[], byte[]> record) throws SQLException {
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
        triage.triage(report);
    }

    private void refuse(ConsumerRecord<byte[], byte[]> record, DeadLetterReason reason, String detail) {
        metrics.counter("vigil.triage.reports", "outcome", "dead-lettered", "reason", reason.name())
                .increment();
        LOG.warnf(
                "crash report at %s-%d@%d refused (%s): %s",
                record.topic(), record.partition(), record.offset(), reason, detail);
        deadLetter.send(record, reason, detail);
    }
}
