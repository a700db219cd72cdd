package dev.vigil.ingestion.domain;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class UptimeSpanTest {

    private static final Duration NO_CAP = Duration.ofDays(365);

    @Test
    void splitsAtUtcMidnight() {
        Map<LocalDate, Double> days =
                UptimeSpan.perDay(Instant.parse("2026-11-22T23:30:00Z"), Instant.parse("2026-11-24T00:15:00Z"), NO_CAP);

        assertThat(days)
                .containsExactly(
                        Map.entry(LocalDate.parse("2026-11-22"), 1800.0),
                        Map.entry(LocalDate.parse("2026-11-23"), 86400.0),
                        Map.entry(LocalDate.parse("2026-11-24"), 900.0));
    }

    @Test
    void creditsNoMoreThanTheCapFromTheStart() {
        Map<LocalDate, Double> days = UptimeSpan.perDay(
                Instant.parse("2026-11-22T10:00:00Z"), Instant.parse("2026-11-22T18:00:00Z"), Duration.ofMinutes(5));

        assertThat(days).containsExactly(Map.entry(LocalDate.parse("2026-11-22"), 300.0));
    }

    @Test
    void anEmptyOrBackwardSpanCreditsNothing() {
        Instant at = Instant.parse("2026-11-22T10:00:00Z");

        assertThat(UptimeSpan.perDay(at, at, NO_CAP)).isEmpty();
        assertThat(UptimeSpan.perDay(at, at.minusSeconds(1), NO_CAP)).isEmpty();
    }

    @Test
    void theDaysAlwaysAddUpToTheCappedSpan() {
        Random random = new Random(11);
        for (int i = 0; i < 2_000; i++) {
            Instant from = Instant.ofEpochMilli(1_700_000_000_000L + random.nextLong(100_000_000_000L));
            Instant to = from.plusMillis(random.nextLong(10L * 86_400_000L));
            Duration cap = Duration.ofMillis(1 + random.nextLong(5L * 86_400_000L));
            double expected = Math.min(Duration.between(from, to).toMillis(), cap.toMillis()) / 1000.0;

            double total = UptimeSpan.perDay(from, to, cap).values().stream()
                    .mapToDouble(Double::doubleValue)
                    .sum();

            assertThat(total).isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-6));
        }
    }
}
