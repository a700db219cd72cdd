package dev.vigil.ingestion.domain;

import java.time.Instant;

/** A host's agent spoke at {@code at}, under this identity. */
public record HostSighting(String hostId, String tenant, String agentId, String agentVersion, Instant at) {}
