package dev.vigil.triage.evidence;

/**
 * One call-trace frame of a kernel report.
 *
 * @param function the symbol as printed (compiler suffixes such as {@code .isra.0} kept; signatures strip them)
 * @param module the module in brackets after the symbol, or null for the core kernel
 * @param reliable false for frames printed with a leading {@code ?} (stack garbage the unwinder could not vouch for)
 * @param context the stack the frame was on: {@code task}, {@code irq}, {@code softirq}, {@code nmi}
 */
public record Frame(String function, String module, boolean reliable, String context) {}
