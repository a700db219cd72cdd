package dev.vigil.triage.view;

import java.time.LocalDate;
import java.util.List;

/**
 * The product releases with crash reports in whole UTC days [from, to].
 *
 * @param items latest report first
 */
public record ReleaseListDto(LocalDate from, LocalDate to, List<ReleaseSummaryDto> items) {}
