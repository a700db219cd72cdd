package dev.vigil.ingestion.service;

import dev.vigil.ingestion.domain.RecordedEvent;
import java.util.Collection;
import java.util.Map;
import java.util.TreeMap;

/** The hosts a batch of events heard from, each with the newest event that named it. */
public final class HostSightings {

    private final Map<String, RecordedEvent> newest = new TreeMap<>();

    void note(RecordedEvent event) {
        newest.merge(event.hostId(), event, (a, b) -> b.occurredAt().isAfter(a.occurredAt()) ? b : a);
    }

    /** In host id order. */
    Collection<RecordedEvent> newest() {
        return newest.values();
    }
}
