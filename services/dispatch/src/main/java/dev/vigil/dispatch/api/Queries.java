package dev.vigil.dispatch.api;

import dev.vigil.dispatch.service.RefusedException;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.UUID;

/** Query and body values parsed from text, so a bad one is a 400 problem that names it. */
final class Queries {

    private Queries() {}

    static long number(String name, String value, long fallback, long min, long max) {
        if (value == null || value.isBlank()) {
            return fallback;
        }
        try {
            long number = Long.parseLong(value.strip());
            if (number < min || number > max) {
                throw RefusedException.badRequest("Bad " + name, name + " must be " + min + "-" + max);
            }
            return number;
        } catch (NumberFormatException e) {
            throw RefusedException.badRequest(
                    "Bad " + name, name + " must be a whole number, got '" + cut(value) + "'");
        }
    }

    static int integer(String name, String value, int fallback, int min, int max) {
        return (int) number(name, value, fallback, min, max);
    }

    static UUID uuid(String name, String value) {
        if (value == null || value.isBlank()) {
            return null;
        }
        try {
            return UUID.fromString(value.strip());
        } catch (IllegalArgumentException e) {
            throw RefusedException.badRequest("Bad " + name, name + " must be a UUID, got '" + cut(value) + "'");
        }
    }

    /** A path id that must be a UUID: anything else names nothing. */
    /** An id that is a UUID in its 36-character form; anything else is a 400 naming what was expected. */
    static UUID id(String what, String value) {
        if (value == null || !UUID_TEXT.matcher(value).matches()) {
            throw RefusedException.badRequest(
                    "Bad " + what + " id",
                    "a " + what + " id is a UUID such as 0b8e4a2c-5f1d-4c3e-9a7b-6d2f1e0c9b8a, got '"
                            + cut(value == null ? "" : value.replace("\0", "\\0")) + "'");
        }
        return UUID.fromString(value);
    }

    private static final java.util.regex.Pattern UUID_TEXT = java.util.regex.Pattern.compile(
            "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

    static Duration duration(String name, String value, Duration fallback) {
        if (value == null || value.isBlank()) {
            return fallback;
        }
        try {
            return Duration.parse(value.strip());
        } catch (DateTimeParseException e) {
            throw RefusedException.badRequest(
                    "Bad " + name, name + " is an ISO-8601 duration such as PT1H or P7D, got '" + cut(value) + "'");
        }
    }

    /** A host id as enrolment accepts them; anything else is a 400 that says what a host id is. */
    static String hostId(String value) {
        String problem = dev.vigil.dispatch.domain.Names.hostProblem(value);
        if (problem != null) {
            throw RefusedException.badRequest("Bad host id", problem);
        }
        return value;
    }

    private static String cut(String value) {
        return value.length() <= 80 ? value : value.substring(0, 80) + "...";
    }
}
