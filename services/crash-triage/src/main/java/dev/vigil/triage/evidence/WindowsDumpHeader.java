package dev.vigil.triage.evidence;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The header of a 64-bit Windows crash dump ({@code PAGEDU64}, as Windows and QEMU's {@code win-dmp} write it):
 * the bugcheck and its four parameters, the processors, the OS version and the crash time. Offsets from QEMU's
 * {@code win_dump_defs.h}. The bytes are untrusted: anything shorter than the fields read, or not signed
 * {@code PAGE}{@code DU64}, is refused.
 *
 * @param majorVersion the OS major version field (0x0F for free builds)
 * @param minorVersion the OS build number
 * @param machineType the image machine type (0x8664 for x64)
 * @param processors the number of processors
 * @param bugcheckCode the STOP code
 * @param parameters its four parameters
 * @param systemTime when the dump was written, or null when the header is too short to say or the time is unset
 */
public record WindowsDumpHeader(
        long majorVersion,
        long minorVersion,
        long machineType,
        long processors,
        long bugcheckCode,
        List<Long> parameters,
        Instant systemTime) {

    static final int MIN_BYTES = 0x60;
    private static final int SYSTEM_TIME = 0xFA8;
    /** 100 ns intervals between 1601-01-01 and 1970-01-01. */
    private static final long FILETIME_EPOCH = 116_444_736_000_000_000L;

    public WindowsDumpHeader {
        parameters = List.copyOf(parameters);
    }

    /** True when the bytes start like a 64-bit dump. */
    public static boolean looksLikeOne(byte[] bytes) {
        return bytes.length >= 8
                && bytes[0] == 'P'
                && bytes[1] == 'A'
                && bytes[2] == 'G'
                && bytes[3] == 'E'
                && bytes[4] == 'D'
                && bytes[5] == 'U'
                && bytes[6] == '6'
                && bytes[7] == '4';
    }

    /** The header, or empty when the bytes are not a 64-bit dump header. */
    public static Optional<WindowsDumpHeader> parse(byte[] bytes) {
        if (!looksLikeOne(bytes) || bytes.length < MIN_BYTES) {
            return Optional.empty();
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        Instant time = null;
        if (bytes.length >= SYSTEM_TIME + 8) {
            long filetime = b.getLong(SYSTEM_TIME);
            if (filetime > FILETIME_EPOCH && filetime < Long.MAX_VALUE / 2) {
                long sinceEpoch = filetime - FILETIME_EPOCH;
                time = Instant.ofEpochSecond(sinceEpoch / 10_000_000L, (sinceEpoch % 10_000_000L) * 100);
            }
        }
        return Optional.of(new WindowsDumpHeader(
                Integer.toUnsignedLong(b.getInt(0x08)),
                Integer.toUnsignedLong(b.getInt(0x0C)),
                Integer.toUnsignedLong(b.getInt(0x30)),
                Integer.toUnsignedLong(b.getInt(0x34)),
                Integer.toUnsignedLong(b.getInt(0x38)),
                List.of(b.getLong(0x40), b.getLong(0x48), b.getLong(0x50), b.getLong(0x58)),
                time));
    }
}
