package dev.vigil.triage.rules;

import java.util.UUID;

/**
 * A filed report as stored, with what re-signing it needs.
 *
 * @param bucket the bucket it counts in
 * @param evidence the evidence kind it was signed from ({@code linux-console}, {@code linux-vmcore},
 *     {@code windows-dump-header}, {@code hypervisor-panic}, {@code hypervisor})
 * @param factsJson the parsed facts as stored at filing, or null
 * @param currentKey its symbolic key under the rules in force, when it has one
 */
public record StoredReport(
        String incidentId,
        UUID bucket,
        String evidence,
        String product,
        String release,
        String trigger,
        String factsJson,
        String currentKey) {}
