package dev.vigil.schemas;

/** The key of a host's record on the compacted {@code vigil.dispatch.host-revocations.v1}: one per tenant and host. */
public final class HostRevocations {

    private HostRevocations() {}

    /** {@code <tenant>/<host id>}, each percent-encoded as in object keys, so no id can reach into another's key. */
    public static String key(String tenant, String hostId) {
        return ObjectKeys.encode(tenant) + "/" + ObjectKeys.encode(hostId);
    }
}
