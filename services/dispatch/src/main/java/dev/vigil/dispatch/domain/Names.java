package dev.vigil.dispatch.domain;

import java.util.regex.Pattern;

/**
 * What ids may look like: they travel in URL paths, libvirt metadata, Kafka records and file names, so they are
 * short and plain.
 */
public final class Names {

    private static final Pattern PRODUCT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    private static final Pattern RELEASE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+~-]{0,63}");
    private static final Pattern CHANNEL = Pattern.compile("[a-z][a-z0-9-]{0,31}");
    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,127}");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    private Names() {}

    /** Null when {@code id} is a valid product id, else why not. */
    public static String productProblem(String id) {
        return matches(PRODUCT, id) ? null : "a product id is 1-64 letters, digits, '.', '_' or '-'";
    }

    public static String releaseProblem(String version) {
        return matches(RELEASE, version) ? null : "a release is 1-64 letters, digits, '.', '_', '+', '~' or '-'";
    }

    public static String channelProblem(String channel) {
        return matches(CHANNEL, channel) ? null : "a channel is 1-32 lowercase letters, digits or '-' (beta, stable)";
    }

    public static String hostProblem(String host) {
        return matches(HOST, host) ? null : "a host id is 1-128 letters, digits, '.', '_', ':' or '-'";
    }

    public static boolean isSha256(String text) {
        return matches(SHA256, text);
    }

    private static boolean matches(Pattern pattern, String text) {
        return text != null && pattern.matcher(text).matches();
    }
}
