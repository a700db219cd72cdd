package dev.vigil.triage.view;

import java.time.Instant;
import java.util.UUID;

/**
 * A bucket in a list, with its crash rate when the query names a release and ingestion knows its uptime.
 *
 * @param reports its reports detected in the window (exact)
 * @param hosts distinct hosts of its reports in the UTC days the window touches, estimated (HyperLogLog: exact
 *     for a few, within a few percent for many), never more than {@code reports}
 * @param vms distinct VMs, likewise
 * @param firstSeen its first report in the window
 * @param lastSeen its last report in the window
 * @param ratePer1000VmHours reports in the window per 1,000 VM-hours of the release in the window's days
 * @param regression the bucket's regression verdict in the queried release, or null
 */
public record BucketDto(
        UUID id,
        String title,
        long reports,
        long hosts,
        long vms,
        Instant firstSeen,
        Instant lastSeen,
        Double ratePer1000VmHours,
        RegressionDto regression) {}
