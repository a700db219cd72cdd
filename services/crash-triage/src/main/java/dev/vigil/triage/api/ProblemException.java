package dev.vigil.triage.api;

/** A request the API refuses, with the problem body it answers with. */
final class ProblemException extends RuntimeException {

    private final int status;
    private final String title;

    ProblemException(int status, String title, String detail) {
        super(detail, null, false, false);
        this.status = status;
        this.title = title;
    }

    static ProblemException badRequest(String title, String detail) {
        return new ProblemException(400, title, detail);
    }

    ProblemDto problem() {
        return ProblemDto.of(status, title, getMessage());
    }

    int status() {
        return status;
    }
}
