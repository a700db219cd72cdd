package dev.vigil.triage.view;

/**
 * One artifact of a report. A verified one has {@code content}, the path of crash triage's endpoint that serves it
 * (decrypted when the agent encrypted it); an unencrypted verified one also has {@code url}, a link to the stored
 * object that works for a short while. {@code encrypted} says the stored bytes are sealed (VGE1).
 */
public record ArtifactDto(
        String kind,
        String format,
        long sizeBytes,
        String sha256,
        String status,
        String url,
        boolean encrypted,
        String content) {}
