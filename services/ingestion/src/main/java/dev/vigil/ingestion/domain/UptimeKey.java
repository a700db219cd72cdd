package dev.vigil.ingestion.domain;

import java.time.LocalDate;
import java.util.Comparator;

/**
 * One uptime ledger row: a UTC day, tenant, product and release ({@code ""} where the image does not say). Ordered,
 * so writers lock ledger rows in one order.
 */
public record UptimeKey(LocalDate day, String tenant, String product, String release) implements Comparable<UptimeKey> {

    private static final Comparator<UptimeKey> ORDER = Comparator.comparing(UptimeKey::day)
            .thenComparing(UptimeKey::tenant)
            .thenComparing(UptimeKey::product)
            .thenComparing(UptimeKey::release);

    @Override
    public int compareTo(UptimeKey other) {
        return ORDER.compare(this, other);
    }
}
