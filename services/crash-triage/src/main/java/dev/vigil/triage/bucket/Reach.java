package dev.vigil.triage.bucket;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * How many distinct hosts or VMs a set of HyperLogLog sketches saw: the sketches {@code reach_add} keeps in
 * PostgreSQL (migration V10: 1,024 one-byte registers, the first 10 bits of an identity's SHA-256 choose the
 * register, the position of the first 1 bit in the next 54 is its rank), merged by the maximum of each register.
 * The standard error is about 3% (1.04 / &radic;1024); below about 2,500 identities linear counting answers, which is
 * exact for the few hosts of most buckets; both keep within 8% (about three standard errors).
 */
final class Reach {

    static final int REGISTERS = 1024;
    private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    });

    private final byte[] registers = new byte[REGISTERS];

    /**
     * Adds an identity to registers the way {@code reach_add} does in PostgreSQL: the first 10 bits of its SHA-256
     * choose the register, the position of the first 1 bit in the next 54 (55 when none) is the rank it raises it to.
     */
    static void put(byte[] registers, String identity) {
        byte[] h = SHA256.get().digest(identity.getBytes(StandardCharsets.UTF_8));
        long bits = 0;
        for (int i = 0; i < 8; i++) {
            bits = (bits << 8) | (h[i] & 0xff);
        }
        int index = (int) (bits >>> 54);
        long rest = bits << 10;
        int rank = rest == 0 ? 55 : Long.numberOfLeadingZeros(rest) + 1;
        if (rank > registers[index]) {
            registers[index] = (byte) rank;
        }
    }

    /** Merges a sketch in; one of another size (not written by {@code reach_add}) is ignored. */
    Reach add(byte[] sketch) {
        if (sketch != null && sketch.length == REGISTERS) {
            for (int i = 0; i < REGISTERS; i++) {
                if ((sketch[i] & 0xff) > (registers[i] & 0xff)) {
                    registers[i] = sketch[i];
                }
            }
        }
        return this;
    }

    /** The estimated number of distinct identities. */
    long estimate() {
        double inverseSum = 0;
        int zeros = 0;
        for (byte b : registers) {
            int rank = b & 0xff;
            inverseSum += Math.scalb(1.0, -rank);
            if (rank == 0) {
                zeros++;
            }
        }
        double m = REGISTERS;
        double raw = 0.7213 / (1 + 1.079 / m) * m * m / inverseSum;
        // Where the raw estimate is biased (up to 2.5 m), linear counting on the empty registers is the better one.
        if (raw <= 2.5 * m && zeros > 0) {
            return Math.round(m * Math.log(m / zeros));
        }
        return Math.round(raw);
    }
}
