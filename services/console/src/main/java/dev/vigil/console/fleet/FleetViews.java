package dev.vigil.console.fleet;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.List;

/** What the console reads from ingestion's API about VMs, their events, feedback and incidents. */
public final class FleetViews {

    private FleetViews() {}

    public record Vm(
            String id,
            String name,
            String hostId,
            String product,
            String release,
            String state,
            String stateReason,
            Instant stateAt,
            boolean running,
            Instant firstSeen,
            Instant lastSeen) {}

    public record Event(
            String eventId,
            String type,
            String kind,
            String state,
            String reason,
            String hostId,
            Instant occurredAt,
            JsonNode summary) {}

    /** A user's comment; {@code screenshotUrl} is a short-lived link to the attached picture, or null. */
    public record Feedback(
            String eventId,
            String text,
            Integer rating,
            String category,
            String screenshotKey,
            String screenshotUrl,
            Instant occurredAt) {}

    public record Incident(
            String id,
            String vmUuid,
            String vmName,
            String hostId,
            String product,
            String release,
            String trigger,
            Instant detectedAt,
            Instant deadline,
            Instant reportedAt,
            Boolean complete,
            List<String> missing,
            List<String> waitingFor) {}

    public record Page<T>(List<T> items, int page, int size, long total) {}
}
