package dev.vigil.triage.signature;

import dev.vigil.triage.evidence.Bugchecks;
import dev.vigil.triage.evidence.Frame;
import dev.vigil.triage.evidence.KernelReport;
import dev.vigil.triage.evidence.VmcoreFacts;
import dev.vigil.triage.evidence.WindowsDumpHeader;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/** Turns parsed evidence into a {@link Signature} under a set of {@link SignatureRules}. */
public final class Signatures {

    private final SignatureRules rules;

    public Signatures(SignatureRules rules) {
        this.rules = rules;
    }

    public SignatureRules rules() {
        return rules;
    }

    /**
     * The signature of a Linux kernel report.
     *
     * @param release the image's release as the VM declares it (product version), or null
     */
    public Signature of(KernelReport report, String release) {
        String blamed = blamed(report);
        String corrupted = rules.markCorrupted() ? corrupted(report, blamed) : null;
        List<String> frames;
        String title;
        String symbolic;
        if (corrupted == null) {
            frames = keyFrames(report, blamed);
            title = title(report, blamed);
            String classText = kind(report, family(report.subtype()));
            if (report.crashClass().equals("panic") && report.panicMessage() != null) {
                classText += ":" + mask(report.panicMessage());
            }
            symbolic = classText + "|" + String.join("|", frames);
        } else {
            // Titled by its kind, "in corrupted" as kernel triage says, and keyed with the other corrupted reports of
            // that precise kind (with no site, kinds of one family are not one bug): a function picked from what is
            // left of it would file it into another bug's bucket.
            blamed = "corrupted";
            frames = List.of();
            title = title(report, blamed);
            symbolic = kind(report, report.subtype()) + "|corrupted";
        }
        String instant = "linux|" + report.crashClass() + "|" + (blamed == null ? "?" : blamed) + "|"
                + (report.faultingModule() == null ? "kernel" : report.faultingModule()) + "|"
                + (release == null ? "?" : release);
        return new Signature(
                title, key("i", instant), key("s", symbolic), symbolic, frames, rules.version(), corrupted);
    }

    /** The report's class, with the sanitizer's type as given and the access: {@code kasan:use-after-free:read}. */
    private static String kind(KernelReport report, String subtype) {
        return report.crashClass()
                + (subtype == null ? "" : ":" + subtype)
                + (report.access() == null ? "" : ":" + report.access().toLowerCase(Locale.ROOT));
    }

    /** Classes whose title is their kind, or names what the first line says: they need no frame to blame. */
    private static final java.util.Set<String> TITLED_WITHOUT_FRAMES = java.util.Set.of("fixed", "panic", "kcsan");

    /** Reports of a sanitizer that prints the stack of the bad access. */
    private static final java.util.Set<String> SANITIZERS = java.util.Set.of("kasan", "kmsan", "kfence");

    /**
     * Why a report cannot be titled by a function, or null when it can: another message printed into its first line,
     * or a title that needs a function the report does not reliably name (neither its first line, nor its
     * instruction pointer, nor a frame of its trace names one that is not machinery).
     */
    private String corrupted(KernelReport report, String blamed) {
        if (report.corrupted() != null) {
            return report.corrupted();
        }
        String c = report.crashClass();
        if (report.frames().isEmpty() && SANITIZERS.contains(c)) {
            // A sanitizer's first line names where the access was caught, often a helper (vsnprintf, memcpy); only
            // its trace tells whose access it was.
            return "truncated: no call trace to blame a function from";
        }
        if (TITLED_WITHOUT_FRAMES.contains(c) || (blamed != null && !rules.skipped(blamed, c, report.subtype()))) {
            return null;
        }
        return report.frames().isEmpty()
                ? "truncated: no call trace to blame a function from"
                : "truncated: its call trace shows only reporting machinery";
    }

    /** The signature of a Windows crash-dump header (the faulting module needs symbols, which a header lacks). */
    public Signature of(WindowsDumpHeader header, String release) {
        return ofBugcheck(header.bugcheckCode(), release);
    }

    /** The signature of a Windows STOP code alone (from a dump header, or the hypervisor's Hyper-V crash MSRs). */
    public Signature ofBugcheck(long bugcheckCode, String release) {
        String code = String.format("0x%X", bugcheckCode);
        String name = Bugchecks.name(bugcheckCode);
        String title = "BUGCHECK " + code + (name == null ? "" : " " + name);
        String symbolic = "windows|bugcheck|" + code;
        String instant = "windows|" + code + "|?|" + (release == null ? "?" : release);
        return new Signature(title, key("i", instant), key("s", symbolic), symbolic, List.of(), rules.version());
    }

    /**
     * The signature of a memory dump's head when no console text came with it: without symbols the site is the
     * crashing CPU's instruction pointer (without the KASLR slide), which is stable within one kernel build.
     */
    public Signature of(VmcoreFacts facts, String release) {
        return of(facts, release, null);
    }

    /**
     * As {@link #of(VmcoreFacts, String)}, with the incident's trigger: a dump taken because a watchdog fired, a
     * hang or a pause on an I/O error says so in its title (a crash's does not need to). The keys stay the
     * trigger's own concern: they are the same as a crash's at the same site, so no bucket splits.
     *
     * @param trigger the incident's trigger ({@code CRASH}, {@code WATCHDOG}, {@code HANG}, {@code IO_ERROR}), or null
     */
    public Signature of(VmcoreFacts facts, String release, String trigger) {
        return of(facts, release, trigger, null);
    }

    /**
     * As {@link #of(VmcoreFacts, String, String)}, with what the hypervisor said about the trigger ({@code enospc}
     * for an I/O error, {@code reset} for a watchdog) in the title; keys do not depend on it.
     */
    public Signature of(VmcoreFacts facts, String release, String trigger, String detail) {
        Long ip = facts.unslidInstructionPointer();
        String site = ip == null ? "?" : "0x" + Long.toHexString(ip);
        String kernel = facts.osRelease() == null ? "unknown kernel" : facts.osRelease();
        String title = why(trigger, detail) + "Linux crash dump (" + kernel + ") at " + site;
        String symbolic = "linux|vmcore|" + kernel + "|" + site;
        String instant = "linux|vmcore|" + site + "|" + kernel + "|" + (release == null ? "?" : release);
        return new Signature(title, key("i", instant), key("s", symbolic), symbolic, List.of(), rules.version());
    }

    /** What a non-crash trigger adds in front of a dump's title. */
    private static String why(String trigger, String detail) {
        if (trigger == null) {
            return "";
        }
        String said = said(detail);
        return switch (trigger) {
            case "WATCHDOG" -> "watchdog fired" + said + ": ";
            case "HANG" -> "hang: ";
            case "IO_ERROR" -> "paused on an I/O error" + said + ": ";
            default -> "";
        };
    }

    /** The hypervisor's word for a trigger, in parentheses: a short token, anything else left out. */
    private static String said(String detail) {
        return detail == null || !detail.matches("[a-z0-9_-]{1,32}") ? "" : " (" + detail + ")";
    }

    /**
     * The signature of an incident whose evidence says nothing readable (no console text, no dump, no panic data):
     * what the hypervisor saw, per product. Coarse on purpose: such buckets are where collection should improve.
     */
    public Signature ofHypervisor(String trigger, String product, String release) {
        return ofHypervisor(trigger, null, product, release);
    }

    /**
     * As {@link #ofHypervisor(String, String, String)}, with the hypervisor's word for the trigger in the title. A
     * pause on an I/O error is the host's storage failing the VM (full, or erring), which the hypervisor's word does
     * explain: its title says so rather than that nothing was readable.
     */
    public Signature ofHypervisor(String trigger, String detail, String product, String release) {
        String what = "IO_ERROR".equals(trigger)
                ? "paused on a host I/O error" + said(detail)
                : trigger.toLowerCase(Locale.ROOT).replace('_', ' ') + said(detail) + " with no readable evidence";
        String title = what + (product == null ? "" : " (" + product + ")");
        String symbolic = "hypervisor|" + trigger + "|" + (product == null ? "?" : product);
        String instant = symbolic + "|" + (release == null ? "?" : release);
        return new Signature(title, key("i", instant), key("s", symbolic), symbolic, List.of(), rules.version());
    }

    /**
     * The function the report blames: what a title names and a key starts from. Reports that name a function keep it
     * unless it is machinery for their class (a sanitizer reporting from {@code memcmp} blames {@code memcmp}'s
     * caller); faults blame their instruction pointer on the same terms; the others blame their first frame that is
     * not machinery (for an RCU stall, in any of the stacks it dumped).
     */
    String blamed(KernelReport report) {
        String c = report.crashClass();
        String reported = rules.normalize(report.reportedFunction());
        String faulting = rules.normalize(report.faultingFunction());
        return switch (c) {
            case "kcsan" -> kcsan(report.reportedFunction());
            case "warning", "kasan", "kfence", "kmsan", "lockdep" ->
                reported != null && !rules.skipped(reported, c, report.subtype())
                        ? reported
                        : firstFrameAfter(report, reported, faulting);
            // Titled by kind alone; keyed by the first real frames, when the report has a trace.
            case "fixed" -> firstFrame(report);
            case "ubsan", "hung-task", "panic", "bug", "memory-leak" -> firstNonNull(firstFrame(report), faulting);
            case "rcu-stall" -> firstNonNull(outermostFrame(report), faulting);
            case "soft-lockup" ->
                rules.outermost(c)
                        ? firstNonNull(outermostFrame(report), faulting)
                        : faulting != null && !rules.skipped(faulting, c, report.subtype())
                                ? faulting
                                : firstNonNull(firstFrame(report), faulting);
            default ->
                faulting != null && !rules.skipped(faulting, c, report.subtype())
                        ? faulting
                        : firstNonNull(firstFrame(report), faulting);
        };
    }

    /** KCSAN names both racing functions; each keeps its name. */
    private String kcsan(String named) {
        if (named == null) {
            return null;
        }
        List<String> sides = new ArrayList<>();
        for (String side : named.split(" / ")) {
            sides.add(rules.normalize(side.strip()));
        }
        return String.join(" / ", sides);
    }

    /**
     * The first frame that is not machinery, below the reported function when it is in the trace; {@code fallback}
     * when the trace has none.
     */
    private String firstFrameAfter(KernelReport report, String reported, String faulting) {
        String c = report.crashClass();
        List<Frame> frames = report.frames();
        int from = 0;
        if (reported != null) {
            for (int i = 0; i < frames.size(); i++) {
                if (rules.normalize(frames.get(i).function()).equals(reported)) {
                    from = i + 1;
                    break;
                }
            }
        }
        for (int i = from; i < frames.size(); i++) {
            if (!rules.skipped(frames.get(i).function(), c, report.subtype())) {
                return rules.normalize(frames.get(i).function());
            }
        }
        return firstNonNull(reported, faulting);
    }

    /**
     * For a stall: the outermost frame that is not machinery in the first stack that enters the kernel (the syscall,
     * kernel thread or work item that stalled), which stays the same wherever the stall was interrupted; without
     * an entry, the outermost such frame of all.
     */
    private String outermostFrame(KernelReport report) {
        if (!rules.outermost(report.crashClass())) {
            return firstFrame(report);
        }
        String candidate = null;
        for (Frame f : report.frames()) {
            if (rules.entry(f.function())) {
                if (candidate != null) {
                    return candidate;
                }
                continue;
            }
            if (!rules.skipped(f.function(), report.crashClass(), report.subtype())) {
                candidate = rules.normalize(f.function());
            }
        }
        return candidate;
    }

    private String firstFrame(KernelReport report) {
        for (Frame f : report.frames()) {
            if (!rules.skipped(f.function(), report.crashClass(), report.subtype())) {
                return rules.normalize(f.function());
            }
        }
        return null;
    }

    /** The blamed function and the frames that called it, skipping machinery, up to the rules' count. */
    private List<String> keyFrames(KernelReport report, String blamed) {
        List<String> frames = new ArrayList<>();

        if (blamed != null) {
            frames.add(blamed);
        }
        boolean after = blamed == null;
        for (Frame f : report.frames()) {
            if (frames.size() >= rules.framesInKey()) {
                break;
            }
            String name = rules.normalize(f.function());
            if (!after) {
                after = name.equals(blamed);
                continue;
            }
            if (!rules.skipped(name, report.crashClass(), report.subtype())) {
                frames.add(name);
            }
        }
        if (!after) {
            // The blamed function is not in the trace (a RIP that did not unwind): key on the trace from its top.
            for (Frame f : report.frames()) {
                String name = rules.normalize(f.function());
                if (frames.size() >= rules.framesInKey()) {
                    break;
                }
                if (!rules.skipped(name, report.crashClass(), report.subtype()) && !frames.contains(name)) {
                    frames.add(name);
                }
            }
        }
        return frames;
    }

    private String title(KernelReport r, String blamed) {
        String in = blamed == null ? "" : " in " + blamed;
        return switch (r.crashClass()) {
            // One wording whatever the kernel's version printed ("BUG: kernel NULL pointer dereference, address:",
            // "BUG: unable to handle page fault for address:"), as kernel triage has titled them since before.
            case "null-deref" -> "BUG: unable to handle kernel NULL pointer dereference" + in;
            case "page-fault" -> "BUG: unable to handle kernel paging request" + in;
            case "gpf" -> "general protection fault" + in;
            case "warning" -> (r.subtype() == null ? "WARNING" : "WARNING: " + r.subtype() + " bug") + in;
            case "kernel-bug" -> "kernel BUG" + in;
            case "kasan" -> "KASAN: " + r.subtype() + (r.access() == null ? "" : " " + r.access()) + in;
            case "kfence" -> "KFENCE: " + r.subtype() + (r.access() == null ? "" : " " + r.access()) + in;
            case "kmsan" -> "KMSAN: " + r.subtype() + in;
            case "kcsan" -> "KCSAN: " + r.subtype() + in;
            case "ubsan" -> "UBSAN: " + r.subtype() + in;
            case "lockdep", "bug" -> r.subtype() + in;
            case "fixed" -> r.subtype();
            case "memory-leak" -> "memory leak" + in;
            case "hung-task" -> "INFO: task hung" + in;
            case "soft-lockup" -> "BUG: soft lockup" + in;
            case "hard-lockup" -> "BUG: hard lockup" + in;
            case "rcu-stall" -> "INFO: rcu detected stall" + in;
            case "panic" -> panicTitle(r.panicMessage(), in);
            default -> "Oops" + in;
        };
    }

    private static final java.util.regex.Pattern STACK_PROTECTOR = java.util.regex.Pattern.compile(
            "stack-protector: Kernel stack is corrupted in: \\.?([A-Za-z_$][\\w.$]{0,255}?)(?:\\+0x|$)");
    private static final java.util.regex.Pattern STACK_END =
            java.util.regex.Pattern.compile("corrupted stack end detected inside scheduler");

    /**
     * A panic's title is its message (numbers masked), except where the message names the function: a stack
     * protector's "Kernel stack is corrupted in: foo+0x1/0x2" is {@code stack is corrupted in foo}, and a corrupted
     * stack end found by the scheduler names the blamed frame.
     */
    private String panicTitle(String message, String in) {
        String text = message == null ? "" : message;
        java.util.regex.Matcher m = STACK_PROTECTOR.matcher(text);
        if (m.find()) {
            return "kernel panic: stack is corrupted in " + rules.normalize(m.group(1));
        }
        if (STACK_END.matcher(text).find()) {
            return "kernel panic: corrupted stack end" + in;
        }
        // A message that ends in "..." (panic_on_warn's) is titled without them.
        return "kernel panic: " + mask(text.replaceFirst("\\s*\\.\\.\\.$", ""));
    }

    /**
     * A sanitizer's bug type by family for keys: slab-, global- and stack-out-of-bounds at the same site and
     * access are one bug found through different objects; the title keeps the precise type.
     */
    static String family(String subtype) {
        if (subtype == null) {
            return null;
        }
        if (subtype.contains("out-of-bounds")) {
            return subtype.startsWith("array-index") ? "array-index-out-of-bounds" : "out-of-bounds";
        }
        if (subtype.contains("use-after-free")) {
            return "use-after-free";
        }
        return subtype;
    }

    /** Numbers and addresses out of a message, so the same panic with other values reads the same. */
    static String mask(String message) {
        return message.replaceAll("0x[0-9a-fA-F]+", "...")
                .replaceAll("\\b\\d+\\b", "...")
                .strip();
    }

    private static String firstNonNull(String a, String b) {
        return a != null ? a : b;
    }

    private String key(String layer, String text) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return layer + rules.version() + "-" + HexFormat.of().formatHex(hash, 0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
