package dev.vigil.triage.rules;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vigil.triage.evidence.KernelReport;
import dev.vigil.triage.evidence.VmcoreFacts;
import dev.vigil.triage.evidence.WindowsDumpHeader;
import dev.vigil.triage.signature.Signature;
import dev.vigil.triage.signature.Signatures;

/**
 * Signs a stored report again from what filing kept ({@code report.facts} and its columns), under any rules: the
 * parsed facts are all a signature reads, so neither the raw evidence nor the object store is needed.
 */
public final class ReportSigner {

    private static final ObjectMapper JSON = new ObjectMapper()
            .findAndRegisterModules()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private ReportSigner() {}

    /** The facts of an evidence as filing stores them, or null when they do not serialize. */
    public static String factsJson(Object facts) {
        if (facts == null) {
            return null;
        }
        try {
            return JSON.writeValueAsString(facts);
        } catch (JsonProcessingException e) {
            return null;
        }
    }

    /** The report's signature under these rules, or null when its stored facts do not say enough. */
    public static Signature sign(StoredReport r, Signatures signatures) {
        try {
            return switch (r.evidence()) {
                case "linux-console" ->
                    r.factsJson() == null
                            ? null
                            : signatures.of(JSON.readValue(r.factsJson(), KernelReport.class), r.release());
                case "linux-vmcore" ->
                    r.factsJson() == null
                            ? null
                            : signatures.of(JSON.readValue(r.factsJson(), VmcoreFacts.class), r.release(), r.trigger());
                case "windows-dump-header" ->
                    r.factsJson() == null
                            ? null
                            : signatures.of(JSON.readValue(r.factsJson(), WindowsDumpHeader.class), r.release());
                case "hypervisor-panic" -> bugcheck(r, signatures);
                case "hypervisor" -> signatures.ofHypervisor(r.trigger(), r.product(), r.release());
                default -> null;
            };
        } catch (JsonProcessingException | RuntimeException e) {
            return null;
        }
    }

    /** The hypervisor's panic data is kept as its Avro JSON text; the STOP code is all the signature reads. */
    private static Signature bugcheck(StoredReport r, Signatures signatures) throws JsonProcessingException {
        if (r.factsJson() == null) {
            return null;
        }
        JsonNode panic = JSON.readTree(JSON.readValue(r.factsJson(), String.class));
        JsonNode code = panic.path("bugcheckCode");
        return code.isIntegralNumber() ? signatures.ofBugcheck(code.asLong(), r.release()) : null;
    }
}
