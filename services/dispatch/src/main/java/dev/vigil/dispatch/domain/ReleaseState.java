package dev.vigil.dispatch.domain;

/** Where a release is on its way to agents. */
public enum ReleaseState {
    /** Created, no image declared yet. */
    DRAFT,
    /** Its image's manifest is declared and chunks are coming in. */
    UPLOADING,
    /** Every chunk is in; the whole image is being read back and checked. */
    VERIFYING,
    /** The image checked out; it can be published. */
    VERIFIED,
    /** The image failed its check (the reason is kept); a corrected manifest can be declared again. */
    REJECTED,
    /** Signed into the product's targets: agents can install it. */
    PUBLISHED
}
