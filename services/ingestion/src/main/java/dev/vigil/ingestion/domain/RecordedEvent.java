package dev.vigil.ingestion.domain;

import java.time.Instant;

/**
 * One accepted agent event as ingestion records it.
 *
 * @param kind the payload kind, e.g. Lifecycle, Crash, AgentStatus
 * @param state the lifecycle state for lifecycle events, else null
 * @param reason the lifecycle reason for lifecycle events, else null
 * @param summary a bounded human-readable rendering of the payload
 */
public record RecordedEvent(
        String eventId,
        String eventType,
        String kind,
        String tenant,
        String hostId,
        String agentId,
        String agentVersion,
        String vmUuid,
        String vmName,
        String state,
        String reason,
        Instant occurredAt,
        String summary,
        String topic,
        int partition,
        long offset) {}
