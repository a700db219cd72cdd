package dev.vigil.dispatch.api;

/** Who may do what: vendor staff by their JWT groups, agents by their host token. */
final class Roles {

    /** Reads products, releases, enrolments, licenses, commands and rollouts. */
    static final String ANALYST = "analyst";

    /** Also uploads, verifies and publishes releases, issues and revokes licenses, issues commands, runs rollouts. */
    static final String OPERATOR = "operator";

    /** Also manages products, programmes and signing keys. */
    static final String ADMIN = "admin";

    /** An enrolled host's agent. */
    static final String HOST = "host";

    private Roles() {}
}
