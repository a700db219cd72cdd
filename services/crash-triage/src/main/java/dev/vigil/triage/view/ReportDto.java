package dev.vigil.triage.view;

import java.time.Instant;
import java.util.List;

/**
 * One report of a bucket.
 *
 * @param provisional filed on the hypervisor's event alone; its evidence is on its way and may move it to the
 *     bucket the evidence signs to
 */
public record ReportDto(
        String incidentId,
        String title,
        String evidence,
        String product,
        String release,
        String vmUuid,
        String vmName,
        String hostId,
        String trigger,
        Instant detectedAt,
        boolean complete,
        boolean provisional,
        List<ArtifactDto> artifacts) {}
