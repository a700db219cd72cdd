package dev.vigil.problem;

import java.util.regex.Pattern;

/**
 * Path and query parameters read from their text, so that a bad value is a 400 problem naming the parameter: the
 * framework's own conversion answers 404 with no body, and PostgreSQL refuses text with a NUL in it.
 */
public final class RequestParams {

    public static final String BAD_PARAMETER = "Bad parameter";

    private static final Pattern UUID =
            Pattern.compile("[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}");

    private RequestParams() {}

    /** A whole number in the int range; {@code fallback} when absent or blank. */
    public static int wholeNumber(String name, String text, int fallback) {
        if (text == null || text.isBlank()) {
            return fallback;
        }
        try {
            return Integer.parseInt(text.strip());
        } catch (NumberFormatException e) {
            throw ProblemException.badRequest(
                    BAD_PARAMETER,
                    name + " must be a whole number from " + Integer.MIN_VALUE + " to " + Integer.MAX_VALUE + ", got '"
                            + ProblemDto.echo(text) + "'");
        }
    }

    /** Free text, as given (null stays null), refused when it holds a NUL character. */
    public static String text(String name, String value) {
        if (value != null && value.indexOf('\0') >= 0) {
            throw ProblemException.badRequest(BAD_PARAMETER, name + " must not contain a NUL character");
        }
        return value;
    }

    /** A UUID in its 36-character form (8-4-4-4-12 hex digits, either case), as given. */
    public static String uuid(String name, String value) {
        if (value == null || !UUID.matcher(value).matches()) {
            throw ProblemException.badRequest(
                    BAD_PARAMETER,
                    name + " must be a UUID such as 0b8e4a2c-5f1d-4c3e-9a7b-6d2f1e0c9b8a, got '"
                            + ProblemDto.echo(value) + "'");
        }
        return value;
    }
}
