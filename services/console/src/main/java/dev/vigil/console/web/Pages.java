package dev.vigil.console.web;

import java.util.List;
import java.util.UUID;

/** Checks of what a page is asked for: a bad value is a 400 page that says what was expected. */
final class Pages {

    private static final int ECHO = 80;

    private Pages() {}

    static PageException badRequest(String detail) {
        return new PageException(400, "Bad request", detail);
    }

    static PageException notFound(String detail) {
        return new PageException(404, "Not found", detail);
    }

    /** A UUID in canonical form, or a 400. */
    static String uuid(String value) {
        try {
            if (value != null && value.length() == 36) {
                return UUID.fromString(value).toString();
            }
        } catch (IllegalArgumentException e) {
            // Falls through to the problem.
        }
        throw badRequest(
                "a bucket is named by its UUID, e.g. 0b7c6a54-1f1e-4c43-9a43-4d8b1f1a2b3c; got " + echo(value));
    }

    /** One of {@code allowed} (the default when absent), or a 400. */
    static int choice(String name, String value, int fallback, List<Integer> allowed) {
        if (value == null || value.isBlank()) {
            return fallback;
        }
        try {
            int n = Integer.parseInt(value.strip());
            if (allowed.contains(n)) {
                return n;
            }
        } catch (NumberFormatException e) {
            // Falls through to the problem.
        }
        throw badRequest(name + " is one of " + allowed + "; got " + echo(value));
    }

    /** A whole number in [min, max] (the default when absent), or a 400. */
    static int number(String name, String value, int fallback, int min, int max) {
        if (value == null || value.isBlank()) {
            return fallback;
        }
        try {
            int n = Integer.parseInt(value.strip());
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // Falls through to the problem.
        }
        throw badRequest(name + " is a whole number from " + min + " to " + max + "; got " + echo(value));
    }

    /** A value quoted for a message: at most 80 characters, control characters shown as '?'. */
    static String echo(String value) {
        if (value == null) {
            return "nothing";
        }
        String clean = value.codePoints()
                .map(c -> Character.isISOControl(c) ? '?' : c)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append)
                .toString();
        return "\"" + (clean.length() > ECHO ? clean.substring(0, ECHO) + "…" : clean) + "\"";
    }
}
