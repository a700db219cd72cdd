package dev.vigil.agent.capture;

import java.util.Locale;
import java.util.Optional;

/**
 * How much guest memory a capture keeps. QEMU writes every page of guest RAM in each format; none of them filters by
 * page type the way makedumpfile's dump levels do inside a guest.
 */
public enum DumpPolicy {
    /** Every page of guest memory as an ELF core (what gdb and crash read): the largest. */
    FULL,
    /**
     * The guest kernel's own crash-dump format: kdump-compressed for Linux (zero pages dropped, pages zlib-compressed,
     * VMCOREINFO kept), the Windows crash-dump format for Windows; an ELF core when the guest cannot produce it.
     */
    KERNEL,
    /** No memory dump. */
    NONE;

    public static Optional<DumpPolicy> parse(String value) {
        try {
            return Optional.of(valueOf(value.trim().toUpperCase(Locale.ROOT)));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
