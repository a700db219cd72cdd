package dev.vigil.triage.evidence;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Reads the head of an x86-64 Linux memory dump: an ELF core ({@code ET_CORE}) or a kdump-compressed file
 * ({@code KDUMP   }). Only the first bytes are needed (headers and notes; the memory itself is not read). The
 * bytes are untrusted: every offset and size is checked against what was given, note counts are bounded, and
 * anything that does not add up is skipped or refused, never trusted.
 */
public final class VmcoreParser {

    static final byte[] KDUMP = "KDUMP   ".getBytes(StandardCharsets.US_ASCII);
    private static final int NT_PRSTATUS = 1;
    /** {@code elf_prstatus} on x86-64: {@code pr_reg} at 112, RIP is register 16 of {@code user_regs_struct}. */
    private static final int PRSTATUS_RIP = 112 + 16 * 8;

    private static final int MAX_NOTES = 4_096;
    private static final int UTS_FIELD = 65;

    private VmcoreParser() {}

    /** True when the bytes start like a dump this parser reads. */
    public static boolean recognizes(byte[] bytes) {
        return isElfCore(bytes) || startsWith(bytes, KDUMP);
    }

    public static Optional<VmcoreFacts> parse(byte[] bytes) {
        if (startsWith(bytes, KDUMP)) {
            return kdump(bytes);
        }
        if (isElfCore(bytes)) {
            return elf(bytes);
        }
        return Optional.empty();
    }

    private static Optional<VmcoreFacts> elf(byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long phoff = b.getLong(32);
        int phentsize = Short.toUnsignedInt(b.getShort(54));
        int phnum = Short.toUnsignedInt(b.getShort(56));
        int machine = Short.toUnsignedInt(b.getShort(18));
        if (phentsize < 56 || phoff < 64 || phoff > bytes.length) {
            return Optional.empty();
        }
        Notes notes = new Notes();
        for (int i = 0; i < phnum; i++) {
            long at = phoff + (long) i * phentsize;
            if (at + 56 > bytes.length) {
                break;
            }
            if (b.getInt((int) at) == 4) { // PT_NOTE
                notes.read(b, b.getLong((int) at + 8), b.getLong((int) at + 32));
            }
        }
        return Optional.of(notes.facts("elf", null, machine == 62 ? "x86_64" : "elf-machine-" + machine, 0));
    }

    private static Optional<VmcoreFacts> kdump(byte[] bytes) {
        if (bytes.length < 464) {
            return Optional.empty();
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int version = b.getInt(8);
        String release = uts(bytes, 2);
        String machine = uts(bytes, 4);
        int blockSize = b.getInt(428);
        int currentCpu = b.getInt(456);
        int nrCpus = b.getInt(460);
        Notes notes = new Notes();
        if (blockSize > 0 && (long) blockSize + 64 <= bytes.length) {
            if (version >= 4) {
                notes.read(b, b.getLong(blockSize + 48), b.getLong(blockSize + 56));
            } else if (version >= 3) {
                long offset = b.getLong(blockSize + 32);
                long size = b.getLong(blockSize + 40);
                if (inside(bytes, offset, size)) {
                    notes.vmcoreinfo(new String(bytes, (int) offset, (int) size, StandardCharsets.US_ASCII));
                }
            }
        }
        VmcoreFacts facts = notes.facts("kdump-compressed", release, machine, Math.max(0, currentCpu));
        if (nrCpus > facts.cpus() && nrCpus < 65_536) {
            facts = new VmcoreFacts(
                    facts.format(),
                    facts.osRelease(),
                    facts.crashTime(),
                    facts.kernelOffset(),
                    facts.machine(),
                    nrCpus,
                    facts.crashingCpu(),
                    facts.instructionPointers());
        }
        return Optional.of(facts);
    }

    /** ELF notes as they are read. */
    private static final class Notes {
        final List<Long> ips = new ArrayList<>();
        String osRelease;
        Instant crashTime;
        String kernelOffset;

        void read(ByteBuffer b, long offset, long size) {
            if (!inside(b.array(), offset, size)) {
                return;
            }
            long at = offset;
            long end = offset + size;
            for (int n = 0; n < MAX_NOTES && at + 12 <= end; n++) {
                long namesz = Integer.toUnsignedLong(b.getInt((int) at));
                long descsz = Integer.toUnsignedLong(b.getInt((int) at + 4));
                int type = b.getInt((int) at + 8);
                long name = at + 12;
                long desc = name + align4(namesz);
                long next = desc + align4(descsz);
                if (namesz > 64 || next > end || next <= at) {
                    return;
                }
                String noteName =
                        new String(b.array(), (int) name, (int) Math.max(0, namesz - 1), StandardCharsets.US_ASCII);
                if (type == NT_PRSTATUS && noteName.equals("CORE") && descsz >= PRSTATUS_RIP + 8) {
                    ips.add(b.getLong((int) desc + PRSTATUS_RIP));
                } else if (noteName.equals("VMCOREINFO")) {
                    vmcoreinfo(new String(b.array(), (int) desc, (int) descsz, StandardCharsets.US_ASCII));
                }
                at = next;
            }
        }

        void vmcoreinfo(String text) {
            for (String line : text.split("\n", 4_096)) {
                int eq = line.indexOf('=');
                if (eq <= 0 || line.length() > 512) {
                    continue;
                }
                String key = line.substring(0, eq);
                String value = line.substring(eq + 1).strip();
                switch (key) {
                    case "OSRELEASE" -> osRelease = value.isEmpty() ? null : value;
                    case "KERNELOFFSET" -> kernelOffset = value.matches("[0-9a-fA-F]{1,16}") ? value : null;
                    case "CRASHTIME" -> {
                        try {
                            crashTime = Instant.ofEpochSecond(Long.parseLong(value));
                        } catch (RuntimeException e) {
                            crashTime = null;
                        }
                    }
                    default -> {}
                }
            }
        }

        VmcoreFacts facts(String format, String headerRelease, String machine, int crashingCpu) {
            return new VmcoreFacts(
                    format,
                    osRelease != null ? osRelease : headerRelease,
                    crashTime,
                    kernelOffset,
                    machine,
                    ips.size(),
                    ips.isEmpty() ? 0 : Math.min(crashingCpu, ips.size() - 1),
                    ips);
        }
    }

    private static String uts(byte[] bytes, int field) {
        int from = 12 + field * UTS_FIELD;
        int end = from;
        while (end < from + UTS_FIELD && bytes[end] != 0) {
            end++;
        }
        String value = new String(bytes, from, end - from, StandardCharsets.US_ASCII).strip();
        return value.isEmpty() || !value.chars().allMatch(c -> c >= 0x20 && c < 0x7f) ? null : value;
    }

    private static boolean isElfCore(byte[] bytes) {
        return bytes.length >= 64
                && bytes[0] == 0x7f
                && bytes[1] == 'E'
                && bytes[2] == 'L'
                && bytes[3] == 'F'
                && bytes[4] == 2 // 64-bit
                && bytes[5] == 1 // little-endian
                && bytes[16] == 4
                && bytes[17] == 0; // ET_CORE
    }

    private static boolean startsWith(byte[] bytes, byte[] prefix) {
        if (bytes.length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (bytes[i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private static boolean inside(byte[] bytes, long offset, long size) {
        return offset >= 0 && size >= 0 && offset <= bytes.length && size <= bytes.length - offset;
    }

    private static long align4(long n) {
        return (n + 3) & ~3L;
    }
}
