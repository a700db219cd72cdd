package dev.vigil.ingestion.api;

import java.time.LocalDate;

/** VM-hours on one UTC day for one tenant, product and release ({@code ""} when the image does not say). */
public record UptimeDto(LocalDate day, String tenant, String product, String release, double vmHours) {}
