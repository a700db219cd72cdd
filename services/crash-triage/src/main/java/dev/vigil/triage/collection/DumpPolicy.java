package dev.vigil.triage.collection;

import java.util.Locale;

/** How much guest memory a capture keeps, as the host agent's {@code dump=} setting names it. */
public enum DumpPolicy {
    /** An ELF core of all guest memory. */
    FULL,
    /** The guest kernel's own dump format (the agent's default for crashes, hangs and watchdogs). */
    KERNEL,
    /** No memory dump. */
    NONE;

    /** The agent's name for it: {@code full}, {@code kernel}, {@code none}. */
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The policy of an agent name, or null when it is none of them. */
    public static DumpPolicy ofWire(String value) {
        for (DumpPolicy p : values()) {
            if (p.wire().equals(value)) {
                return p;
            }
        }
        return null;
    }
}
