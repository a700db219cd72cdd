package dev.vigil.ingestion.api;

import java.time.Instant;

/** A user's comment about a VM. */
public record FeedbackDto(
        String eventId, String text, Integer rating, String category, String screenshotKey, Instant occurredAt) {}
