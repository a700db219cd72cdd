package dev.vigil.triage.view;

import java.time.Instant;
import java.util.List;
import java.util.UUID;

/** A bucket found by a search. */
public record SearchDto(
        UUID id,
        String title,
        long reports,
        Instant firstSeen,
        Instant lastSeen,
        List<String> functions,
        String module,
        String bugcheck) {}
