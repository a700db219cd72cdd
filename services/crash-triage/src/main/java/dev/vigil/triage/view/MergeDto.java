package dev.vigil.triage.view;

import dev.vigil.triage.bucket.CurationService;
import java.time.Instant;
import java.util.UUID;

/** A merge in force, or just undone. */
public record MergeDto(UUID bucket, UUID into, String by, Instant at, String reason, long reportsMoved) {

    public static MergeDto of(CurationService.Merge m) {
        return new MergeDto(m.source(), m.target(), m.mergedBy(), m.mergedAt(), m.reason(), m.moved());
    }
}
