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
    /**
     * How far into a report's header another report's start means two CPUs printing at once. Lockdep's headers run
     * longer, and name their function before any other report can cut in.
     */
    private static final int INTERLEAVED_WITHIN = 40;

    private static final Pattern PREFIX = Pattern.compile(
            "^(?:<\\d{1,2}>)?(?:[A-Z][a-z]{2} {1,2}\\d{1,2} \\d\\d:\\d\\d:\\d\\d \\S{1,64} kernel: ?)?(?:kernel: )?"
                    + "(?:\\[ {0,12}\\+?\\d{1,12}\\.\\d{1,9}\\])?(?:\\[ {0,8}[TC]\\d{1,9}\\])? ?");

    /** A symbol; ppc64 ELFv1 prints function descriptors' dot names ({@code .foo}), read as {@code foo}. */
    private static final String SYMBOL = "\\.?([A-Za-z_$][\\w.$]{0,255})";

    private static final String SYMBOL_TEXT = "[A-Za-z_$][\\w.$]{0,255}";

    private static final String OFFSET = "\\+0x[0-9a-f]{1,16}(?:/0x[0-9a-f]{1,16})?";
    private static final String MODULE = "(?:\\s{1,4}\\[([\\w-]{1,64})(?:\\s[^\\]]{0,64})?\\])?";

    /**
     * A kind of report: the pattern of its first line, its class, and where the line says the rest. {@code subtype}
     * is fixed text (the report's own words for its kind) or null when {@code subtypeGroup} captures it; group 0
     * means absent.
     */
    private record Start(
            Pattern pattern,
            String crashClass,
            String subtype,
            int subtypeGroup,
            int accessGroup,
            int reportedGroup,
            String needle) {

        static Start of(String regex, String crashClass) {
            return new Start(Pattern.compile(regex), crashClass, null, 0, 0, 0, needle(regex));
        }

        static Start named(String regex, String crashClass, String subtype) {
            return new Start(Pattern.compile(regex), crashClass, subtype, 0, 0, 0, needle(regex));
        }

        Start groups(int subtype, int access, int reported) {
            return new Start(pattern, crashClass, this.subtype, subtype, access, reported, needle);
        }

        /** Whether the line can match: it holds the pattern's leading literal text, when it has one. */
        boolean mayMatch(String line) {
            return needle.isEmpty() || line.contains(needle);
        }

        /** The literal text a pattern starts with (after {@code ^}), up to its first special character. */
        private static String needle(String regex) {
            String literal = regex.startsWith("^") ? regex.substring(1) : regex;
            int end = 0;
            while (end < literal.length() && "\\[](){}.*+?|^$".indexOf(literal.charAt(end)) < 0) {
                end++;
            }
            return end >= 4 ? literal.substring(0, end) : "";
        }
    }

    private static final String LOCKDEP_DEADLOCK = "possible deadlock";

    /** Report starts, most specific first: a line is matched against them in this order. */
    private static final List<Start> STARTS = List.of(
            Start.of("BUG: KASAN: ([\\w-]{1,64}(?: or [\\w-]{1,64})?) in " + SYMBOL, "kasan")
                    .groups(1, 0, 2),
            Start.of("BUG: AddressSanitizer: ([\\w -]{1,64}?)(?: access)? in " + SYMBOL, "kasan")
                    .groups(1, 0, 2),
            Start.of("BUG: KMSAN: ([\\w-]{1,64}) in " + SYMBOL, "kmsan").groups(1, 0, 2),
            Start.of("BUG: KCSAN: ([\\w-]{1,64}) in (" + SYMBOL_TEXT + "(?: / " + SYMBOL_TEXT + ")?)", "kcsan")
                    .groups(1, 0, 2),
            Start.of("BUG: KFENCE: ([\\w-]{1,64}(?: [\\w-]{1,64})?) (read|write) in " + SYMBOL, "kfence")
                    .groups(1, 2, 3),
            Start.of("BUG: KFENCE: ([\\w -]{1,64}) in " + SYMBOL, "kfence").groups(1, 0, 2),
            Start.of("UBSAN: ([\\w-]{1,64}) in ", "ubsan").groups(1, 0, 0),
            Start.of("UBSAN: Undefined behaviour in ", "ubsan"),
            Start.named("WARNING: possible circular locking dependency detected", "lockdep", LOCKDEP_DEADLOCK),
            Start.named("WARNING: possible recursive locking detected", "lockdep", LOCKDEP_DEADLOCK),
            Start.named("WARNING: possible irq lock inversion dependency detected", "lockdep", LOCKDEP_DEADLOCK),
            Start.named(
                    "WARNING: (?:HARD|SOFT)IRQ-safe -> (?:HARD|SOFT)IRQ-(?:READ-)?unsafe lock order detected",
                    "lockdep",
                    LOCKDEP_DEADLOCK),
            Start.named("WARNING: inconsistent lock state", "lockdep", "inconsistent lock state"),
            Start.named("WARNING: bad unlock balance detected", "lockdep", "WARNING: bad unlock balance"),
            Start.named("WARNING: held lock freed", "lockdep", "WARNING: held lock freed"),
            Start.named("WARNING: suspicious RCU usage", "lockdep", "WARNING: suspicious RCU usage"),
            Start.named(
                    "WARNING: lock held when returning to user space",
                    "lockdep",
                    "WARNING: lock held when returning to user space"),
            Start.named("WARNING: nested lock was not taken", "lockdep", "WARNING: nested lock was not taken"),
            Start.named("BUG: MAX_LOCKDEP_\\w{1,32} too low", "fixed", "BUG: MAX_LOCKDEP_KEYS too low"),
            Start.named(
                    "BUG: sleeping function called from invalid context",
                    "bug",
                    "BUG: sleeping function called from invalid context"),
            Start.named("BUG: scheduling while atomic", "bug", "BUG: scheduling while atomic"),
            Start.of(
                            "BUG: spinlock (lockup suspected|recursion|already unlocked|bad magic|wrong owner"
                                    + "|wrong CPU|cpu recursion)",
                            "bug")
                    .groups(1, 0, 0),
            Start.named("BUG: workqueue lockup", "fixed", "BUG: workqueue lockup"),
            Start.named(
                    "unregister_netdevice: waiting for \\S{1,64} to become free",
                    "fixed",
                    "unregister_netdevice: waiting for DEV to become free"),
            Start.named("^(?:BUG: )?memory leak$|^unreferenced object 0x[0-9a-f]{1,16} \\(size", "memory-leak", null),
            Start.named("usercopy: Kernel memory (?:exposure|overwrite) attempt detected", "bug", "BUG: bad usercopy"),
            Start.named("^list_(?:add|del) corruption", "bug", "BUG: corrupted list"),
            Start.named("BUG: Bad page state", "fixed", "BUG: Bad page state"),
            Start.named("BUG: Bad page map", "fixed", "BUG: Bad page map"),
            Start.named("BUG: Bad rss-counter state", "fixed", "BUG: Bad rss-counter state"),
            Start.named("BUG: stack guard page was hit", "bug", "BUG: stack guard page was hit"),
            Start.of(
                    "(?:BUG: (?:kernel NULL pointer dereference|unable to handle kernel NULL pointer"
                            + " dereference)|Unable to handle kernel NULL pointer dereference)",
                    "null-deref"),
            Start.of(
                    "(?:BUG: unable to handle (?:page fault|kernel paging request)"
                            + "|Unable to handle kernel paging request)",
                    "page-fault"),
            // The kernel's own ("general protection fault: 0000 [#1]", "..., probably for non-canonical address"),
            // not a user-space program's trap ("traps: prog[12] general protection fault ip:... in libc.so").
            Start.of("^(?:(?!traps: ).){0,64}general protection fault(?:,|: [0-9a-f]{4})", "gpf"),
            Start.of(
                            "WARNING: (?:CPU: \\d{1,5} PID: -?\\d{1,10} )?at (\\S{1,256})(?: " + SYMBOL + OFFSET + ")?",
                            "warning")
                    .groups(0, 0, 2),
            // Since Linux 6.17: "WARNING: kernel/foo.c:12 at bar+0x1/0x2, CPU#0: comm/123".
            Start.of("WARNING: (\\S{1,256}:\\d{1,7}) at " + SYMBOL + OFFSET, "warning")
                    .groups(0, 0, 2),
            Start.of("kernel BUG at (\\S{1,256})!", "kernel-bug"),
            Start.of("INFO: task (.{1,64}):(\\d{1,10}) blocked for more than", "hung-task"),
            Start.of("BUG: soft lockup", "soft-lockup"),
            Start.of("Watchdog detected hard LOCKUP", "hard-lockup"),
            Start.of("INFO: rcu[\\w]{0,32} (?:self-)?detected (?:expedited )?stall", "rcu-stall"),
            Start.of("^(?:Oops|Internal error: Oops)", "oops"));

    /** Where a WARNING or a kernel BUG fires tells what kind of bug it reports. */
    private static final List<String[]> SITES = List.of(
            new String[] {"lib/refcount.c", "warning", "refcount"},
            new String[] {"kernel/locking/lockdep.c", "warning", "locking"},
            new String[] {"lib/debugobjects.c", "warning", "ODEBUG"},
            new String[] {"lib/kobject.c", "warning", "kobject"},
            new String[] {"mm/util.c", "warning", "kmalloc"},
            new String[] {"lib/list_debug.c", "bug", "BUG: corrupted list"},
            new String[] {"mm/usercopy.c", "bug", "BUG: bad usercopy"});

    private static final Pattern CONSEQUENCE =
            Pattern.compile("^(?:kernel BUG at |WARNING: |------------\\[ cut here|unreferenced object )");
    private static final Pattern PANIC = Pattern.compile("Kernel panic - not syncing: ?(.{0,512}?)(?:\\s*\\]---)?$");
    private static final Pattern ACCESS = Pattern.compile("^(Read|Write) of size \\d{1,10}");
    private static final Pattern IP = Pattern.compile(
            "(?:RIP: [0-9a-f]{4}:(?:\\[<[0-9a-f]{1,16}>\\]\\s{1,4}\\[<[0-9a-f]{1,16}>\\]\\s{1,4})?|^pc : |^EIP: "
                    + "(?:\\[<[0-9a-f]{1,16}>\\] )?|^NIP \\[[0-9a-f]{1,16}\\] |^PC is at |^EIP is at )"
                    + SYMBOL + OFFSET + MODULE);
    /** A source location as symbolizers append it: {@code lib/dump_stack.c:106}, maybe with a column. */
    private static final String SOURCE =
            "\\s{1,4}(?:[\\w./+-]{1,256}:\\d{1,7}(?::\\d{1,5})?|\\([\\w./+-]{1,256}:\\d{1,7}(?::\\d{1,5})?\\))";
    /**
     * A frame: {@code foo+0x1a/0x40 [module]} (2.6-era i386 kernels put {@code [foo+26/64]} in front, real-time ones
     * the frame's stack use after it, {@code (36)}), symbolized {@code foo+0x1a/0x40 lib/foo.c:12}, or an inlined one,
     * {@code bar lib/foo.c:10 [inline]}, which has a location and no offset.
     */
    private static final Pattern FRAME = Pattern.compile("^\\s{0,16}(?:\\[<[0-9a-f]{1,16}>\\]\\s{1,4}"
            + "|\\[[\\w.$]{1,256}\\+\\d{1,10}/\\d{1,10}\\]\\s{1,4})?(\\?\\s{1,4})?"
            + SYMBOL + "(?:" + OFFSET + MODULE + "(?:" + SOURCE + "| \\(\\d{1,6}\\))?|" + SOURCE
            + ")(?:\\s{1,4}\\[inline\\])?\\s*$");
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
    private static final Pattern TRACE_START = Pattern.compile(
            "^\\s{0,8}(?:Call Trace:|Call trace:|Backtrace:|stack backtrace:|backtrace(?: \\(crc [0-9a-f]{1,16}\\))?:"
                    + "|(?:read|write|read-write)(?: \\(marked\\))? to 0x[0-9a-f]{1,16} of \\d{1,5} bytes by )");
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
    private static final Pattern OTHER_STACK = Pattern.compile(
            "^\\s{0,8}(?:Allocated by task|Freed by task|Uninit was (?:created|stored)|Last potentially)");
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
                if (!s.mayMatch(lines.get(i))) {
                    continue;
                }
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
        int panicAt = 0;
        for (int i = 0; i < lines.size(); i++) {
            if (!lines.get(i).contains("Kernel panic")) {
                continue;
            }
            Matcher m = PANIC.matcher(lines.get(i));
            if (m.find()) {
                panicMessage = m.group(1).strip();
                panicLine = i;
                panicAt = m.start();
                break;
            }
        }
        if (start < 0
                || (panicLine >= 0 && panicLine < start && kind.crashClass().equals("oops"))) {
            if (panicLine < 0) {
                return Optional.empty();
            }
            String line = lines.get(panicLine);
            return Optional.of(read(
                    lines,
                    panicLine,
                    "panic",
                    null,
                    null,
                    null,
                    line,
                    panicMessage,
                    interleaved(line.substring(panicAt))));
        }
        String crashClass = kind.crashClass();
        String subtype = kind.subtype() != null
                ? kind.subtype()
                : kind.subtypeGroup() > 0 ? matched.group(kind.subtypeGroup()) : null;
        String access = kind.accessGroup() > 0 ? matched.group(kind.accessGroup()) : null;
        String reported = kind.reportedGroup() > 0 ? matched.group(kind.reportedGroup()) : null;
        if (kind.reportedGroup() > 0 && lines.get(start).stripTrailing().endsWith("[inline]")) {
            // A symbolized KASAN or WARNING line repeats for each inlined function; the last names the real one.
            for (int i = start + 1; i < Math.min(lines.size(), start + 32); i++) {
                Matcher again = kind.pattern().matcher(lines.get(i));
                if (!again.find()) {
                    break;
                }
                reported = again.group(kind.reportedGroup());
                if (!lines.get(i).stripTrailing().endsWith("[inline]")) {
                    break;
                }
            }
        }
        if (crashClass.equals("lockdep") && !subtype.equals("WARNING: suspicious RCU usage")) {
            // About a lock: the function that takes, releases or holds it. Suspicious RCU usage is about an access,
            // which its stack shows.
            reported = lockSite(lines, start);
        }
        if (crashClass.equals("ubsan") && subtype == null) {
            subtype = ubsanKind(lines, start);
        }
        if (crashClass.equals("kasan") && subtype != null) {
            // The oldest KASAN (AddressSanitizer) said "out of bounds access".
            subtype = subtype.strip().replace(' ', '-').replace("-or-", " or ");
        }
        if (crashClass.equals("bug") && kind.subtypeGroup() > 0) {
            subtype = "BUG: spinlock " + subtype;
        }
        if (crashClass.equals("warning") || crashClass.equals("kernel-bug")) {
            String site = matched.group(1);
            for (String[] known : SITES) {
                if (site.startsWith(known[0]) || site.contains("/" + known[0])) {
                    crashClass = known[1];
                    subtype = known[2];
                    reported = null;
                }
            }
        }
        String line = lines.get(start);
        return Optional.of(read(
                lines,
                start,
                crashClass,
                subtype,
                access,
                reported,
                line,
                panicMessage,
                interleaved(line.substring(matched.start()))));
    }

    private static KernelReport read(
            List<String> lines,
            int start,
            String crashClass,
            String subtype,
            String access,
            String reported,
            String reason,
            String panicMessage,
            String corrupted) {
        int end = Math.min(lines.size(), start + REPORT_WINDOW);
        // The report ends where the next one starts (another CPU's, or a second oops).
        for (int i = start + 1; i < end; i++) {
            // A message line (list corruption, bad usercopy) is followed by the BUG or WARNING it raises.
            // So does a symbolized reason line repeated for each inlined function.
            if (!crashClass.equals("panic")
                    && startsReport(lines.get(i))
                    && !(i <= start + 3 && CONSEQUENCE.matcher(lines.get(i)).find())
                    && !lines.get(i - 1).stripTrailing().endsWith("[inline]")) {
                end = i;
                if (corrupted == null
                        && !crashClass.equals("fixed")
                        && i - start <= INTERLEAVED_WITHIN
                        && !traceBetween(lines, start + 1, i)) {
                    // Another CPU's report in the middle of this one's header: whatever trace follows may be either's.
                    corrupted = "interleaved: another report starts before its call trace";
                }
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
            if (release == null && line.contains("PID: ")) {
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
            // Cheap tests first: most lines of a window are frames, and these patterns are for a few lines only.
            if (faulting == null && (line.contains("IP") || line.contains("pc : ") || line.contains("PC is at"))) {
                Matcher ip = IP.matcher(line.strip());
                if (ip.find()) {
                    faulting = ip.group(1);
                    faultingModule = ip.group(2);
                }
            }
            if (modules.isEmpty() && line.contains("Modules linked in:")) {
                Matcher m = MODULES.matcher(line.strip());
                if (m.find()) {
                    String list = m.group(1);
                    int unloaded = list.indexOf("[last unloaded:");
                    for (String module : SPACES.split((unloaded < 0 ? list : list.substring(0, unloaded)).trim())) {
                        if (!module.isEmpty() && modules.size() < 512) {
                            // Taint flags after a module's name: "vboxdrv(OE)".
                            int flags = module.indexOf('(');
                            modules.add(flags > 0 && module.endsWith(")") ? module.substring(0, flags) : module);
                        }
                    }
                }
            }
        }
        // An RCU stall report dumps several stacks (the detecting CPU, the stalled CPUs and tasks): all are read, and
        // the signature looks past the reporting machinery. Other reports are about their first trace.
        boolean allTraces = crashClass.equals("rcu-stall");
        for (int i = start; i < end && (allTraces || frames.isEmpty()); i++) {
            if (mayStartTrace(lines.get(i)) && TRACE_START.matcher(lines.get(i)).find()) {
                boolean frameItself = ARM_FRAME.matcher(lines.get(i)).find();
                i = Math.max(i, readTrace(lines, frameItself ? i : i + 1, end, frames) - 1);
            }
        }
        // KMSAN and KFENCE print their stack right below the reason, with no "Call Trace:" line.
        // The stacks after "Allocated by task", "Freed by task" and "Uninit was created by" are other events'.
        for (int i = start + 1; i < Math.min(end, start + 40) && frames.isEmpty(); i++) {
            if (OTHER_STACK.matcher(lines.get(i)).find()) {
                break;
            }
            if (FRAME.matcher(lines.get(i)).find()) {
                readTrace(lines, i, end, frames);
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
                panicMessage,
                corrupted);
    }

    /** Whether a call trace starts in {@code [from, to)}. */
    private static boolean traceBetween(List<String> lines, int from, int to) {
        for (int i = from; i < to; i++) {
            if (mayStartTrace(lines.get(i)) && TRACE_START.matcher(lines.get(i)).find()) {
                return true;
            }
        }
        return false;
    }

    /** A printk timestamp inside a line: another message was printed into it. */
    private static final Pattern INNER_TIMESTAMP = Pattern.compile("\\[ {0,12}\\+?\\d{1,12}\\.\\d{1,9}\\]");

    /**
     * Why a report's first line cannot be trusted, or null: without printk caller ids, two CPUs printing at once
     * glue one's message into the other's line, and the line then names what the other printed. {@code header} is
     * the line from where the report starts: text before it (a login prompt) is not the report's.
     */
    private static String interleaved(String header) {
        return header.indexOf('[') >= 0 && INNER_TIMESTAMP.matcher(header).find()
                ? "interleaved: another message is printed into its first line"
                : null;
    }

    /** Lockdep's "at:" of the lock the report is about: {@code (&lock){+.+.}-{3:3}, at: foo+0x1/0x2}. */
    private static final Pattern LOCK_AT =
            Pattern.compile("(?:, at: |^at: |^\\s{0,8})(?:\\[<[0-9a-f]{1,16}>\\] ?)?" + SYMBOL + OFFSET);

    /**
     * The function that takes, releases or holds the lock a lockdep report is about: the first {@code at:} after
     * its header (for a bad unlock balance, the line after "is trying to release lock ... at:").
     */
    private static String lockSite(List<String> lines, int start) {
        for (int i = start + 1; i < Math.min(lines.size(), start + 24); i++) {
            String line = lines.get(i);
            boolean follows = i > start + 1 && lines.get(i - 1).stripTrailing().endsWith(" at:");
            if ((line.contains(", at: ") || follows) && !line.stripTrailing().endsWith("[inline]")) {
                Matcher m = LOCK_AT.matcher(line.strip());
                if (m.find()) {
                    return m.group(1);
                }
            }
            if (TRACE_START.matcher(line).find()) {
                break;
            }
        }
        return null;
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
            Matcher marker = line.indexOf('<') >= 0 ? MARKER.matcher(line) : null;
            if (marker != null && marker.find()) {
                String tag = marker.group(1).toLowerCase(java.util.Locale.ROOT);
                context = line.contains("</") || tag.equals("eoi") ? "task" : tag;
                noise = 0;
                continue;
            }
            Matcher interrupted = line.contains("RIP: ") ? INTERRUPTED.matcher(line) : null;
            if (interrupted != null && interrupted.find() && !frames.isEmpty()) {
                frames.add(new Frame(interrupted.group(1), interrupted.group(2), true, "task"));
                noise = 0;
                continue;
            }
            if (!frames.isEmpty()
                    && line.indexOf(':') >= 0
                    && REGISTERS.matcher(line).find()) {
                continue;
            }
            Matcher arm = line.contains(") from [<") ? ARM_FRAME.matcher(line) : null;
            if (arm != null && arm.find()) {
                noise = 0;
                frames.add(new Frame(arm.group(1), null, true, context));
                continue;
            }
            Matcher frame = FRAME.matcher(line);
            if (frame.find()) {
                noise = 0;
                // A symbolizer's inlined frames are not in the raw console text: a report keys the same either way.
                if (frame.group(1) == null && !line.stripTrailing().endsWith("[inline]")) {
                    frames.add(new Frame(frame.group(2), frame.group(3), true, context));
                }
                continue;
            }
            if (TRACE_END.matcher(line).find()
                    || startsReport(line)
                    || OTHER_STACK.matcher(line).find()
                    || ++noise > TOLERATED_NOISE) {
                break;
            }
        }
        return i;
    }

    private static final Pattern SPACES = Pattern.compile("\\s+");

    /** Every trace header holds one of these. */
    private static boolean mayStartTrace(String line) {
        return line.contains("race") || line.contains("acktrace") || line.contains(" to 0x");
    }

    /** Every report start holds one of these words: lines without any skip the patterns (most lines). */
    private static final List<String> START_WORDS = List.of(
            "BUG",
            "UBSAN",
            "Unable to handle",
            "general protection fault",
            "WARNING",
            "INFO: ",
            "LOCKUP",
            "Oops",
            "usercopy",
            "corruption",
            "unregister_netdevice",
            "memory leak",
            "unreferenced object");

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
            if (!s.crashClass().equals("oops")
                    && s.mayMatch(line)
                    && s.pattern().matcher(line).find()) {
                return true;
            }
        }
        return false;
    }

    /**
     * The line without its prefix. Only a line that starts with {@code <}, {@code [}, {@code k} or a capital letter
     * can have one beyond the single space {@link #PREFIX} ends with, so the others skip the pattern.
     */
    private static String withoutPrefix(String line) {
        if (line.isEmpty()) {
            return line;
        }
        char first = line.charAt(0);
        if (first == ' ') {
            return line.substring(1);
        }
        if (first != '<' && first != '[' && first != 'k' && (first < 'A' || first > 'Z')) {
            return line;
        }
        if (first == '[') {
            // The usual case, "[   12.345678] " maybe followed by "[T123] ", read without the pattern.
            int at = timestamp(line, 1);
            if (at > 0) {
                if (at < line.length() && line.charAt(at) == '[') {
                    int caller = caller(line, at + 1);
                    at = caller > 0 ? caller : at;
                }
                return at < line.length() && line.charAt(at) == ' ' ? line.substring(at + 1) : line.substring(at);
            }
        }
        Matcher prefix = PREFIX.matcher(line);
        return prefix.lookingAt() ? line.substring(prefix.end()) : line;
    }

    /** After {@code [}: {@code " {0,12}\\+?\\d{1,12}\\.\\d{1,9}]"}; the index after it, or -1. */
    private static int timestamp(String line, int from) {
        int i = from;
        int spaces = 0;
        while (i < line.length() && line.charAt(i) == ' ' && spaces < 12) {
            i++;
            spaces++;
        }
        if (i < line.length() && line.charAt(i) == '+') {
            i++; // dmesg's relative time, "[  +0.000019]"
        }
        int digits = count(line, i, 12);
        if (digits == 0 || i + digits >= line.length() || line.charAt(i + digits) != '.') {
            return -1;
        }
        i += digits + 1;
        int fraction = count(line, i, 9);
        if (fraction == 0 || i + fraction >= line.length() || line.charAt(i + fraction) != ']') {
            return -1;
        }
        return i + fraction + 1;
    }

    /** After {@code [}: {@code " {0,8}[TC]\\d{1,9}]"}; the index after it, or -1. */
    private static int caller(String line, int from) {
        int i = from;
        int spaces = 0;
        while (i < line.length() && line.charAt(i) == ' ' && spaces < 8) {
            i++;
            spaces++;
        }
        if (i >= line.length() || (line.charAt(i) != 'T' && line.charAt(i) != 'C')) {
            return -1;
        }
        int digits = count(line, i + 1, 9);
        int end = i + 1 + digits;
        return digits > 0 && end < line.length() && line.charAt(end) == ']' ? end + 1 : -1;
    }

    private static int count(String line, int from, int max) {
        int n = 0;
        while (from + n < line.length()
                && n < max
                && Character.isDigit(line.charAt(from + n))
                && line.charAt(from + n) < 128) {
            n++;
        }
        return n;
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
            lines.add(withoutPrefix(line));
            if (newline < 0) {
                break;
            }
            from = newline + 1;
        }
        return lines;
    }
}
