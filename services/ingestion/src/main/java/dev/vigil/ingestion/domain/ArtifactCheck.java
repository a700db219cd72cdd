package dev.vigil.ingestion.domain;

/**
 * The outcome of checking an artifact's object against its manifest.
 *
 * @param status VERIFIED, MISSING, CORRUPT, or UNVERIFIED to look again later
 * @param detail why, for anything but VERIFIED
 */
public record ArtifactCheck(String status, String detail) {

    public static final String VERIFIED = "VERIFIED";
    public static final String MISSING = "MISSING";
    public static final String CORRUPT = "CORRUPT";
    public static final String UNVERIFIED = "UNVERIFIED";
}
