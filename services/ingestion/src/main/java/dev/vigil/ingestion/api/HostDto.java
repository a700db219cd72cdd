package dev.vigil.ingestion.api;

import java.time.Instant;

/** A host of the fleet and the agent last seen on it. */
public record HostDto(
        String id, String tenant, String agentId, String agentVersion, Instant firstSeen, Instant lastSeen) {}
