package dev.vigil.triage.api;

/** An RFC 9457 problem body for API errors. */
public record ProblemDto(String type, String title, int status, String detail) {

    static ProblemDto of(int status, String title, String detail) {
        return new ProblemDto("about:blank", title, status, detail);
    }
}
