package dev.vigil.agent.hypervisor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vigil.agent.mapping.AgentEventMapper;
import dev.vigil.schemas.agent.Crash;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** QEMU's GUEST_PANICKED details (as libvirt relays them) to the Crash event with its panic data. */
class GuestPanicTest {

    private final Instant now = Instant.parse("2026-11-24T10:00:00Z");

    @Test
    void readsAWindowsStopCodeAndItsParameters() {
        String details =
                "{\"action\":\"pause\",\"info\":{\"type\":\"hyper-v\",\"arg1\":80,\"arg2\":18446735277616529408,"
                        + "\"arg3\":0,\"arg4\":18446735277641408392,\"arg5\":2}}";

        GuestPanic panic = GuestPanic.parse("uuid", "win-1", details, now);
        Crash crash = (Crash) new AgentEventMapper("h", "a", "v", "t")
                .fromHypervisor(panic)
                .get(0)
                .getPayload();

        assertThat(crash.getReason()).isEqualTo("GUEST_PANICKED");
        assertThat(crash.getPanic().getPanicType()).isEqualTo("hyper-v");
        assertThat(crash.getPanic().getBugcheckCode()).isEqualTo(0x50L);
        assertThat(crash.getPanic().getBugcheckParameters()).hasSize(4).contains(0L, 2L);
    }

    @Test
    void aLinuxPvpanicHasNoRegistersButIsStillACrash() {
        GuestPanic panic = GuestPanic.parse("uuid", "linux-1", "{\"action\":\"pause\"}", now);

        assertThat(panic.type()).isEqualTo("pvpanic");
        assertThat(panic.bugcheckCode()).isNull();
    }

    @Test
    void malformedDetailsStillYieldAPanic() {
        assertThat(GuestPanic.parse("uuid", "vm", "{not json", now).type()).isEqualTo("pvpanic");
        assertThat(GuestPanic.parse("uuid", "vm", null, now).type()).isEqualTo("pvpanic");
    }

    @Test
    void readsS390ReasonAndAddress() {
        GuestPanic panic = GuestPanic.parse(
                "uuid",
                "z",
                "{\"info\":{\"type\":\"s390\",\"core\":0,\"psw-mask\":1,\"psw-addr\":4096,\"reason\":\"disabled-wait\"}}",
                now);

        assertThat(panic.instructionPointer()).isEqualTo(4096L);
        assertThat(panic.message()).isEqualTo("disabled-wait");
    }
}
