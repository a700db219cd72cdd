package dev.vigil.triage.evidence;

import java.time.Instant;
import java.util.List;

/**
 * What the head of a Linux memory dump says without symbols: from its ELF notes (one {@code NT_PRSTATUS} per CPU,
 * {@code VMCOREINFO}) and, for kdump-compressed files, the disk-dump header. Fields are null when the dump does not
 * say.
 *
 * @param format {@code elf} or {@code kdump-compressed}
 * @param osRelease {@code OSRELEASE} from VMCOREINFO, else the header's utsname release
 * @param crashTime {@code CRASHTIME} from VMCOREINFO (set by the kernel's own kdump; QEMU's dumps lack it)
 * @param kernelOffset {@code KERNELOFFSET} (the KASLR slide) as hex, or null
 * @param machine the header's utsname machine (kdump), or the ELF machine
 * @param cpus the CPUs the dump describes
 * @param crashingCpu the CPU the dump names as current (kdump), else 0
 * @param instructionPointers each CPU's instruction pointer from its {@code NT_PRSTATUS}, in CPU order
 */
public record VmcoreFacts(
        String format,
        String osRelease,
        Instant crashTime,
        String kernelOffset,
        String machine,
        int cpus,
        int crashingCpu,
        List<Long> instructionPointers) {

    public VmcoreFacts {
        instructionPointers = List.copyOf(instructionPointers);
    }

    /** x86-64 modules are mapped from here up; KASLR's kernel offset does not move them. */
    static final long MODULES_START = 0xffffffffc0000000L;

    /**
     * The crashing CPU's instruction pointer without the KASLR slide when it is in the kernel image (modules are
     * not slid): the same site in the same build reads the same.
     */
    public Long unslidInstructionPointer() {
        if (instructionPointers.isEmpty()) {
            return null;
        }
        long ip = instructionPointers.get(Math.min(Math.max(crashingCpu, 0), instructionPointers.size() - 1));
        if (kernelOffset == null || Long.compareUnsigned(ip, MODULES_START) >= 0) {
            return ip;
        }
        try {
            return ip - Long.parseUnsignedLong(kernelOffset, 16);
        } catch (NumberFormatException e) {
            return ip;
        }
    }
}
