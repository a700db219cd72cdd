package dev.vigil.triage.view;

import java.util.List;

/**
 * A page of buckets.
 *
 * @param vmHours the release's VM-hours over the window's UTC days, when known
 */
public record BucketPage(List<BucketDto> items, Double vmHours, int limit, int offset) {}
