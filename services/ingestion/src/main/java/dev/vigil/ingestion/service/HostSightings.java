package dev.vigil.ingestion.service;

import dev.vigil.ingestion.domain.HostSighting;
import dev.vigil.ingestion.domain.RecordedEvent;
import dev.vigil.schemas.common.Envelope;
import java.util.Collection;
import java.util.Map;
import java.util.TreeMap;

/**
 * The hosts a batch of records heard from, each with its newest sighting. Hosts come out in id order, so concurrent
 * batches update host rows in one order and cannot deadlock on them.
 */
public final class HostSightings {

    private final Map<String, HostSighting> newest = new TreeMap<>();

    void note(RecordedEvent event) {
        note(new HostSighting(
                event.hostId(), event.tenant(), event.agentId(), event.agentVersion(), event.occurredAt()));
    }

    void note(Envelope envelope) {
        note(new HostSighting(
                envelope.getSource().getHostId(),
                envelope.getTenant(),
                envelope.getSource().getAgentId(),
                envelope.getSource().getAgentVersion(),
                envelope.getOccurredAt()));
    }

    private void note(HostSighting sighting) {
        newest.merge(sighting.hostId(), sighting, (a, b) -> b.at().isAfter(a.at()) ? b : a);
    }

    /** In host id order. */
    Collection<HostSighting> newest() {
        return newest.values();
    }
}
