package dev.vigil.problem;

/**
 * An RFC 9457 problem body, served as {@code application/problem+json}.
 *
 * @param type {@code about:blank}: the status and title say what went wrong
 * @param title what went wrong, the same for every occurrence of the problem
 * @param detail this occurrence: what was wrong with the request and how to fix it
 * @param instance the path the request was sent to
 */
public record ProblemDto(String type, String title, int status, String detail, String instance) {

    /** At most this much of anything a client sent is quoted back. */
    public static final int MAX_ECHO = 200;

    /**
     * What a client sent, fit to quote in a problem: at most {@link #MAX_ECHO} characters, control characters (NUL
     * included) shown as {@code ?}, and the full length said when it was cut.
     */
    public static String echo(String input) {
        if (input == null) {
            return "";
        }
        int keep = Math.min(input.length(), MAX_ECHO);
        StringBuilder shown = new StringBuilder(keep + 40);
        for (int i = 0; i < keep; i++) {
            char c = input.charAt(i);
            shown.append(Character.isISOControl(c) ? '?' : c);
        }
        if (keep < input.length()) {
            shown.append("... (").append(input.length()).append(" characters)");
        }
        return shown.toString();
    }
}
