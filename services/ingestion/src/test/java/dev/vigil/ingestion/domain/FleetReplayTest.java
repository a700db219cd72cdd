package dev.vigil.ingestion.domain;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FleetReplayTest {

    private static final Instant T = Instant.parse("2026-11-24T10:00:00Z");
    private static final Duration GAP = Duration.ofMinutes(5);
    private static final LocalDate DAY = LocalDate.parse("2026-11-24");

    @Test
    void aPollIsReplayedInOrderAcrossLifecycleAndHeartbeats() {
        Map<String, VmRow> rows = new HashMap<>();
        Map<UptimeKey, Double> credits = FleetReplay.apply(
                List.of(
                        vmEvent("vm-1", "h1", "STARTED", T, "12.0"),
                        heartbeat("h1", T.plusSeconds(60)),
                        heartbeat("h2", T.plusSeconds(90)),
                        heartbeat("h1", T.plusSeconds(120)),
                        vmEvent("vm-1", "h1", "STOPPED", T.plusSeconds(150), "12.0"),
                        heartbeat("h1", T.plusSeconds(240))),
                rows,
                GAP);

        assertThat(credits).containsExactly(Map.entry(new UptimeKey(DAY, "acme", "AcmeOS", "12.0"), 150.0));
        VmRow vm = rows.get("vm-1");
        assertThat(vm.running).isFalse();
        assertThat(vm.state).isEqualTo("STOPPED");
        assertThat(vm.countedUntil).isEqualTo(T.plusSeconds(150));
        assertThat(vm.changed).isTrue();
    }

    @Test
    void anOlderLifecycleEventNeitherMovesTheStateNorStopsTheClock() {
        VmRow vm = new VmRow("vm-1");
        vm.hostId = "h1";
        vm.tenant = "acme";
        vm.state = "STARTED";
        vm.stateAt = T;
        vm.running = true;
        vm.countedUntil = T;
        vm.firstSeen = T;
        vm.lastSeen = T;
        Map<String, VmRow> rows = new HashMap<>(Map.of("vm-1", vm));

        Map<UptimeKey, Double> credits = FleetReplay.apply(
                List.of(
                        vmEvent("vm-1", "h1", "STOPPED", T.minusSeconds(30), "11.0"),
                        heartbeat("h1", T.plusSeconds(60))),
                rows,
                GAP);

        assertThat(vm.state).isEqualTo("STARTED");
        assertThat(vm.running).isTrue();
        // The late event still names the release its image declared then; the newer one keeps the row's release.
        assertThat(vm.release).isNull();
        assertThat(vm.firstSeen).isEqualTo(T.minusSeconds(30));
        assertThat(credits).containsExactly(Map.entry(new UptimeKey(DAY, "acme", "", ""), 60.0));
    }

    @Test
    void aRowNoEventTouchedIsNotWrittenBack() {
        VmRow idle = new VmRow("vm-2");
        idle.hostId = "h9";
        idle.running = true;
        idle.countedUntil = T;
        Map<String, VmRow> rows = new HashMap<>(Map.of("vm-2", idle));

        FleetReplay.apply(List.of(heartbeat("h1", T.plusSeconds(60))), rows, GAP);

        assertThat(idle.changed).isFalse();
        assertThat(idle.countedUntil).isEqualTo(T);
    }

    private static RecordedEvent vmEvent(String vm, String host, String state, Instant at, String release) {
        return new RecordedEvent(
                "e-" + at.toEpochMilli() + vm,
                "dev.vigil.agent.lifecycle",
                "Lifecycle",
                "acme",
                host,
                host + "-agent",
                "1.4.0",
                vm,
                vm,
                "AcmeOS",
                release,
                state,
                "X",
                at,
                "",
                "t",
                0,
                0,
                null,
                false);
    }

    private static RecordedEvent heartbeat(String host, Instant at) {
        return new RecordedEvent(
                "hb-" + at.toEpochMilli() + host,
                "dev.vigil.agent.agent-status",
                "AgentStatus",
                "acme",
                host,
                host + "-agent",
                "1.4.0",
                null,
                null,
                null,
                null,
                null,
                null,
                at,
                "",
                "t",
                0,
                0,
                null,
                false);
    }
}
