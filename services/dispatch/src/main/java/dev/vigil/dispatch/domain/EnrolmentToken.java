package dev.vigil.dispatch.domain;

/**
 * An enrolment token: {@code ve1.<secret>.<root version>.<first 32 hex of the root's SHA-256>}. The secret redeems
 * the enrolment once; the root version and hash let the agent trust the vendor's root without having been given it,
 * as kubeadm's join token pins its cluster's CA.
 */
public record EnrolmentToken(String secret, long rootVersion, String rootSha256Prefix) {

    static final String PREFIX = "ve1";

    public static EnrolmentToken issue(long rootVersion, String rootSha256) {
        return new EnrolmentToken(Tokens.generate(""), rootVersion, rootSha256.substring(0, 32));
    }

    /** Reads a token, or returns null when the text is not one. */
    public static EnrolmentToken parse(String text) {
        if (text == null || text.length() > 200) {
            return null;
        }
        String[] parts = text.strip().split("\\.");
        if (parts.length != 4
                || !parts[0].equals(PREFIX)
                || !parts[1].matches("[A-Za-z0-9_-]{43}")
                || !parts[3].matches("[0-9a-f]{32}")) {
            return null;
        }
        try {
            long version = Long.parseLong(parts[2]);
            return version < 1 ? null : new EnrolmentToken(parts[1], version, parts[3]);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    @Override
    public String toString() {
        return PREFIX + "." + secret + "." + rootVersion + "." + rootSha256Prefix;
    }
}
