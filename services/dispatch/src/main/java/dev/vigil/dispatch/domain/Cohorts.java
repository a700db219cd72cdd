package dev.vigil.dispatch.domain;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.UUID;

/**
 * Which hosts a rollout stage includes: each host's place in [0, 10000) is a hash of the rollout and the host, so it
 * is the same at every stage of a rollout (a host in the 1% stays in the 10%) and differs between rollouts (the same
 * hosts are not always first).
 */
public final class Cohorts {

    public static final int SCALE = 10_000;

    private Cohorts() {}

    /** The host's place in the rollout, 0 to 9999. */
    public static int place(UUID rollout, String hostId) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256")
                    .digest((rollout + ":" + hostId).getBytes(StandardCharsets.UTF_8));
            return (int) Long.remainderUnsigned(ByteBuffer.wrap(hash).getLong(), SCALE);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    /** Whether a stage of {@code percent} includes the host. */
    public static boolean includes(UUID rollout, String hostId, int percent) {
        return place(rollout, hostId) < percent * (SCALE / 100);
    }
}
