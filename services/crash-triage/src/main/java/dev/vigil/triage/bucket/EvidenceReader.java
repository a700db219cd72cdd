package dev.vigil.triage.bucket;

import dev.vigil.schemas.EvidenceEncryption;
import dev.vigil.schemas.common.ArtifactKind;
import dev.vigil.schemas.crash.ArtifactRef;
import dev.vigil.schemas.crash.ArtifactStatus;
import dev.vigil.schemas.crash.CrashReported;
import dev.vigil.triage.evidence.LinuxConsoleParser;
import dev.vigil.triage.evidence.VmcoreParser;
import dev.vigil.triage.evidence.WindowsDumpHeader;
import dev.vigil.triage.signature.Signatures;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * Picks the best evidence of an incident and signs it: the console text (the kernel's own report), else the head
 * of the memory dump, else the hypervisor's panic data (a Windows STOP code), else only what the hypervisor saw.
 * Evidence the agent encrypted is read with the key its manifest names, when triage holds it ({@link EvidenceKeys});
 * evidence that is missing, corrupt, or sealed with a key triage does not hold is passed over. A store that cannot be
 * read just now is not final, so it throws {@link EvidenceUnavailableException} and the report is tried again.
 */
@ApplicationScoped
public class EvidenceReader {

    private static final Logger LOG = Logger.getLogger(EvidenceReader.class);
    private final EvidenceStore store;
    private final EvidenceKeys keys;

    public EvidenceReader(EvidenceStore store, EvidenceKeys keys) {
        this.store = store;
        this.keys = keys;
    }

    /** The best evidence of the report, signed under these rules. */
    public Evidence read(CrashReported report, Signatures signatures) {
        String release =
                report.getRelease() == null ? null : report.getRelease().toString();
        Optional<byte[]> console = verified(report, ArtifactKind.CONSOLE_TEXT);
        if (console.isPresent()) {
            var parsed = LinuxConsoleParser.parse(new String(console.get(), StandardCharsets.UTF_8));
            if (parsed.isPresent()) {
                return new Evidence("linux-console", parsed.get(), signatures.of(parsed.get(), release));
            }
        }
        Optional<byte[]> dump = verified(report, ArtifactKind.MEMORY_DUMP);
        if (dump.isPresent()) {
            var windows = WindowsDumpHeader.parse(dump.get());
            if (windows.isPresent()) {
                return new Evidence("windows-dump-header", windows.get(), signatures.of(windows.get(), release));
            }
            var vmcore = VmcoreParser.parse(dump.get());
            if (vmcore.isPresent()) {
                return new Evidence(
                        "linux-vmcore",
                        vmcore.get(),
                        signatures.of(vmcore.get(), release, report.getTrigger().name(), detail(report)));
            }
        }
        if (report.getPanic() != null && report.getPanic().getBugcheckCode() != null) {
            return new Evidence(
                    "hypervisor-panic",
                    report.getPanic().toString(),
                    signatures.ofBugcheck(report.getPanic().getBugcheckCode(), release));
        }
        return new Evidence(
                "hypervisor",
                null,
                signatures.ofHypervisor(
                        report.getTrigger().name(),
                        detail(report),
                        report.getProduct() == null ? null : report.getProduct().toString(),
                        release));
    }

    private static String detail(CrashReported report) {
        return report.getTriggerDetail() == null
                ? null
                : report.getTriggerDetail().toString();
    }

    private Optional<byte[]> verified(CrashReported report, ArtifactKind kind) {
        for (ArtifactRef artifact : report.getArtifacts()) {
            if (artifact.getKind() != kind || artifact.getStatus() != ArtifactStatus.VERIFIED) {
                continue;
            }
            try {
                byte[] bytes = store.head(artifact.getObjectKey().toString());
                if (EvidenceEncryption.sealed(bytes)) {
                    return unsealed(report, artifact, bytes);
                }
                return Optional.of(bytes);
            } catch (EvidenceStore.MissingEvidenceException e) {
                LOG.warnf("incident %s: %s is not in the store: %s", report.getIncidentId(), kind, e.getMessage());
            } catch (IOException e) {
                // Not final: filed without it, the report would stay in a coarser bucket for good.
                throw new EvidenceUnavailableException(
                        "incident " + report.getIncidentId() + ": " + kind + " cannot be read just now: "
                                + e.getMessage(),
                        e);
            }
        }
        return Optional.empty();
    }

    /** The plaintext head of sealed evidence (verified against its manifest's SHA-256 by ingestion), if triage can. */
    private Optional<byte[]> unsealed(CrashReported report, ArtifactRef artifact, byte[] sealed) {
        String keyId = EvidenceEncryption.keyIdOf(artifact.getEncryption());
        Optional<byte[]> key = keys.byId(keyId);
        if (key.isEmpty()) {
            LOG.infof(
                    "incident %s: %s is encrypted with %s, which triage does not hold (vigil.triage.evidence-keys)",
                    report.getIncidentId(),
                    artifact.getKind(),
                    keyId == null ? "a key its manifest does not name" : "key " + keyId);
            return Optional.empty();
        }
        try {
            return Optional.of(EvidenceEncryption.decryptHead(key.get(), sealed));
        } catch (GeneralSecurityException e) {
            LOG.warnf("incident %s: %s does not decrypt: %s", report.getIncidentId(), artifact.getKind(), e);
            return Optional.empty();
        }
    }
}
