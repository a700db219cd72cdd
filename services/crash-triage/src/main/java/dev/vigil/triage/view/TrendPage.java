package dev.vigil.triage.view;

import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Buckets' reports per UTC day, for the console's trend charts.
 *
 * @param days the window's UTC days, oldest first
 * @param counts per bucket asked for, in the order asked, its reports detected on each of {@code days} (0 on a day
 *     without any)
 */
public record TrendPage(List<LocalDate> days, Map<UUID, List<Long>> counts) {}
