package dev.vigil.ingestion.service;

import dev.vigil.ingestion.config.IngestionConfig;
import dev.vigil.ingestion.domain.RecordedEvent;
import dev.vigil.ingestion.domain.UptimeSpan;
import dev.vigil.ingestion.persistence.UptimeRepository;
import dev.vigil.ingestion.persistence.VmEntity;
import dev.vigil.ingestion.persistence.VmRepository;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.time.LocalDate;
import java.util.Comparator;
import java.util.Map;
import java.util.TreeMap;

/**
 * Counts VM-hours per release per day, the denominator of crash rates. A VM's running time is credited from the
 * moment it was last accounted for to the next thing heard about it: its own events, or its host's agent status
 * reports (heartbeats). Silence longer than {@code vigil.ingestion.uptime-max-gap} is not credited: a host that went
 * quiet may have been off.
 */
@ApplicationScoped
public class UptimeLedger {

    private final VmRepository vms;
    private final UptimeRepository ledger;
    private final IngestionConfig config;

    UptimeLedger(VmRepository vms, UptimeRepository ledger, IngestionConfig config) {
        this.vms = vms;
        this.ledger = ledger;
        this.config = config;
    }

    /** After the VM's inventory row took the event; must run in the same transaction. */
    void vmEvent(RecordedEvent event) {
        VmEntity vm = vms.lock(event.vmUuid());
        if (vm == null) {
            return;
        }
        advance(vm, event.occurredAt());
        if (event.state() != null) {
            // The inventory keeps the newest state, so an out-of-order event changes nothing here.
            vm.running = "STARTED".equals(vm.state) || "RESUMED".equals(vm.state);
        }
        // Written now: the next record of the batch may upsert this row with a native statement.
        vms.flush();
    }

    /** The host's agent spoke at {@code at}: its running VMs ran until then (one ledger write per release). */
    void hostAlive(String hostId, Instant at) {
        // Pending entity changes first: the statement below reads and moves the same rows.
        vms.flush();
        Map<Key, Double> credits = new TreeMap<>();
        for (VmRepository.Counted vm : vms.advanceRunningOn(hostId, at)) {
            UptimeSpan.perDay(vm.from(), at, config.uptimeMaxGap())
                    .forEach((day, seconds) -> credits.merge(
                            new Key(day, vm.tenant(), nullToEmpty(vm.product()), nullToEmpty(vm.release())),
                            seconds,
                            Double::sum));
        }
        flush(credits);
    }

    private void advance(VmEntity vm, Instant at) {
        if (vm.countedUntil != null && !at.isAfter(vm.countedUntil)) {
            return;
        }
        if (vm.countedUntil != null && vm.running) {
            Map<Key, Double> credits = new TreeMap<>();
            UptimeSpan.perDay(vm.countedUntil, at, config.uptimeMaxGap())
                    .forEach((day, seconds) -> credits.merge(
                            new Key(day, vm.tenant, nullToEmpty(vm.product), nullToEmpty(vm.release)),
                            seconds,
                            Double::sum));
            flush(credits);
        }
        vm.countedUntil = at;
    }

    // Written in key order, so concurrent writers lock ledger rows in the same order.
    private void flush(Map<Key, Double> credits) {
        credits.forEach((k, seconds) -> ledger.credit(k.day(), k.tenant(), k.product(), k.release(), seconds));
    }

    private static String nullToEmpty(String value) {
        return value == null ? UptimeRepository.UNDECLARED : value;
    }

    private record Key(LocalDate day, String tenant, String product, String release) implements Comparable<Key> {
        private static final Comparator<Key> ORDER = Comparator.comparing(Key::day)
                .thenComparing(Key::tenant)
                .thenComparing(Key::product)
                .thenComparing(Key::release);

        @Override
        public int compareTo(Key other) {
            return ORDER.compare(this, other);
        }
    }
}
