package dev.vigil.ingestion.api;

import java.time.Instant;

/** One recorded agent event as the timeline API shows it. */
public record EventDto(
        String eventId,
        String type,
        String kind,
        String state,
        String reason,
        String hostId,
        Instant occurredAt,
        Instant receivedAt,
        String summary) {}
