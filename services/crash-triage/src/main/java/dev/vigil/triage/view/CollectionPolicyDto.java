package dev.vigil.triage.view;

import dev.vigil.triage.collection.CollectionPolicyService;
import java.time.Instant;

/**
 * A bucket's collection policy.
 *
 * @param dump {@code full}, {@code kernel} or {@code none}; null when nothing was requested yet
 * @param mode {@code auto} (follows the full-dump count) or {@code override} (an admin's choice)
 * @param reason {@code BELOW_FULL_DUMP_TARGET}, {@code FULL_DUMP_TARGET_REACHED} or {@code ADMIN_OVERRIDE}
 * @param sequence the number of the bucket's last policy change (0: none yet)
 * @param fullDumps reports counting in the bucket that carry a verified full (ELF) memory dump
 * @param fullDumpTarget full dumps collected before {@code auto} asks for none
 */
public record CollectionPolicyDto(
        String dump,
        String mode,
        String reason,
        long sequence,
        long fullDumps,
        int fullDumpTarget,
        String setBy,
        Instant setAt) {

    public static CollectionPolicyDto of(CollectionPolicyService.View v) {
        return new CollectionPolicyDto(
                v.dump() == null ? null : v.dump().wire(),
                v.mode(),
                v.reason(),
                v.sequence(),
                v.fullDumps(),
                v.fullDumpTarget(),
                v.setBy(),
                v.setAt());
    }
}
