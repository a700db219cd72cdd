package dev.vigil.ingestion.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;

/**
 * One recorded agent event as the timeline API shows it.
 *
 * @param summary the event's payload as a JSON object (e.g. a lifecycle's {@code state} and {@code reason}); one too
 *     long to keep whole is {@code {"truncated": true, "length": N, "text": "<its start>"}}
 */
public record EventDto(
        String eventId,
        String type,
        String kind,
        String state,
        String reason,
        String hostId,
        Instant occurredAt,
        Instant receivedAt,
        JsonNode summary) {}
