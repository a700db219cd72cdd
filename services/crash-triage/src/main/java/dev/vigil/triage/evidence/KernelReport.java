package dev.vigil.triage.evidence;

import java.util.List;

/**
 * What a Linux kernel report in console text says: its class, the reason line, where it faulted, its call trace
 * and the kernel it ran on. Fields are null when the text does not say.
 *
 * @param crashClass {@code null-deref}, {@code page-fault}, {@code gpf}, {@code warning}, {@code kernel-bug},
 *     {@code kasan}, {@code kfence}, {@code ubsan}, {@code hung-task}, {@code soft-lockup}, {@code hard-lockup},
 *     {@code rcu-stall}, {@code lockdep}, {@code kmsan}, {@code kcsan}, {@code memory-leak}, {@code bug} (another
 *     {@code BUG:} whose kind is its subtype), {@code fixed} (a report whose subtype is the whole title), {@code oops},
 *     or {@code panic} (a panic with no other report before it)
 * @param reason the line that starts the report, without its timestamp
 * @param subtype the sanitizer's bug type (use-after-free, slab-out-of-bounds, shift-out-of-bounds...), or null
 * @param access {@code Read} or {@code Write} for memory-safety reports, or null
 * @param reportedFunction the function the reason line names (WARNING, KASAN, KFENCE), or null
 * @param faultingFunction the function of the instruction pointer (RIP, pc, EIP, NIP), or null
 * @param faultingModule the module of the instruction pointer, or null for the core kernel
 * @param frames the reliable frames of the report's call trace, innermost first
 * @param modules the modules linked in
 * @param taint the taint flags (e.g. {@code G W O}), or null for an untainted or unstated kernel
 * @param release the kernel release (e.g. {@code 6.1.0-56-amd64}), or null
 * @param panicMessage what follows {@code Kernel panic - not syncing:}, or null
 * @param corrupted why the report's own first line cannot be trusted (another message printed into it), or null
 */
public record KernelReport(
        String crashClass,
        String reason,
        String subtype,
        String access,
        String reportedFunction,
        String faultingFunction,
        String faultingModule,
        List<Frame> frames,
        List<String> modules,
        String taint,
        String release,
        String panicMessage,
        String corrupted) {

    public KernelReport {
        frames = List.copyOf(frames);
        modules = List.copyOf(modules);
    }
}
