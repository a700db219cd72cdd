package dev.vigil.ingestion.mapping;

import dev.vigil.ingestion.domain.ArtifactCheck;
import dev.vigil.ingestion.domain.EvidenceVerdict;
import dev.vigil.ingestion.persistence.ArtifactEntity;
import dev.vigil.ingestion.persistence.IncidentEntity;
import dev.vigil.schemas.Envelopes;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.agent.AgentEvent;
import dev.vigil.schemas.agent.Crash;
import dev.vigil.schemas.agent.IoError;
import dev.vigil.schemas.agent.Watchdog;
import dev.vigil.schemas.common.ArtifactKind;
import dev.vigil.schemas.common.Envelope;
import dev.vigil.schemas.common.PanicInfo;
import dev.vigil.schemas.common.Source;
import dev.vigil.schemas.common.VmRef;
import dev.vigil.schemas.crash.ArtifactRef;
import dev.vigil.schemas.crash.ArtifactStatus;
import dev.vigil.schemas.crash.CrashReported;
import dev.vigil.schemas.crash.IncidentTrigger;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.UUID;

/** Builds the {@code vigil.crash.reported.v1} record of an incident. */
@ApplicationScoped
public class CrashReportMapper {

    /**
     * The report's event id follows from the incident id, so a report published twice (the broker acknowledged
     * it but the database commit that records it failed) is one event to every consumer that dedupes by id.
     */
    public static String reportEventId(String incidentId) {
        return UUID.nameUUIDFromBytes(("vigil.crash.reported/" + incidentId).getBytes(StandardCharsets.UTF_8))
                .toString();
    }

    /** The provisional report's event id, distinct from the final report's and derived the same way. */
    public static String provisionalEventId(String incidentId) {
        return UUID.nameUUIDFromBytes(
                        ("vigil.crash.reported/provisional/" + incidentId).getBytes(StandardCharsets.UTF_8))
                .toString();
    }

    /** The incident's report, with its evidence as it stands. */
    public CrashReported toReport(
            IncidentEntity incident,
            List<ArtifactEntity> artifacts,
            EvidenceVerdict verdict,
            String fallbackProduct,
            String fallbackRelease) {
        return build(incident, artifacts, verdict, fallbackProduct, fallbackRelease, false);
    }

    /**
     * The incident's provisional report: what the hypervisor said, and no evidence yet (every expected kind is
     * missing), published so that the crash is filed at once; the report with its evidence follows.
     */
    public CrashReported toProvisionalReport(
            IncidentEntity incident, EvidenceVerdict verdict, String fallbackProduct, String fallbackRelease) {
        return build(incident, List.of(), verdict, fallbackProduct, fallbackRelease, true);
    }

    private CrashReported build(
            IncidentEntity incident,
            List<ArtifactEntity> artifacts,
            EvidenceVerdict verdict,
            String fallbackProduct,
            String fallbackRelease,
            boolean provisional) {
        AgentEvent trigger = decode(incident.triggerRecord);
        AgentEvent panicEvent = decode(incident.panicRecord);
        Instant detectedAt = incident.detectedAt == null ? incident.openedAt : incident.detectedAt;
        Source source = trigger != null
                ? trigger.getEnvelope().getSource()
                : Source.newBuilder()
                        .setHostId(incident.hostId)
                        .setAgentId("unknown")
                        .setAgentVersion("unknown")
                        .build();
        Envelope envelope = Envelope.newBuilder()
                .setEventId(provisional ? provisionalEventId(incident.incidentId) : reportEventId(incident.incidentId))
                .setEventType(Envelopes.eventType(CrashReported.getClassSchema()))
                .setOccurredAt(detectedAt)
                .setSource(source)
                .setTenant(incident.tenant)
                .setSchemaVersion(EventCodec.of(CrashReported.class).currentVersion())
                .build();
        String product = incident.product != null ? incident.product : fallbackProduct;
        String release = incident.release != null ? incident.release : fallbackRelease;
        return CrashReported.newBuilder()
                .setEnvelope(envelope)
                .setIncidentId(incident.incidentId)
                .setVm(VmRef.newBuilder()
                        .setUuid(incident.vmUuid)
                        .setName(incident.vmName != null ? incident.vmName : incident.vmUuid)
                        .setProduct(product)
                        .setRelease(release)
                        .build())
                .setHostId(incident.hostId)
                .setTrigger(
                        incident.trigger == null ? IncidentTrigger.UNKNOWN : IncidentTrigger.valueOf(incident.trigger))
                .setTriggerEventId(incident.incidentId)
                .setTriggerDetail(detail(trigger))
                .setDetectedAt(detectedAt)
                .setProduct(product)
                .setRelease(release)
                .setPanic(panic(panicEvent))
                .setArtifacts(artifacts.stream().map(CrashReportMapper::ref).toList())
                .setComplete(!provisional && verdict.complete())
                .setProvisional(provisional)
                .setMissing(
                        verdict.missing().stream().map(CrashReportMapper::kind).toList())
                .build();
    }

    private static ArtifactRef ref(ArtifactEntity a) {
        return ArtifactRef.newBuilder()
                .setKind(kind(a.kind))
                .setObjectKey(a.objectKey)
                .setSha256(a.sha256)
                .setSizeBytes(a.sizeBytes)
                .setFormat(a.format)
                .setEncryption(a.encryption)
                .setStatus(
                        switch (a.status) {
                            case ArtifactCheck.VERIFIED -> ArtifactStatus.VERIFIED;
                            case ArtifactCheck.MISSING -> ArtifactStatus.MISSING;
                            case ArtifactCheck.CORRUPT -> ArtifactStatus.CORRUPT;
                            default -> ArtifactStatus.UNKNOWN;
                        })
                .build();
    }

    private static ArtifactKind kind(String name) {
        return Arrays.stream(ArtifactKind.values())
                .filter(k -> k.name().equals(name))
                .findFirst()
                .orElse(ArtifactKind.UNKNOWN);
    }

    private static PanicInfo panic(AgentEvent event) {
        return event != null && event.getPayload() instanceof Crash crash ? crash.getPanic() : null;
    }

    /** What the hypervisor said about the trigger: an I/O error's reason, a watchdog's action. */
    static String detail(AgentEvent trigger) {
        if (trigger == null) {
            return null;
        }
        Object payload = trigger.getPayload();
        if (payload instanceof IoError io) {
            String reason = io.getReason().toString().strip();
            return reason.isEmpty() ? null : reason.toLowerCase(Locale.ROOT);
        }
        if (payload instanceof Watchdog watchdog) {
            return watchdog.getAction().name().toLowerCase(Locale.ROOT);
        }
        return null;
    }

    private static AgentEvent decode(byte[] record) {
        return record == null ? null : EventCodec.of(AgentEvent.class).decode(record);
    }
}
