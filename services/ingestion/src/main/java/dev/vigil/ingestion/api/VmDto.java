package dev.vigil.ingestion.api;

import java.time.Instant;

/** A VM as the inventory API shows it. */
public record VmDto(
        String id,
        String name,
        String hostId,
        String tenant,
        String product,
        String release,
        String state,
        String stateReason,
        Instant stateAt,
        boolean running,
        Instant firstSeen,
        Instant lastSeen) {}
