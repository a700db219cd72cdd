package dev.vigil.agent.sampling;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class HangTrackerTest {

    private final HangTracker tracker = new HangTracker(Duration.ofSeconds(30));
    private final Instant t0 = Instant.parse("2026-11-24T10:00:00Z");

    @Test
    void reportsARunningVmWhoseCpuTimeStaysFlatOnceAfterTheThreshold() {
        assertThat(tracker.observe("vm", true, 100L, t0)).isNull();
        assertThat(tracker.observe("vm", true, 100L, t0.plusSeconds(20))).isNull();
        assertThat(tracker.observe("vm", true, 100L, t0.plusSeconds(31))).isEqualTo(Duration.ofSeconds(31));
        assertThat(tracker.observe("vm", true, 100L, t0.plusSeconds(60))).isNull();
    }

    @Test
    void progressEndsTheStallAndANewStallIsReportedAgain() {
        tracker.observe("vm", true, 100L, t0);
        tracker.observe("vm", true, 100L, t0.plusSeconds(40));
        assertThat(tracker.observe("vm", true, 200L, t0.plusSeconds(45))).isNull();
        assertThat(tracker.observe("vm", true, 200L, t0.plusSeconds(80))).isEqualTo(Duration.ofSeconds(35));
    }

    @Test
    void aPausedVmIsNotHung() {
        tracker.observe("vm", true, 100L, t0);
        assertThat(tracker.observe("vm", false, 100L, t0.plusSeconds(90))).isNull();
        assertThat(tracker.observe("vm", true, 100L, t0.plusSeconds(100))).isNull();
    }
}
