package dev.vigil.ingestion.api;

import java.time.Instant;

/** An uploaded piece of evidence and whether its object checked out. */
public record ArtifactDto(
        String eventId,
        String incidentId,
        String kind,
        String objectKey,
        String sha256,
        long sizeBytes,
        String format,
        String status,
        String statusDetail,
        Instant occurredAt) {}
