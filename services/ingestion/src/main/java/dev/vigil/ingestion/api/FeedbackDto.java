package dev.vigil.ingestion.api;

import java.time.Instant;

/**
 * A user's comment about a VM.
 *
 * @param screenshotKey the attached screenshot's key in the evidence bucket, or null
 * @param screenshotUrl a presigned GET link to that screenshot, valid for
 *     {@code vigil.ingestion.screenshot-link-ttl}; null without a screenshot
 */
public record FeedbackDto(
        String eventId,
        String text,
        Integer rating,
        String category,
        String screenshotKey,
        String screenshotUrl,
        Instant occurredAt) {}
