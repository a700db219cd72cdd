package dev.vigil.triage.evidence;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The heads of two real dumps of the crash-capture test guest (Debian's 6.1 kernel under QEMU, after a sysrq
 * panic): a kdump-compressed file as the agent stores it, and an ELF core.
 */
class VmcoreParserTest {

    static byte[] fixture(String name) throws IOException {
        try (InputStream in = VmcoreParserTest.class.getResourceAsStream("/evidence/" + name)) {
            return in.readAllBytes();
        }
    }

    @Test
    void readsTheKdumpHeaderAndItsNotes() throws IOException {
        VmcoreFacts facts = VmcoreParser.parse(fixture("kdump-head-6.1.bin")).orElseThrow();
        assertThat(facts.format()).isEqualTo("kdump-compressed");
        assertThat(facts.osRelease()).isEqualTo("6.1.0-56-amd64");
        assertThat(facts.machine()).isEqualTo("x86_64");
        assertThat(facts.cpus()).isEqualTo(1);
        assertThat(facts.kernelOffset()).matches("[0-9a-f]+");
        assertThat(facts.instructionPointers())
                .singleElement()
                .satisfies(ip -> assertThat(Long.compareUnsigned(ip, 0xffffffff80000000L))
                        .isPositive());
        // After a pvpanic the vCPU is stopped inside the pvpanic module, which the KASLR slide does not move.
        assertThat(Long.toHexString(facts.unslidInstructionPointer())).startsWith("ffffffffc0");
        assertThat(facts.unslidInstructionPointer())
                .isEqualTo(facts.instructionPointers().get(0));
    }

    @Test
    void readsTheNotesOfAnElfCore() throws IOException {
        VmcoreFacts facts =
                VmcoreParser.parse(fixture("elf-vmcore-head-6.1.bin")).orElseThrow();
        assertThat(facts.format()).isEqualTo("elf");
        assertThat(facts.osRelease()).isEqualTo("6.1.0-56-amd64");
        assertThat(facts.machine()).isEqualTo("x86_64");
        assertThat(facts.cpus()).isEqualTo(1);
        assertThat(Long.toHexString(facts.unslidInstructionPointer())).isEqualTo("ffffffffc04fc230");
        assertThat(facts.kernelOffset()).isEqualTo("3400000");
    }

    @Test
    void aKernelTextAddressLosesTheKaslrSlideAndAModuleAddressKeepsItsOwn() {
        VmcoreFacts text =
                new VmcoreFacts("elf", "6.1", null, "3400000", "x86_64", 1, 0, java.util.List.of(0xffffffff84512345L));
        assertThat(text.unslidInstructionPointer()).isEqualTo(0xffffffff81112345L);
        VmcoreFacts module =
                new VmcoreFacts("elf", "6.1", null, "3400000", "x86_64", 1, 0, java.util.List.of(0xffffffffc04fc230L));
        assertThat(module.unslidInstructionPointer()).isEqualTo(0xffffffffc04fc230L);
        assertThat(new VmcoreFacts("elf", null, null, null, null, 0, 0, java.util.List.of()).unslidInstructionPointer())
                .isNull();
    }

    @Test
    void otherBytesAreNotADump() {
        assertThat(VmcoreParser.parse(new byte[0])).isEmpty();
        assertThat(VmcoreParser.parse("KDUMP  ".getBytes())).isEmpty();
        assertThat(VmcoreParser.parse("makedumpfile\0\0\0\0".getBytes())).isEmpty();
        byte[] executable = Arrays.copyOf(new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1, 0}, 64);
        executable[16] = 2; // ET_EXEC
        assertThat(VmcoreParser.parse(executable)).isEmpty();
    }

    @Test
    void damagedHeadsNeverThrow() throws IOException {
        Random random = new Random(17);
        byte[][] seeds = {fixture("kdump-head-6.1.bin"), fixture("elf-vmcore-head-6.1.bin")};
        for (int round = 0; round < 20_000; round++) {
            byte[] seed = seeds[round % 2];
            byte[] bytes = Arrays.copyOf(seed, random.nextInt(seed.length + 1));
            for (int f = random.nextInt(24); f > 0 && bytes.length > 8; f--) {
                // Header and note fields most of the time, anywhere else sometimes.
                int at = random.nextInt(4) == 0
                        ? 8 + random.nextInt(bytes.length - 8)
                        : 8 + random.nextInt(Math.min(600, bytes.length - 8));
                bytes[at] = (byte) random.nextInt(256);
            }
            VmcoreParser.parse(bytes)
                    .ifPresent(f -> assertThat(f.instructionPointers().size()).isLessThanOrEqualTo(4_096));
        }
    }
}
