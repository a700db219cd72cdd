package dev.vigil.triage.evidence;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.util.Random;
import org.junit.jupiter.api.Test;

class WindowsDumpHeaderTest {

    /** A header laid out as QEMU's win-dmp writes it: STOP 0x50 on 4 processors at 2026-11-25T10:00:00Z. */
    static byte[] header(long code, int length) {
        ByteBuffer b = ByteBuffer.allocate(0x2000).order(ByteOrder.LITTLE_ENDIAN);
        b.put("PAGEDU64".getBytes());
        b.putInt(0x08, 0x0F);
        b.putInt(0x0C, 19045);
        b.putInt(0x30, 0x8664);
        b.putInt(0x34, 4);
        b.putInt(0x38, (int) code);
        b.putLong(0x40, 0xFFFFF80012345678L);
        b.putLong(0x48, 0L);
        b.putLong(0x50, 0xFFFFF8001234ABCDL);
        b.putLong(0x58, 2L);
        long unix = Instant.parse("2026-11-25T10:00:00Z").getEpochSecond();
        b.putLong(0xFA8, (unix * 10_000_000L) + 116_444_736_000_000_000L);
        return java.util.Arrays.copyOf(b.array(), length);
    }

    @Test
    void readsTheBugcheckItsParametersAndTheTime() {
        WindowsDumpHeader h = WindowsDumpHeader.parse(header(0x50, 0x2000)).orElseThrow();
        assertThat(h.bugcheckCode()).isEqualTo(0x50);
        assertThat(h.parameters()).containsExactly(0xFFFFF80012345678L, 0L, 0xFFFFF8001234ABCDL, 2L);
        assertThat(h.processors()).isEqualTo(4);
        assertThat(h.machineType()).isEqualTo(0x8664);
        assertThat(h.minorVersion()).isEqualTo(19045);
        assertThat(h.systemTime()).isEqualTo(Instant.parse("2026-11-25T10:00:00Z"));
        assertThat(Bugchecks.name(h.bugcheckCode())).isEqualTo("PAGE_FAULT_IN_NONPAGED_AREA");
    }

    @Test
    void refusesWhatIsNotAHeaderAndNeverThrowsOnDamage() {
        assertThat(WindowsDumpHeader.parse(new byte[0])).isEmpty();
        assertThat(WindowsDumpHeader.parse("PAGEDUMP".getBytes())).isEmpty();
        assertThat(WindowsDumpHeader.parse(header(0x50, 0x20))).as("too short").isEmpty();
        assertThat(WindowsDumpHeader.parse(header(0x50, 0x100)).orElseThrow().systemTime())
                .isNull();
        Random random = new Random(3);
        for (int i = 0; i < 5_000; i++) {
            byte[] bytes = header(random.nextInt(), random.nextInt(0x2100));
            for (int f = random.nextInt(16); f > 0 && bytes.length > 0; f--) {
                bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
            }
            WindowsDumpHeader.parse(bytes)
                    .ifPresent(h -> assertThat(h.parameters()).hasSize(4));
        }
    }
}
