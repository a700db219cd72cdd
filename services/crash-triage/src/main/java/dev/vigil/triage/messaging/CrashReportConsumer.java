package dev.vigil.triage.messaging;

import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.crash.CrashReported;
import dev.vigil.triage.bucket.TriageService;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.common.annotation.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.SQLException;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Takes ingestion's crash reports. A record that does not decode is counted and logged with its reason and skipped
 * (ingestion wrote it; there is nothing to retry); a database failure stops the channel so no report is lost.
 */
@ApplicationScoped
public class CrashReportConsumer {

    private static final Logger LOG = Logger.getLogger(CrashReportConsumer.class);

    private final TriageService triage;
    private final MeterRegistry metrics;

    CrashReportConsumer(TriageService triage, MeterRegistry metrics) {
        this.triage = triage;
        this.metrics = metrics;
    }

    @Incoming("crash-reported")
    @Blocking
    public void consume(byte[] value) throws SQLException {
        CrashReported report;
        try {
            report = EventCodec.of(CrashReported.class).decode(value);
        } catch (RuntimeException e) {
            metrics.counter("vigil.triage.reports", "outcome", "undecodable").increment();
            LOG.errorf("skipping a crash report that does not decode: %s", e.getMessage());
            return;
        }
        triage.triage(report);
    }
}
