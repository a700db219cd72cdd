package dev.vigil.triage.view;

import java.time.LocalDate;
import java.util.List;
import java.util.UUID;

/**
 * A bucket's reports per UTC day and product release: which releases it crashes in, and since when.
 *
 * @param days the window's UTC days, oldest first
 * @param releases the releases with reports of the bucket in the window, most reports first
 */
public record HistoryDto(UUID bucket, List<LocalDate> days, List<ReleaseSeries> releases) {}
