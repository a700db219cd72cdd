package dev.vigil.triage.view;

/** One artifact of a report, with a link that works for a short while. */
public record ArtifactDto(String kind, String format, long sizeBytes, String sha256, String status, String url) {}
