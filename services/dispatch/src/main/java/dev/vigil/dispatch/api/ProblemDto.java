package dev.vigil.dispatch.api;

/** An RFC 9457 problem body. */
public record ProblemDto(String type, String title, int status, String detail) {

    static ProblemDto of(int status, String title, String detail) {
        return new ProblemDto("about:blank", title, status, detail);
    }
}
