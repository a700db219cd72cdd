package dev.vigil.console.web;

import io.quarkus.qute.TemplateExtension;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/** How pages write times, rates and sizes: {@code {fmt:ago(bucket.lastSeen)}}, {@code {fmt:num(rate, 2)}}; null is shown as empty or a dash. */
@TemplateExtension(namespace = "fmt")
public final class Formats {

    private static final DateTimeFormatter UTC =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'").withZone(ZoneOffset.UTC);

    private Formats() {}

    /** {@code 2026-12-07 03:04:05 UTC}. */
    static String utc(Instant at) {
        return at == null ? "" : UTC.format(at);
    }

    /** {@code 3 min ago}, {@code 2 h ago}, {@code 5 d ago}. */
    static String ago(Instant at) {
        if (at == null) {
            return "";
        }
        Duration d = Duration.between(at, Instant.now());
        if (d.isNegative() || d.toSeconds() < 60) {
            return "just now";
        }
        if (d.toMinutes() < 60) {
            return d.toMinutes() + " min ago";
        }
        if (d.toHours() < 48) {
            return d.toHours() + " h ago";
        }
        return d.toDays() + " d ago";
    }

    /** A number with at most {@code digits} decimals, or an em dash when unknown. */
    static String num(Double value, int digits) {
        if (value == null || value.isNaN()) {
            return "—";
        }
        if (value != 0 && Math.abs(value) < 1) {
            // Small values keep two significant digits rather than rounding to 0.
            return new java.math.BigDecimal(value)
                    .round(new java.math.MathContext(2))
                    .stripTrailingZeros()
                    .toPlainString();
        }
        return String.format(Locale.ROOT, "%,." + digits + "f", value);
    }

    /** {@code 1.5 MiB}. */
    static String bytes(long size) {
        if (size < 1024) {
            return size + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double value = size;
        int unit = -1;
        while (value >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        return String.format(Locale.ROOT, "%.1f %s", value, units[unit]);
    }

    /** An ISO-8601 duration as a person reads it: {@code PT1H30M} is {@code 1 h 30 min}; text that is not one is kept. */
    static String duration(String iso) {
        if (iso == null) {
            return "";
        }
        Duration d;
        try {
            d = Duration.parse(iso);
        } catch (java.time.format.DateTimeParseException e) {
            return iso;
        }
        StringBuilder text = new StringBuilder();
        long days = d.toDays();
        if (days > 0) {
            text.append(days).append(" d ");
        }
        if (d.toHoursPart() > 0) {
            text.append(d.toHoursPart()).append(" h ");
        }
        if (d.toMinutesPart() > 0) {
            text.append(d.toMinutesPart()).append(" min ");
        }
        if (d.toSecondsPart() > 0 || text.isEmpty()) {
            text.append(d.toSecondsPart()).append(" s ");
        }
        return text.toString().strip();
    }

    /** A short form of an id: its first 8 characters. */
    static String brief(Object id) {
        String text = id == null ? "" : id.toString();
        return text.length() <= 8 ? text : text.substring(0, 8);
    }
}
