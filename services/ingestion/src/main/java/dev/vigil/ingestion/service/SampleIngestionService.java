package dev.vigil.ingestion.service;

import dev.vigil.ingestion.config.IngestionConfig;
import dev.vigil.ingestion.domain.AgentRecord;
import dev.vigil.ingestion.domain.Rejection;
import dev.vigil.ingestion.persistence.SampleRepository;
import dev.vigil.ingestion.persistence.SampleRepository.SampleRecord;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Samples are the bulk of agent traffic: a polled batch is validated record by record and stored in one bulk
 * write; refused records are handed back for the dead-letter topic. Raw rows are deleted after the retention.
 */
@ApplicationScoped
public class SampleIngestionService {

    private static final System.Logger LOG = System.getLogger(SampleIngestionService.class.getName());

    private final RecordValidator validator;
    private final SampleRepository samples;
    private final IngestionMetrics metrics;
    private final IngestionConfig config;
    private final Clock clock = Clock.systemUTC();

    SampleIngestionService(
            RecordValidator validator, SampleRepository samples, IngestionMetrics metrics, IngestionConfig config) {
        this.validator = validator;
        this.samples = samples;
        this.metrics = metrics;
        this.config = config;
    }

    /**
     * Must run inside the caller's transaction.
     *
     * @param records the records, in order
     * @return the refused ones, by index into {@code records}
     */
    public Map<Integer, Rejection> ingestBatch(List<AgentRecord> records, String topic) {
        List<SampleRecord> valid = new ArrayList<>(records.size());
        Map<Integer, Rejection> refused = new LinkedHashMap<>();
        metrics.consumed(topic, records.size());
        for (int i = 0; i < records.size(); i++) {
            AgentRecord in = records.get(i);
            try {
                valid.add(SampleProjection.of(validator.validate(in.value(), in.seal(), SampleProjection.PROJECTION)));
            } catch (ValidationException e) {
                metrics.rejected(topic, e.reason());
                refused.put(i, new Rejection(e.reason().name(), e.getMessage()));
            }
        }
        int fresh = samples.insertBatch(valid, clock.instant(), config.vmSampleResolution());
        metrics.stored(topic, fresh);
        metrics.duplicate(topic, valid.size() - fresh);
        return refused;
    }

    @Scheduled(every = "1h", delayed = "1m")
    @Transactional
    void applyRetention() {
        long deleted = samples.deleteOlderThan(clock.instant().minus(config.sampleRetention()));
        if (deleted > 0) {
            LOG.log(
                    System.Logger.Level.INFO,
                    "deleted " + deleted + " VM samples older than " + config.sampleRetention());
        }
    }
}
