package dev.vigil.dispatch.domain;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Crash triage asks per bucket; an agent keeps one collection policy per host and cannot tell at capture time which
 * bucket a crash will land in. So a host's policy combines the live requests of every bucket seen on it: for each
 * trigger, the strongest dump any of them asks for ({@code full} over {@code kernel} over {@code none}). A trigger no
 * request names is left out, so the host's configured default applies.
 */
public final class CollectionPolicies {

    /** A bucket's newest request: the dump it asks for and the triggers it was seen with. */
    public record Request(String dump, List<String> triggers) {}

    private static final List<String> STRENGTH = List.of("none", "kernel", "full");

    private CollectionPolicies() {}

    /** The agent's {@code dump.<trigger>=<level>} arguments for a host with these requests. */
    public static Map<String, String> combine(Collection<Request> requests) {
        Map<String, String> policy = new TreeMap<>();
        for (Request request : requests) {
            String dump = request.dump().toLowerCase(java.util.Locale.ROOT);
            if (!STRENGTH.contains(dump)) {
                continue;
            }
            for (String trigger : request.triggers()) {
                policy.merge("dump." + trigger, dump, CollectionPolicies::stronger);
            }
        }
        return policy;
    }

    private static String stronger(String a, String b) {
        return STRENGTH.indexOf(a) >= STRENGTH.indexOf(b) ? a : b;
    }
}
