package dev.vigil.triage.view;

import java.util.List;

/**
 * A bucket's reports in one product release per UTC day.
 *
 * @param product the product, '' when the reports did not say
 * @param release the release, '' when the reports did not say
 * @param total its reports in the window
 * @param counts its reports on each of the window's days (0 on a day without any)
 */
public record ReleaseSeries(String product, String release, long total, List<Long> counts) {}
