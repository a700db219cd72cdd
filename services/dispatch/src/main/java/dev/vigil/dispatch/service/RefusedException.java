package dev.vigil.dispatch.service;

/** A request dispatch refuses, with a title and a detail that say what to do; the API maps {@link Why} to a status. */
public final class RefusedException extends RuntimeException {

    /** Why a request is refused. */
    public enum Why {
        /** The request itself is malformed. */
        INVALID,
        /** It names something that does not exist. */
        NOT_FOUND,
        /** It conflicts with the current state of what it names. */
        CONFLICT,
        /** It is well-formed but cannot be carried out as given. */
        UNPROCESSABLE,
        /** Its body is larger than allowed. */
        TOO_LARGE,
        /** It names something that is no longer valid (an expired token). */
        GONE,
        /** A store dispatch depends on did not answer; the request can be repeated. */
        UNAVAILABLE
    }

    private final Why why;
    private final String title;

    public RefusedException(Why why, String title, String detail) {
        super(detail, null, false, false);
        this.why = why;
        this.title = title;
    }

    public static RefusedException badRequest(String title, String detail) {
        return new RefusedException(Why.INVALID, title, detail);
    }

    public static RefusedException notFound(String title, String detail) {
        return new RefusedException(Why.NOT_FOUND, title, detail);
    }

    public static RefusedException conflict(String title, String detail) {
        return new RefusedException(Why.CONFLICT, title, detail);
    }

    public static RefusedException unprocessable(String title, String detail) {
        return new RefusedException(Why.UNPROCESSABLE, title, detail);
    }

    public Why why() {
        return why;
    }

    public String title() {
        return title;
    }
}
