package dev.vigil.agent.sampling;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class FrameWatchTest {

    private final FrameWatch watch = new FrameWatch(Duration.ofSeconds(60));
    private final Instant t0 = Instant.parse("2026-11-24T10:00:00Z");
    private final byte[] frameA = {1, 2, 3};
    private final byte[] frameB = {4, 5, 6};

    @Test
    void busyVcpusBehindAFrozenScreenAreAHangOnceTheThresholdPasses() {
        assertThat(watch.observe("vm", true, frameA, t0)).isNull();
        assertThat(watch.observe("vm", true, frameA, t0.plusSeconds(30))).isNull();
        assertThat(watch.observe("vm", true, frameA, t0.plusSeconds(60))).isEqualTo(Duration.ofSeconds(60));
        assertThat(watch.observe("vm", true, frameA, t0.plusSeconds(90))).isNull();
    }

    @Test
    void aChangingScreenOrAnIdleGuestIsNotAHang() {
        watch.observe("vm", true, frameA, t0);
        assertThat(watch.observe("vm", true, frameB, t0.plusSeconds(61))).isNull();
        assertThat(watch.observe("vm", false, null, t0.plusSeconds(90))).isNull();
        assertThat(watch.observe("vm", true, frameB, t0.plusSeconds(120))).isNull();
        assertThat(watch.observe("vm", true, frameB, t0.plusSeconds(150))).isNull();
    }
}
