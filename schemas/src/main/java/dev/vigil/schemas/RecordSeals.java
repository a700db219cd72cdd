package dev.vigil.schemas;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * Binds an agent's record to the enrolled host that produced it (ADR 0007). Every host has a record key, derived from
 * the deployment's record-key secret, its epoch, and the host's tenant and id; dispatch hands it to the agent at
 * enrolment, and the agent seals each record it publishes with HMAC-SHA-256 over the record's value (headers
 * {@value #KEY_HEADER}: the key's epoch; {@value #MAC_HEADER}: the 32-byte MAC). Ingestion derives the key of the host
 * and tenant the record's envelope names and refuses the record as {@link DeadLetterReason#IDENTITY_MISMATCH} when the
 * MAC does not match: an agent can write only as itself, because only its own key was ever given to it.
 *
 * <p>The value holds the envelope (tenant, host, event id, time), so sealing the value binds all of them. Keys are
 * derived rather than stored: the services that hold the secret need no host table to replicate, and a record that
 * arrives before any such table could have caught up with its host's enrolment is still checked.
 */
public final class RecordSeals {

    /** Header: the sealing key's epoch, in ASCII digits. */
    public static final String KEY_HEADER = "vigil_key";

    /** Header: HMAC-SHA-256 of the record's value under the host's record key (32 bytes). */
    public static final String MAC_HEADER = "vigil_mac";

    /** Where an agent keeps its host's record key, under its state directory (owner-readable only). */
    public static final String AGENT_KEY_FILE = "delivery/record-key";

    /** The shortest record-key secret a deployment may use. */
    public static final int MIN_SECRET_BYTES = 32;

    private static final byte[] DERIVATION_LABEL = "vigil-record-key/v1".getBytes(StandardCharsets.US_ASCII);
    private static final int MAC_BYTES = 32;
    private static final int MAX_ID_BYTES = 1024;

    private RecordSeals() {}

    /** A host's record key: what dispatch gives an agent when it enrols. */
    public record HostKey(String tenant, String hostId, int epoch, byte[] key) {

        /** As the agent keeps it on disk ({@link #AGENT_KEY_FILE}). */
        public Properties toProperties() {
            Properties p = new Properties();
            p.setProperty("tenant", tenant);
            p.setProperty("host", hostId);
            p.setProperty("epoch", Integer.toString(epoch));
            p.setProperty("key", Base64.getEncoder().encodeToString(key));
            return p;
        }

        /** Reads what {@link #toProperties()} wrote; throws {@link IllegalArgumentException} naming what is wrong. */
        public static HostKey fromProperties(Properties p) {
            String tenant = p.getProperty("tenant");
            String host = p.getProperty("host");
            String epoch = p.getProperty("epoch");
            String key = p.getProperty("key");
            if (tenant == null || host == null || epoch == null || key == null) {
                throw new IllegalArgumentException("a record key needs tenant, host, epoch and key");
            }
            byte[] bytes;
            int number;
            try {
                bytes = Base64.getDecoder().decode(key.strip());
                number = Integer.parseInt(epoch.strip());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("a record key's epoch is a number and its key base64", e);
            }
            if (bytes.length != MAC_BYTES) {
                throw new IllegalArgumentException("a record key is 32 bytes, not " + bytes.length);
            }
            return new HostKey(tenant.strip(), host.strip(), number, bytes);
        }

        @Override
        public String toString() {
            return "HostKey[" + tenant + "/" + hostId + ", epoch " + epoch + "]";
        }
    }

    /** The seal a record carries, from its headers; either part may be null when the header is absent. */
    public record Seal(byte[] epoch, byte[] mac) {

        public static final Seal NONE = new Seal(null, null);

        public static Seal of(Headers headers) {
            if (headers == null) {
                return NONE;
            }
            Header epoch = headers.lastHeader(KEY_HEADER);
            Header mac = headers.lastHeader(MAC_HEADER);
            return epoch == null && mac == null
                    ? NONE
                    : new Seal(epoch == null ? null : epoch.value(), mac == null ? null : mac.value());
        }
    }

    /** The record key of a host of a tenant in an epoch, derived from the deployment's secret. */
    public static HostKey hostKey(byte[] secret, int epoch, String tenant, String hostId) {
        if (secret.length < MIN_SECRET_BYTES) {
            throw new IllegalArgumentException(
                    "a record-key secret is at least " + MIN_SECRET_BYTES + " bytes, not " + secret.length);
        }
        byte[] t = tenant.getBytes(StandardCharsets.UTF_8);
        byte[] h = hostId.getBytes(StandardCharsets.UTF_8);
        if (t.length > MAX_ID_BYTES || h.length > MAX_ID_BYTES) {
            throw new IllegalArgumentException("a tenant or host id is at most " + MAX_ID_BYTES + " bytes");
        }
        // Length-prefixed, so no two (tenant, host) pairs share an input.
        ByteBuffer input = ByteBuffer.allocate(DERIVATION_LABEL.length + 4 + 2 + t.length + 2 + h.length)
                .put(DERIVATION_LABEL)
                .putInt(epoch)
                .putShort((short) t.length)
                .put(t)
                .putShort((short) h.length)
                .put(h);
        return new HostKey(tenant, hostId, epoch, hmac(secret, input.array()));
    }

    /** Adds the headers that seal {@code value} with {@code key}, replacing any seal already there. */
    public static void seal(HostKey key, byte[] value, Headers headers) {
        headers.remove(KEY_HEADER);
        headers.remove(MAC_HEADER);
        headers.add(KEY_HEADER, Integer.toString(key.epoch()).getBytes(StandardCharsets.US_ASCII));
        headers.add(MAC_HEADER, hmac(key.key(), value));
    }

    /**
     * One {@code Mac} per thread: looking the algorithm up for every record cost ingestion more than the HMAC itself.
     */
    private static final ThreadLocal<Mac> MACS = ThreadLocal.withInitial(() -> {
        try {
            return Mac.getInstance("HmacSHA256");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every Java runtime", e);
        }
    });

    /** HMAC-SHA-256 of {@code value} under {@code key}. */
    public static byte[] hmac(byte[] key, byte[] value) {
        Mac mac = MACS.get();
        try {
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("an HMAC key of " + key.length + " bytes was refused", e);
        }
        return mac.doFinal(value);
    }

    /**
     * Checks seals against a deployment's secrets, by epoch: the current epoch's, and the previous one's while its
     * hosts renew. Derived keys are cached (bounded); safe for concurrent use.
     */
    public static final class Verifier {

        private static final int CACHE_LIMIT = 65_536;

        private final Map<Integer, byte[]> secrets;
        private final String accepted;
        private final Map<String, byte[]> keys = new ConcurrentHashMap<>();

        public Verifier(Map<Integer, byte[]> secretsByEpoch) {
            if (secretsByEpoch.isEmpty()) {
                throw new IllegalArgumentException("a verifier needs the secret of at least one epoch");
            }
            secretsByEpoch.forEach((epoch, secret) -> {
                if (secret.length < MIN_SECRET_BYTES) {
                    throw new IllegalArgumentException("the record-key secret of epoch " + epoch + " is "
                            + secret.length + " bytes; at least " + MIN_SECRET_BYTES);
                }
            });
            this.secrets = Map.copyOf(secretsByEpoch);
            this.accepted = new TreeMap<>(secretsByEpoch).keySet().toString();
        }

        /**
         * Why {@code value} is not sealed by the record key of {@code hostId} of {@code tenant}, or null when it is.
         */
        public String problem(String tenant, String hostId, Seal seal, byte[] value) {
            if (seal.mac() == null || seal.epoch() == null) {
                return "the record is not sealed (no " + MAC_HEADER + " header): agents seal their records with the"
                        + " record key their host got at enrolment; enrol this host";
            }
            Integer epoch = epoch(seal.epoch());
            byte[] secret = epoch == null ? null : secrets.get(epoch);
            if (secret == null) {
                return "the record is sealed with a key of epoch " + printable(seal.epoch()) + "; this deployment"
                        + " accepts epochs " + accepted + ": enrol this host again for a current key";
            }
            byte[] key = key(secret, epoch, tenant, hostId);
            if (key == null || !MessageDigest.isEqual(hmac(key, value), seal.mac())) {
                return "the record's seal is not that of host " + bounded(hostId) + " of tenant " + bounded(tenant)
                        + ": a host may only write as itself";
            }
            return null;
        }

        private byte[] key(byte[] secret, int epoch, String tenant, String hostId) {
            String id = epoch + "\u0000" + tenant + "\u0000" + hostId;
            byte[] key = keys.get(id);
            if (key == null) {
                try {
                    key = hostKey(secret, epoch, tenant, hostId).key();
                } catch (IllegalArgumentException e) {
                    return null;
                }
                if (keys.size() >= CACHE_LIMIT) {
                    keys.clear();
                }
                keys.put(id, key);
            }
            return key;
        }

        private static Integer epoch(byte[] header) {
            if (header.length == 0 || header.length > 9) {
                return null;
            }
            int epoch = 0;
            for (byte b : header) {
                if (b < '0' || b > '9') {
                    return null;
                }
                epoch = epoch * 10 + (b - '0');
            }
            return epoch;
        }

        private static String printable(byte[] header) {
            String text = new String(Arrays.copyOf(header, Math.min(header.length, 16)), StandardCharsets.US_ASCII);
            return "'" + text.replaceAll("[^0-9A-Za-z._-]", "?") + "'";
        }

        private static String bounded(String id) {
            return id.length() <= 80 ? id : id.substring(0, 80) + "...";
        }
    }
}
