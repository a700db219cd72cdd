package dev.vigil.ingestion.domain;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Replays a poll of new events, in order, against the VM rows they touch: the inventory (name, host, product and
 * release, the newest lifecycle state) and the uptime each VM earned. A VM's running time is credited from the
 * moment it was last accounted for to the next thing heard about it: its own events, or its host agent's status
 * reports (heartbeats). Silence longer than {@code maxGap} is not credited: a host that went quiet may have been off.
 */
public final class FleetReplay {

    private FleetReplay() {}

    /**
     * @param rows the VM rows of every VM the events name and every running VM of every host that reported its
     *     status, by UUID; rows for VMs seen for the first time are added
     * @return seconds to credit per ledger row
     */
    public static Map<UptimeKey, Double> apply(List<RecordedEvent> events, Map<String, VmRow> rows, Duration maxGap) {
        Map<UptimeKey, Double> credits = new TreeMap<>();
        for (RecordedEvent event : events) {
            if (event.vmUuid() != null) {
                VmRow vm = rows.computeIfAbsent(event.vmUuid(), VmRow::new);
                seen(vm, event);
                advance(vm, event.occurredAt(), maxGap, credits);
                if (event.state() != null) {
                    // The row keeps the newest state, so an out-of-order event changes nothing here.
                    vm.running = "STARTED".equals(vm.state) || "RESUMED".equals(vm.state);
                }
                vm.changed = true;
            } else if ("AgentStatus".equals(event.kind())) {
                for (VmRow vm : rows.values()) {
                    if (vm.running && event.hostId().equals(vm.hostId)) {
                        advance(vm, event.occurredAt(), maxGap, credits);
                    }
                }
            }
        }
        return credits;
    }

    private static void seen(VmRow vm, RecordedEvent event) {
        Instant at = event.occurredAt();
        boolean newest = vm.lastSeen == null || !at.isBefore(vm.lastSeen);
        vm.name = event.vmName();
        vm.hostId = event.hostId();
        vm.tenant = vm.tenant == null ? event.tenant() : vm.tenant;
        if (newest && event.product() != null) {
            vm.product = event.product();
        }
        if (newest && event.release() != null) {
            vm.release = event.release();
        }
        vm.firstSeen = vm.firstSeen == null || at.isBefore(vm.firstSeen) ? at : vm.firstSeen;
        vm.lastSeen = newest ? at : vm.lastSeen;
        if (event.state() != null && (vm.stateAt == null || !at.isBefore(vm.stateAt))) {
            vm.state = event.state();
            vm.stateReason = event.reason();
            vm.stateAt = at;
        }
    }

    private static void advance(VmRow vm, Instant at, Duration maxGap, Map<UptimeKey, Double> credits) {
        if (vm.countedUntil != null && !at.isAfter(vm.countedUntil)) {
            return;
        }
        if (vm.countedUntil != null && vm.running) {
            UptimeSpan.perDay(vm.countedUntil, at, maxGap)
                    .forEach((day, seconds) -> credits.merge(
                            new UptimeKey(day, vm.tenant, orEmpty(vm.product), orEmpty(vm.release)),
                            seconds,
                            Double::sum));
        }
        vm.countedUntil = at;
        vm.changed = true;
    }

    private static String orEmpty(String value) {
        return value == null ? "" : value;
    }
}
