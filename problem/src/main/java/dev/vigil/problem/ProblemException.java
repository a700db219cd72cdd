package dev.vigil.problem;

/** A request the API refuses, with the status, title and detail of the problem it answers with. */
public class ProblemException extends RuntimeException {

    private final int status;
    private final String title;

    public ProblemException(int status, String title, String detail) {
        super(detail, null, false, false);
        this.status = status;
        this.title = title;
    }

    public static ProblemException badRequest(String title, String detail) {
        return new ProblemException(400, title, detail);
    }

    public static ProblemException notFound(String title, String detail) {
        return new ProblemException(404, title, detail);
    }

    public int status() {
        return status;
    }

    public String title() {
        return title;
    }

    public String detail() {
        return getMessage();
    }
}
