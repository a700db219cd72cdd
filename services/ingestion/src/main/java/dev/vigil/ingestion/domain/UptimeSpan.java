package dev.vigil.ingestion.domain;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.Map;

/** Running time between two moments, split at UTC midnights into seconds per day. */
public final class UptimeSpan {

    private UptimeSpan() {}

    /**
     * The seconds of {@code [from, to)} that fall on each UTC day, at most {@code cap} in total (counted from
     * {@code from}): a VM nobody heard about for longer than the cap is not credited for the silence.
     *
     * @return day to seconds, in day order; empty when {@code to} is not after {@code from}
     */
    public static Map<LocalDate, Double> perDay(Instant from, Instant to, Duration cap) {
        Map<LocalDate, Double> days = new LinkedHashMap<>();
        Instant end = to.isAfter(from.plus(cap)) ? from.plus(cap) : to;
        Instant cursor = from;
        while (cursor.isBefore(end)) {
            LocalDate day = LocalDate.ofInstant(cursor, ZoneOffset.UTC);
            Instant midnight = day.plusDays(1).atStartOfDay().toInstant(ZoneOffset.UTC);
            Instant stop = midnight.isBefore(end) ? midnight : end;
            days.merge(day, Duration.between(cursor, stop).toNanos() / 1e9, Double::sum);
            cursor = stop;
        }
        return days;
    }
}
