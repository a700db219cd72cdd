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
        List<String> frames = keyFrames(report, blamed);
        String title = title(report, blamed);
        String classText = report.crashClass()
                + (report.subtype() == null ? "" : ":" + family(report.subtype()))
                + (report.access() == null ? "" : ":" + report.access().toLowerCase(Locale.ROOT));
        if (report.crashClass().equals("panic") && report.panicMessage() != null) {
            classText += ":" + mask(report.panicMessage());
        }
        String symbolic = classText + "|" + String.join("|", frames);
        String instant = "linux|" + report.crashClass() + "|" + (blamed == null ? "?" : blamed) + "|"
                + (report.faultingModule() == null ? "kernel" : report.faultingModule()) + "|"
                + (release == null ? "?" : release);
        return new Signature(title, key("i", instant), key("s", symbolic), symbolic, frames, rules.version());
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
        Long ip = facts.unslidInstructionPointer();
        String site = ip == null ? "?" : "0x" + Long.toHexString(ip);
        String kernel = facts.osRelease() == null ? "unknown kernel" : facts.osRelease();
        String title = why(trigger) + "Linux crash dump (" + kernel + ") at " + site;
        String symbolic = "linux|vmcore|" + kernel + "|" + site;
        String instant = "linux|vmcore|" + site + "|" + kernel + "|" + (release == null ? "?" : release);
        return new Signature(title, key("i", instant), key("s", symbolic), symbolic, List.of(), rules.version());
    }

    /** What a non-crash trigger adds in front of a dump's title. */
    private static String why(String trigger) {
        if (trigger == null) {
            return "";
        }
        return switch (trigger) {
            case "WATCHDOG" -> "watchdog fired: ";
            case "HANG" -> "hang: ";
            case "IO_ERROR" -> "paused on an I/O error: ";
            default -> "";
        };
    }

    /**
     * The signature of an incident whose evidence says nothing readable (no console text, no dump, no panic data):
     * what the hypervisor saw, per product. Coarse on purpose: such buckets are where collection should improve.
     */
    public Signature ofHypervisor(String trigger, String product, String release) {
        String what = trigger.toLowerCase(Locale.ROOT).replace('_', ' ');
        String title = what + " with no readable evidence" + (product == null ? "" : " (" + product + ")");
        String symbolic = "hypervisor|" + trigger + "|" + (product == null ? "?" : product);
        String instant = symbolic + "|" + (release == null ? "?" : release);
        return new Signature(title, key("i", instant), key("s", symbolic), symbolic, List.of(), rules.version());
    }

    /** The function the report blames: what a title names and a key starts from. */
    String blamed(KernelReport report) {
        String reported = rules.normalize(report.reportedFunction());
        String faulting = rules.normalize(report.faultingFunction());
        return switch (report.crashClass()) {
            case "warning", "kasan", "kfence" -> firstNonNull(reported, faultingOrFrame(report, faulting));
            case "ubsan", "hung-task", "rcu-stall", "panic" -> firstNonNull(firstFrame(report), faulting);
            default -> faultingOrFrame(report, faulting);
        };
    }

    private String faultingOrFrame(KernelReport report, String faulting) {
        if (faulting != null && !rules.skipped(faulting)) {
            return faulting;
        }
        return firstNonNull(firstFrame(report), faulting);
    }

    private String firstFrame(KernelReport report) {
        for (Frame f : report.frames()) {
            if (!rules.skipped(f.function())) {
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
            if (!rules.skipped(name)) {
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
                if (!rules.skipped(name) && !frames.contains(name)) {
                    frames.add(name);
                }
            }
        }
        return frames;
    }

    private String title(KernelReport r, String blamed) {
        String in = blamed == null ? "" : " in " + blamed;
        return switch (r.crashClass()) {
            case "null-deref" -> "BUG: kernel NULL pointer dereference" + in;
            case "page-fault" -> "BUG: unable to handle page fault" + in;
            case "gpf" -> "general protection fault" + in;
            case "warning" -> "WARNING" + in;
            case "kernel-bug" -> "kernel BUG" + in;
            case "kasan" -> "KASAN: " + r.subtype() + (r.access() == null ? "" : " " + r.access()) + in;
            case "kfence" -> "KFENCE: " + r.subtype() + (r.access() == null ? "" : " " + r.access()) + in;
            case "ubsan" -> "UBSAN: " + r.subtype() + in;
            case "hung-task" -> "INFO: task hung" + in;
            case "soft-lockup" -> "BUG: soft lockup" + in;
            case "hard-lockup" -> "BUG: hard lockup" + in;
            case "rcu-stall" -> "INFO: rcu detected stall" + in;
            case "panic" -> "kernel panic: " + mask(r.panicMessage() == null ? "" : r.panicMessage()) + in;
            default -> "Oops" + in;
        };
    }

    /**
     * A sanitizer's bug type by family for keys: slab-, global- and stack-out-of-bounds at the same site and
     * access are one bug found through different objects; the title keeps the precise type.
     */
    static String family(String subtype) {
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
