package dev.vigil.triage.bucket;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vigil.schemas.Envelopes;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.common.Envelope;
import dev.vigil.schemas.crash.ArtifactRef;
import dev.vigil.schemas.crash.CrashReported;
import dev.vigil.schemas.crash.CrashTriaged;
import dev.vigil.schemas.crash.TriageKind;
import dev.vigil.triage.collection.CollectionPolicyService;
import dev.vigil.triage.collection.FullDumps;
import dev.vigil.triage.evidence.KernelReport;
import dev.vigil.triage.evidence.WindowsDumpHeader;
import dev.vigil.triage.metrics.TriageMetrics;
import dev.vigil.triage.outbox.Outbox;
import dev.vigil.triage.regression.RegressionService;
import dev.vigil.triage.rules.ReportSigner;
import dev.vigil.triage.rules.RulesService;
import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * Files each crash report into the bucket of its signature, once per incident: the bucket is created by its first
 * report (and announced as {@code NEW_BUCKET} on {@code vigil.crash.triaged.v1}), and every later report counts
 * into it, with the bucket's collection policy following its full dumps. A provisional report (the hypervisor's
 * event alone) is filed at once by what the hypervisor knows; the incident's report with its evidence then refines
 * it: the report moves to the bucket of its evidence and still counts once. A report seen again (a redelivery, a
 * replay, a provisional one after its refinement) changes nothing.
 */
@ApplicationScoped
public class TriageService {

    private static final Logger LOG = Logger.getLogger(TriageService.class);
    private static final ObjectMapper JSON = new ObjectMapper().findAndRegisterModules();

    private final AgroalDataSource db;
    private final EvidenceReader evidence;
    private final Outbox outbox;
    private final TriageMetrics metrics;
    private final RegressionService regressions;
    private final CollectionPolicyService collection;
    private final RulesService rules;

    TriageService(
            AgroalDataSource db,
            EvidenceReader evidence,
            Outbox outbox,
            TriageMetrics metrics,
            RegressionService regressions,
            CollectionPolicyService collection,
            RulesService rules) {
        this.db = db;
        this.evidence = evidence;
        this.outbox = outbox;
        this.metrics = metrics;
        this.regressions = regressions;
        this.collection = collection;
        this.rules = rules;
    }

    /** Files one report; returns its bucket id. */
    public UUID triage(CrashReported report) throws SQLException {
        // The rules in force, once every stored report has keys under them: a new version finds the old buckets.
        Evidence read = evidence.read(report, rules.ensureCurrent());
        var s = read.signature();
        BucketRepository.NewReport row = new BucketRepository.NewReport(
                report.getIncidentId().toString(),
                s.title(),
                s.instantKey(),
                s.symbolicKey(),
                read.kind(),
                text(report.getProduct()),
                text(report.getRelease()),
                report.getVm().getUuid().toString(),
                text(report.getVm().getName()),
                report.getHostId().toString(),
                report.getTrigger().name(),
                report.getDetectedAt(),
                report.getComplete(),
                ReportSigner.factsJson(read.facts()),
                json(artifacts(report.getArtifacts())),
                report.getProvisional());
        UUID bucket;
        boolean created;
        boolean refined = false;
        CrashTriaged collect;
        try (Connection c = db.getConnection()) {
            c.setAutoCommit(false);
            try {
                BucketRepository.Filed filed =
                        BucketRepository.insertIfAbsent(c, row, s.rulesVersion(), searchFacts(read, report));
                if (filed == null) {
                    BucketRepository.Provisional was =
                            row.provisional() ? null : BucketRepository.provisional(c, row.incidentId());
                    if (was == null) {
                        c.rollback();
                        metrics.reportDuplicate();
                        return BucketRepository.bucketId(s.symbolicKey());
                    }
                    filed = BucketRepository.refine(c, row, s.rulesVersion(), searchFacts(read, report), was);
                    refined = true;
                    if (!filed.bucket().equals(was.bucket())) {
                        BucketRepository.countInto(c, row, filed.bucket());
                    } // else it counts where it was filed provisionally already
                } else {
                    BucketRepository.countInto(c, row, filed.bucket());
                }
                bucket = filed.bucket();
                created = filed.created();
                if (created) {
                    // Announced only if this transaction commits; the event id is derived from the bucket.
                    Outbox.stage(c, newBucket(report, row, bucket, s.symbolicKey(), s.instantKey()));
                }
                // Same for a change of the bucket's collection policy: its event id is bucket and change number.
                collect = collection.afterFiling(c, bucket, FullDumps.carried(report.getArtifacts()));
                if (collect != null) {
                    Outbox.stage(c, collect);
                }
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
        if (created || collect != null) {
            outbox.relaySoon();
        }
        metrics.reportFiled(refined ? "refined" : row.provisional() ? "provisional" : "filed", read.kind());
        if (created) {
            metrics.bucketCreated();
            LOG.infof("new bucket %s: %s", bucket, s.title());
        }
        if (collect != null) {
            collection.published(collect);
        }
        if (row.provisional()) {
            // Judged when its evidence has placed it: a waiting room's rate says nothing about one bug.
            return bucket;
        }
        try {
            regressions.judge(bucket, row.product(), row.release());
        } catch (SQLException | RuntimeException e) {
            // The report is filed; the sweep judges its bucket again.
            LOG.warnf("judging bucket %s in %s %s: %s", bucket, row.product(), row.release(), e.getMessage());
        }
        return bucket;
    }

    private static CrashTriaged newBucket(
            CrashReported report, BucketRepository.NewReport row, UUID bucket, String symbolic, String instant) {
        // Built field by field: Avro's deep copy (newBuilder(other)) resolves classes through a class loader that
        // is not Quarkus's and fails on generated records.
        Envelope from = report.getEnvelope();
        Envelope envelope = Envelope.newBuilder()
                .setEventId(UUID.nameUUIDFromBytes(("triaged:new:" + bucket).getBytes(StandardCharsets.UTF_8))
                        .toString())
                .setEventType(Envelopes.eventType(CrashTriaged.getClassSchema()))
                .setOccurredAt(from.getOccurredAt())
                .setSource(dev.vigil.schemas.common.Source.newBuilder()
                        .setHostId(from.getSource().getHostId())
                        .setAgentId(from.getSource().getAgentId())
                        .setAgentVersion(from.getSource().getAgentVersion())
                        .build())
                .setTenant(from.getTenant())
                .setSchemaVersion(EventCodec.of(CrashTriaged.class).currentVersion())
                .build();
        return CrashTriaged.newBuilder()
                .setEnvelope(envelope)
                .setBucketId(bucket.toString())
                .setKind(TriageKind.NEW_BUCKET)
                .setTitle(row.title())
                .setSignatureKeys(Map.of("symbolic", symbolic, "instant", instant))
                .setProduct(row.product())
                .setRelease(row.release())
                .setReportCount(1L)
                .setRatePer1000VmHours(null)
                .setPreviousReleaseRate(null)
                .build();
    }

    /** What the new bucket is searched by: its frames, the faulting module, the STOP code. */
    private static BucketRepository.SearchFacts searchFacts(Evidence read, CrashReported report) {
        String module = read.facts() instanceof KernelReport k ? k.faultingModule() : null;
        Long bugcheck = null;
        if (read.facts() instanceof WindowsDumpHeader w) {
            bugcheck = w.bugcheckCode();
        } else if ("hypervisor-panic".equals(read.kind())) {
            bugcheck = report.getPanic().getBugcheckCode();
        }
        return new BucketRepository.SearchFacts(
                read.signature().frames(), module, bugcheck == null ? null : String.format("0x%X", bugcheck));
    }

    private static List<Map<String, Object>> artifacts(List<ArtifactRef> refs) {
        List<Map<String, Object>> list = new ArrayList<>();
        for (ArtifactRef a : refs) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("kind", a.getKind().name());
            m.put("objectKey", a.getObjectKey().toString());
            m.put("sha256", a.getSha256().toString());
            m.put("sizeBytes", a.getSizeBytes());
            m.put("format", a.getFormat().toString());
            m.put("status", a.getStatus().name());
            list.add(m);
        }
        return list;
    }

    private static String json(Object value) {
        if (value == null) {
            return null;
        }
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            return null;
        }
    }

    private static String text(CharSequence value) {
        return value == null ? null : value.toString();
    }
}
