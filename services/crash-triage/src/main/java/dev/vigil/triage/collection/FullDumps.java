package dev.vigil.triage.collection;

import dev.vigil.schemas.common.ArtifactKind;
import dev.vigil.schemas.crash.ArtifactRef;
import dev.vigil.schemas.crash.ArtifactStatus;
import java.util.List;

/**
 * Whether a report carries a full memory dump: a verified {@code MEMORY_DUMP} artifact in format {@code elf}, the
 * agent's all-of-guest-memory core ({@code dump=full}, also its fallback when the kernel's format fails). Kdump and
 * Windows dumps are the kernel's own format ({@code dump=kernel}) and do not count.
 */
public final class FullDumps {

    /** The artifact format of a full dump, as the agent names it. */
    static final String FORMAT = "elf";

    /** The same test in SQL over {@code report.artifacts} (JSON), for recounts. */
    public static final String SQL_FILTER =
            "artifacts::jsonb @> '[{\"kind\": \"MEMORY_DUMP\", \"format\": \"elf\", \"status\": \"VERIFIED\"}]'";

    private FullDumps() {}

    public static boolean carried(List<ArtifactRef> artifacts) {
        for (ArtifactRef a : artifacts) {
            if (a.getKind() == ArtifactKind.MEMORY_DUMP
                    && a.getStatus() == ArtifactStatus.VERIFIED
                    && FORMAT.equals(a.getFormat().toString())) {
                return true;
            }
        }
        return false;
    }
}
