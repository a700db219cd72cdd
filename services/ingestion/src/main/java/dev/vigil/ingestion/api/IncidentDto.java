package dev.vigil.ingestion.api;

import java.time.Instant;
import java.util.List;

/**
 * An incident and the state of its crash report.
 *
 * @param trigger CRASH, HANG, WATCHDOG, IO_ERROR, or INTERRUPT (the vendor's, kept and not triaged); null while
 *     only its artifacts have arrived
 * @param provisionalReportedAt when its trigger was reported provisionally, before its evidence; null if it was not
 * @param complete whether every expected kind of evidence was verified; null until reported
 * @param missing the expected kinds without verified evidence when reported
 * @param waitingFor while it is open, the expected kinds without verified evidence yet: it is reported when they
 *     arrive, or at {@code deadline} with whatever has; empty once reported
 */
public record IncidentDto(
        String id,
        String vmUuid,
        String vmName,
        String hostId,
        String product,
        String release,
        String trigger,
        Instant detectedAt,
        Instant openedAt,
        Instant deadline,
        Instant provisionalReportedAt,
        Instant reportedAt,
        String reportEventId,
        Boolean complete,
        List<String> missing,
        List<String> waitingFor,
        List<ArtifactDto> artifacts) {}
