package dev.vigil.schemas;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * Where a host's evidence lives in the object store: {@code hosts/<tenant>/<host>/sha256/<2 hex>/<sha256>}, under a
 * prefix of its own host and named by the SHA-256 of the stored bytes (ADR 0007). The prefix is what upload links are
 * signed for, and what ingestion checks a manifest's key against: a host can write only under its own prefix, and
 * cannot make its records point at another host's objects. Within it, the hash makes a blob stored before findable
 * again without sending it twice.
 *
 * <p>Tenant and host ids are percent-encoded (UTF-8), so a {@code /} in one cannot reach into another's prefix.
 */
public final class ObjectKeys {

    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    private ObjectKeys() {}

    /** The prefix every object of this host is stored under, ending in {@code /}. */
    public static String hostPrefix(String tenant, String hostId) {
        return "hosts/" + encode(tenant) + "/" + encode(hostId) + "/";
    }

    /**
     * The key of this host's object with these bytes.
     *
     * @param sha256 64 lower-case hex digits
     * @throws IllegalArgumentException when it is not
     */
    public static String evidence(String tenant, String hostId, String sha256) {
        if (!isSha256(sha256)) {
            throw new IllegalArgumentException("not a SHA-256 in lower-case hex: " + bounded(sha256));
        }
        return hostPrefix(tenant, hostId) + "sha256/" + sha256.substring(0, 2) + "/" + sha256;
    }

    /** Whether {@code key} is an object key of this host's (under its prefix, named by a hash). */
    public static boolean ownedBy(String key, String tenant, String hostId) {
        String prefix = hostPrefix(tenant, hostId);
        if (key == null || !key.startsWith(prefix + "sha256/")) {
            return false;
        }
        String rest = key.substring(prefix.length() + "sha256/".length());
        return rest.length() == 67
                && rest.charAt(2) == '/'
                && isSha256(rest.substring(3))
                && rest.startsWith(rest.substring(3, 5));
    }

    /** Whether {@code text} is 64 lower-case hex digits. */
    public static boolean isSha256(String text) {
        return text != null && SHA256.matcher(text).matches();
    }

    /** An id percent-encoded for a key: no character of it can act as a separator. */
    public static String encode(String id) {
        if (id == null || id.isEmpty()) {
            throw new IllegalArgumentException("a tenant or host id is empty");
        }
        return URLEncoder.encode(id, StandardCharsets.UTF_8);
    }

    /** A bounded echo of a value in a message. */
    private static String bounded(String value) {
        if (value == null) {
            return "null";
        }
        return value.length() <= 80
                ? "'" + value + "'"
                : "'" + value.substring(0, 80) + "...' (" + value.length() + " characters)";
    }
}
