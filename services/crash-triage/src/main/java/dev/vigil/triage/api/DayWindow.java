package dev.vigil.triage.api;

import dev.vigil.problem.ProblemDto;
import dev.vigil.problem.ProblemException;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;

/** Whole UTC days [first, last], both included, parsed from query text so a bad day or window is a 400 problem. */
record DayWindow(LocalDate first, LocalDate last) {

    /** A year of days, a leap day included: what a console chart shows at most. */
    static final int MAX_DAYS = 366;

    static final String BAD_WINDOW = "Bad window";

    /** {@code from} and {@code to} as days; by default {@code to} is today and the window {@code defaultDays} long. */
    static DayWindow parse(String from, String to, int defaultDays) {
        LocalDate last = day("to", to, LocalDate.now(ZoneOffset.UTC));
        LocalDate first = day("from", from, last.minusDays(defaultDays - 1));
        if (first.isAfter(last)) {
            throw ProblemException.badRequest(BAD_WINDOW, "from (" + first + ") is after to (" + last + ")");
        }
        long days = ChronoUnit.DAYS.between(first, last) + 1;
        if (days > MAX_DAYS) {
            throw ProblemException.badRequest(
                    BAD_WINDOW, "the window is at most " + MAX_DAYS + " days, from and to included, got " + days);
        }
        return new DayWindow(first, last);
    }

    private static LocalDate day(String parameter, String value, LocalDate fallback) {
        if (value == null || value.isBlank()) {
            return fallback;
        }
        LocalDate day;
        try {
            day = LocalDate.parse(value.strip());
        } catch (DateTimeParseException e) {
            day = null;
        }
        // Years past 9999 parse, but are no report's day and overflow a timestamp.
        if (day == null || day.getYear() < 1 || day.getYear() > 9999) {
            throw ProblemException.badRequest(
                    BAD_WINDOW,
                    parameter + " must be a UTC day such as 2026-11-24, got '" + ProblemDto.echo(value) + "'");
        }
        return day;
    }
}
