package dev.vigil.ingestion.domain;

import java.time.Instant;

/**
 * One accepted agent event as ingestion records it.
 *
 * @param kind the payload kind, e.g. Lifecycle, Crash, AgentStatus
 * @param state the lifecycle state for lifecycle events, else null
 * @param reason the lifecycle reason for lifecycle events, else null
 * @param summary a bounded human-readable rendering of the payload
 * @param product the product the VM's image declares, or null
 * @param release the release the VM's image declares, or null
 * @param trigger what kind of incident the event opens (CRASH, HANG, WATCHDOG, IO_ERROR), or null
 * @param hasPanic whether the event carries the hypervisor's panic data
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
        String product,
        String release,
        String state,
        String reason,
        Instant occurredAt,
        String summary,
        String topic,
        int partition,
        long offset,
        String trigger,
        boolean hasPanic) {}
