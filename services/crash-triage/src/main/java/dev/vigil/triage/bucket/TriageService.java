package dev.vigil.triage.bucket;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vigil.schemas.crash.ArtifactRef;
import dev.vigil.schemas.crash.CrashReported;
import dev.vigil.triage.evidence.KernelReport;
import dev.vigil.triage.evidence.WindowsDumpHeader;
import dev.vigil.triage.metrics.TriageMetrics;
import dev.vigil.triage.regression.RegressionService;
import dev.vigil.triage.rules.ReportSigner;
import dev.vigil.triage.rules.RulesService;
import jakarta.enterprise.context.ApplicationScoped;
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

    private final EvidenceReader evidence;
    private final FilingService filings;
    private final TriageMetrics metrics;
    private final RegressionService regressions;
    private final RulesService rules;

    TriageService(
            EvidenceReader evidence,
            FilingService filings,
            TriageMetrics metrics,
            RegressionService regressions,
            RulesService rules) {
        this.evidence = evidence;
        this.filings = filings;
        this.metrics = metrics;
        this.regressions = regressions;
        this.rules = rules;
    }

    /**
     * Files one report; returns its bucket id. The evidence is read, and the bucket judged for regressions, outside
     * the filing transaction: neither the object store nor the uptime ledger is waited on with rows locked.
     */
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
        FilingService.Filing filing = filings.file(report, row, s.rulesVersion(), searchFacts(read, report));
        if (filing.bucket() == null) {
            metrics.reportDuplicate();
            return BucketRepository.bucketId(s.symbolicKey());
        }
        // Committed: what it staged is on its way through the outbox.
        UUID bucket = filing.bucket();
        metrics.reportFiled(filing.refined() ? "refined" : row.provisional() ? "provisional" : "filed", read.kind());
        if (filing.created()) {
            metrics.bucketCreated();
            LOG.infof("new bucket %s: %s", bucket, s.title());
        }
        if (row.provisional()) {
            // Judged when its evidence has placed it: a waiting room's rate says nothing about one bug.
            return bucket;
        }
        try {
            regressions.judge(bucket, row.product(), row.release());
        } catch (Exception e) {
            // The report is filed; the sweep judges its bucket again.
            LOG.warnf("judging bucket %s in %s %s: %s", bucket, row.product(), row.release(), e.getMessage());
        }
        return bucket;
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
            if (a.getEncryption() != null) {
                m.put("encryption", a.getEncryption().toString());
            }
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
