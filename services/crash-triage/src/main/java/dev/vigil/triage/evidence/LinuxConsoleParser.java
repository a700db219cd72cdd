package dev.vigil.triage.evidence;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the first kernel report in console text (a serial console capture, dmesg, a syslog excerpt, a paste) and
 * reads what it says. Timestamps ({@code [  12.345678]}), printk caller ids ({@code [T123]}), log levels and syslog
 * prefixes are ignored; garbage around the report and lines from other CPUs inside it are tolerated. The input is
 * untrusted: every line is cut to {@link #MAX_LINE_CHARS} before any pattern sees it, patterns are linear, and the
 * whole parse is one pass over at most {@link #MAX_LINES} lines.
 */
public final class LinuxConsoleParser {

    static final int MAX_LINE_CHARS = 2_048;
    static final int MAX_LINES = 200_000;
    private static final int REPORT_WINDOW = 400;
    private static final int MAX_FRAMES = 128;
    private static final int TOLERATED_NOISE = 3;

    private static final Pattern PREFIX = Pattern.compile(
            "^(?:<\\d{1,2}>)?(?:[A-Z][a-z]{2} {1,2}\\d{1,2} \\d\\d:\\d\\d:\\d\\d \\S{1,64} kernel: ?)?(?:kernel: )?"
                    + "(?:\\[ {0,12}\\d{1,12}\\.\\d{1,9}\\])?(?:\\[ {0,8}[TC]\\d{1,9}\\])? ?");

    /** A symbol; ppc64 ELFv1 prints function descriptors' dot names ({@code .foo}), read as {@code foo}. */
    private static final String SYMBOL = "\\.?([A-Za-z_$][\\w.$]{0,255})";

    private static final String OFFSET = "\\+0x[0-9a-f]{1,16}(?:/0x[0-9a-f]{1,16})?";
    private static final String MODULE = "(?:\\s{1,4}\\[([\\w-]{1,64})(?:\\s[^\\]]{0,64})?\\])?";

    private record Start(Pattern pattern, String crashClass) {}

    /** Report starts, most specific first: a line is matched against them in this order. */
    private static final List<Start> STARTS = List.of(
            new Start(Pattern.compile("BUG: KASAN: ([\\w-]{1,64}) in " + SYMBOL), "kasan"),
            new Start(Pattern.compile("BUG: AddressSanitizer: ([\\w -]{1,64}?)(?: access)? in " + SYMBOL), "kasan"),
            new Start(
                    Pattern.compile("BUG: KFENCE: ([\\w-]{1,64}(?: [\\w-]{1,64})?) (read|write) in " + SYMBOL),
                    "kfence"),
            new Start(Pattern.compile("BUG: KFENCE: ([\\w -]{1,64}) in " + SYMBOL), "kfence"),
            new Start(Pattern.compile("UBSAN: ([\\w-]{1,64}) in "), "ubsan"),
            new Start(Pattern.compile("UBSAN: Undefined behaviour in "), "ubsan"),
            new Start(
                    Pattern.compile("(?:BUG: (?:kernel NULL pointer dereference|unable to handle kernel NULL pointer"
                            + " dereference)|Unable to handle kernel NULL pointer dereference)"),
                    "null-deref"),
            new Start(
                    Pattern.compile("(?:BUG: unable to handle (?:page fault|kernel paging request)"
                            + "|Unable to handle kernel paging request)"),
                    "page-fault"),
            new Start(Pattern.compile("general protection fault"), "gpf"),
            new Start(
                    Pattern.compile(
                            "WARNING: (?:CPU: \\d{1,5} PID: \\d{1,10} )?at (\\S{1,256})(?: " + SYMBOL + OFFSET + ")?"),
                    "warning"),
            new Start(Pattern.compile("kernel BUG at (\\S{1,256})!"), "kernel-bug"),
            new Start(Pattern.compile("INFO: task (.{1,64}):(\\d{1,10}) blocked for more than"), "hung-task"),
            new Start(Pattern.compile("BUG: soft lockup"), "soft-lockup"),
            new Start(Pattern.compile("Watchdog detected hard LOCKUP"), "hard-lockup"),
            new Start(Pattern.compile("INFO: rcu[\\w]{0,32} (?:self-)?detected stall"), "rcu-stall"),
            new Start(Pattern.compile("^(?:Oops|Internal error: Oops)"), "oops"));

    private static final Pattern PANIC = Pattern.compile("Kernel panic - not syncing: ?(.{0,512}?)(?:\\s*\\]---)?$");
    private static final Pattern ACCESS = Pattern.compile("^(Read|Write) of size \\d{1,10}");
    private static final Pattern IP = Pattern.compile(
            "(?:RIP: [0-9a-f]{4}:(?:\\[<[0-9a-f]{1,16}>\\]\\s{1,4}\\[<[0-9a-f]{1,16}>\\]\\s{1,4})?|^pc : |^EIP: "
                    + "(?:\\[<[0-9a-f]{1,16}>\\] )?|^NIP \\[[0-9a-f]{1,16}\\] |^PC is at |^EIP is at )"
                    + SYMBOL + OFFSET + MODULE);
    private static final Pattern FRAME = Pattern.compile(
            "^\\s{0,16}(?:\\[<[0-9a-f]{1,16}>\\]\\s{1,4})?(\\?\\s{1,4})?" + SYMBOL + OFFSET + MODULE + "\\s*$");
    /** ARM's older unwinder: {@code [<c0912bd0>] (callee) from [<c0913274>] (caller+0x78/0xf4)}. */
    private static final Pattern ARM_FRAME = Pattern.compile(
            "^\\s{0,16}\\[<[0-9a-f]{1,16}>\\] \\(" + SYMBOL + "(?:" + OFFSET + ")?\\) from \\[<[0-9a-f]{1,16}>\\]");

    private static final Pattern UBSAN_DETAIL = Pattern.compile(
            "^(?:(shift exponent|left shift of)|(index \\S{1,32} is out of range)|(signed integer overflow)"
                    + "|(division by zero|division of)|(load of value)|(member access within null pointer)"
                    + "|(null pointer passed))");
    private static final String[] UBSAN_KINDS = {
        "shift-out-of-bounds",
        "array-index-out-of-bounds",
        "signed-integer-overflow",
        "divide-by-zero",
        "invalid-load",
        "null-ptr-deref",
        "null-ptr-deref"
    };
    private static final Pattern TRACE_START =
            Pattern.compile("^\\s{0,8}(?:Call Trace:|Call trace:|Backtrace:|stack backtrace:)");
    private static final Pattern MARKER = Pattern.compile("^\\s{0,8}</?(IRQ|TASK|NMI|SOFTIRQ|EOI)>\\s*$");
    /**
     * Inside a trace, an interrupt's entry is followed by the interrupted context's RIP and registers, then that
     * context's frames: the RIP is a frame, the registers are not noise.
     */
    private static final Pattern INTERRUPTED = Pattern.compile("^\\s{0,8}RIP: [0-9a-f]{4}:" + SYMBOL + OFFSET + MODULE);

    private static final Pattern REGISTERS =
            Pattern.compile("^\\s{0,8}(?:RIP|Code|RSP|RAX|RBX|RDX|RBP|R08|R10|R13|FS|CS|CR2|DR0|DR3|DR6):");
    private static final Pattern TRACE_END = Pattern.compile(
            "^\\s{0,8}(?:Modules linked in:|---\\[ end|RIP: |Code: |CR2: |Kernel panic|RSP: |pc : |NIP )");
    private static final Pattern CPU_LINE = Pattern.compile(
            "CPU: \\d{1,5} (?:UID: \\d{1,10} )?PID: \\d{1,10} Comm: .{0,64}? (?:Not tainted|Tainted: ([A-Z ]{1,64}?))"
                    + "\\s{1,16}(\\S{1,128}) #");
    private static final Pattern MODULES = Pattern.compile("^Modules linked in:(.*)$");

    private LinuxConsoleParser() {}

    /** The first kernel report in the text, or empty when there is none. */
    public static Optional<KernelReport> parse(String text) {
        List<String> lines = clean(text);
        int start = -1;
        Start kind = null;
        Matcher matched = null;
        for (int i = 0; i < lines.size() && start < 0; i++) {
            if (!mayStart(lines.get(i))) {
                continue;
            }
            for (Start s : STARTS) {
                Matcher m = s.pattern().matcher(lines.get(i));
                if (m.find()) {
                    start = i;
                    kind = s;
                    matched = m;
                    break;
                }
            }
        }
        String panicMessage = null;
        int panicLine = -1;
        for (int i = 0; i < lines.size(); i++) {
            if (!lines.get(i).contains("Kernel panic")) {
                continue;
            }
            Matcher m = PANIC.matcher(lines.get(i));
            if (m.find()) {
                panicMessage = m.group(1).strip();
                panicLine = i;
                break;
            }
        }
        if (start < 0
                || (panicLine >= 0 && panicLine < start && kind.crashClass().equals("oops"))) {
            if (panicLine < 0) {
                return Optional.empty();
            }
            return Optional.of(read(lines, panicLine, "panic", null, null, null, lines.get(panicLine), panicMessage));
        }
        String subtype = null;
        String access = null;
        String reported = null;
        switch (kind.crashClass()) {
            case "kasan" -> {
                subtype = matched.group(1);
                reported = matched.group(2);
            }
            case "kfence" -> {
                subtype = matched.group(1);
                if (matched.groupCount() == 3) {
                    access = matched.group(2);
                    reported = matched.group(3);
                } else {
                    reported = matched.group(2);
                }
            }
            case "ubsan" -> subtype = matched.groupCount() >= 1 ? matched.group(1) : ubsanKind(lines, start);
            case "warning" -> reported = matched.group(2);
            default -> {}
        }
        if (kind.crashClass().equals("kasan") && subtype != null) {
            // The oldest KASAN (AddressSanitizer) said "out of bounds access".
            subtype = subtype.strip().replace(' ', '-');
        }
        return Optional.of(
                read(lines, start, kind.crashClass(), subtype, access, reported, lines.get(start), panicMessage));
    }

    private static KernelReport read(
            List<String> lines,
            int start,
            String crashClass,
            String subtype,
            String access,
            String reported,
            String reason,
            String panicMessage) {
        int end = Math.min(lines.size(), start + REPORT_WINDOW);
        // The report ends where the next one starts (another CPU's, or a second oops).
        for (int i = start + 1; i < end; i++) {
            if (startsReport(lines.get(i)) && !crashClass.equals("panic")) {
                end = i;
                break;
            }
        }
        String faulting = null;
        String faultingModule = null;
        String taint = null;
        String release = null;
        List<Frame> frames = new ArrayList<>();
        List<String> modules = new ArrayList<>();
        // The CPU line usually comes a line or two before the reason (WARNING) or after it.
        for (int i = Math.max(0, start - 3); i < end; i++) {
            String line = lines.get(i);
            if (release == null) {
                Matcher cpu = CPU_LINE.matcher(line);
                if (cpu.find()) {
                    taint = cpu.group(1) == null ? null : cpu.group(1).strip().replaceAll("\\s+", " ");
                    release = cpu.group(2);
                }
            }
            if (i < start) {
                continue;
            }
            if (access == null && (crashClass.equals("kasan"))) {
                Matcher a = ACCESS.matcher(line.strip());
                if (a.find()) {
                    access = a.group(1);
                }
            }
            if (faulting == null) {
                Matcher ip = IP.matcher(line.strip());
                if (ip.find()) {
                    faulting = ip.group(1);
                    faultingModule = ip.group(2);
                }
            }
            if (modules.isEmpty()) {
                Matcher m = MODULES.matcher(line.strip());
                if (m.find()) {
                    for (String module : m.group(1)
                            .replaceAll("\\[last unloaded:.*", "")
                            .trim()
                            .split("\\s+")) {
                        if (!module.isEmpty() && modules.size() < 512) {
                            modules.add(module.replaceAll("\\(.*\\)$", ""));
                        }
                    }
                }
            }
        }
        for (int i = start; i < end && frames.isEmpty(); i++) {
            if (TRACE_START.matcher(lines.get(i)).find()) {
                boolean frameItself = ARM_FRAME.matcher(lines.get(i)).find();
                readTrace(lines, frameItself ? i : i + 1, end, frames);
            }
        }
        return new KernelReport(
                crashClass,
                reason.strip(),
                subtype,
                access,
                reported,
                faulting,
                faultingModule,
                frames,
                modules,
                taint,
                release,
                panicMessage);
    }

    /** Old UBSAN reports say only "Undefined behaviour"; the line after names the kind. */
    private static String ubsanKind(List<String> lines, int start) {
        for (int i = start + 1; i < Math.min(lines.size(), start + 3); i++) {
            Matcher m = UBSAN_DETAIL.matcher(lines.get(i).strip());
            if (m.find()) {
                for (int g = 1; g <= m.groupCount(); g++) {
                    if (m.group(g) != null) {
                        return UBSAN_KINDS[g - 1];
                    }
                }
            }
        }
        return "undefined-behaviour";
    }

    /** Reads a call trace from {@code from}; returns the first line after it. */
    private static int readTrace(List<String> lines, int from, int end, List<Frame> frames) {
        String context = "task";
        int noise = 0;
        int i = from;
        for (; i < end && frames.size() < MAX_FRAMES; i++) {
            String line = lines.get(i);
            Matcher marker = MARKER.matcher(line);
            if (marker.find()) {
                String tag = marker.group(1).toLowerCase(java.util.Locale.ROOT);
                context = line.contains("</") || tag.equals("eoi") ? "task" : tag;
                noise = 0;
                continue;
            }
            Matcher interrupted = INTERRUPTED.matcher(line);
            if (interrupted.find() && !frames.isEmpty()) {
                frames.add(new Frame(interrupted.group(1), interrupted.group(2), true, "task"));
                noise = 0;
                continue;
            }
            if (REGISTERS.matcher(line).find() && !frames.isEmpty()) {
                continue;
            }
            Matcher arm = ARM_FRAME.matcher(line);
            if (arm.find()) {
                noise = 0;
                frames.add(new Frame(arm.group(1), null, true, context));
                continue;
            }
            Matcher frame = FRAME.matcher(line);
            if (frame.find()) {
                noise = 0;
                if (frame.group(1) == null) {
                    frames.add(new Frame(frame.group(2), frame.group(3), true, context));
                }
                continue;
            }
            if (TRACE_END.matcher(line).find() || startsReport(line) || ++noise > TOLERATED_NOISE) {
                break;
            }
        }
        return i;
    }

    /** Every report start holds one of these words: lines without any skip the patterns (most lines). */
    private static final List<String> START_WORDS = List.of(
            "BUG", "UBSAN", "Unable to handle", "general protection fault", "WARNING", "INFO: ", "LOCKUP", "Oops");

    private static boolean mayStart(String line) {
        for (String word : START_WORDS) {
            if (line.contains(word)) {
                return true;
            }
        }
        return false;
    }

    private static boolean startsReport(String line) {
        if (!mayStart(line)) {
            return false;
        }
        for (Start s : STARTS) {
            if (!s.crashClass().equals("oops") && s.pattern().matcher(line).find()) {
                return true;
            }
        }
        return false;
    }

    /** Lines without their prefixes, each cut to {@link #MAX_LINE_CHARS}, at most {@link #MAX_LINES}. */
    static List<String> clean(String text) {
        List<String> lines = new ArrayList<>();
        int from = 0;
        while (from <= text.length() && lines.size() < MAX_LINES) {
            int newline = text.indexOf('\n', from);
            int to = newline < 0 ? text.length() : newline;
            String line = text.substring(from, Math.min(to, from + MAX_LINE_CHARS));
            if (line.endsWith("\r")) {
                line = line.substring(0, line.length() - 1);
            }
            Matcher prefix = PREFIX.matcher(line);
            lines.add(prefix.lookingAt() ? line.substring(prefix.end()) : line);
            if (newline < 0) {
                break;
            }
            from = newline + 1;
        }
        return lines;
    }
}
