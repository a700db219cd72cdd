package dev.vigil.triage.api;

/** The JWT groups the API knows: analysts read and annotate, admins also change what buckets are. */
final class Roles {

    /** Reads buckets, searches, writes notes and links. */
    static final String ANALYST = "analyst";

    /** Everything an analyst does, plus merge/unmerge, rules dry runs and collection policy. */
    static final String ADMIN = "admin";

    private Roles() {}
}
