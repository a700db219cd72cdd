package dev.vigil.triage.signature;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vigil.triage.evidence.LinuxConsoleParser;
import dev.vigil.triage.evidence.LinuxConsoleParserTest;
import dev.vigil.triage.evidence.VmcoreFacts;
import dev.vigil.triage.evidence.WindowsDumpHeader;
import java.io.InputStream;
import java.util.List;
import org.junit.jupiter.api.Test;

class SignaturesTest {

    private final Signatures signatures = new Signatures(SignatureRules.current());

    @Test
    void thePanicOfTheCrashCaptureGuestIsTitledByTheFunctionThatPanicked() {
        Signature s = signatures.of(
                LinuxConsoleParser.parse(LinuxConsoleParserTest.SYSRQ_PANIC).orElseThrow(), "6.1-it");
        assertThat(s.title()).isEqualTo("kernel panic: sysrq triggered crash");
        assertThat(s.frames()).containsExactly("sysrq_handle_crash", "__handle_sysrq", "write_sysrq_trigger");
        assertThat(s.symbolicText())
                .isEqualTo("panic:sysrq triggered crash|sysrq_handle_crash|__handle_sysrq|write_sysrq_trigger");
        assertThat(s.symbolicKey()).startsWith("s3-").hasSize(3 + 24);
        assertThat(s.instantKey()).startsWith("i3-");
    }

    @Test
    void compilerSuffixesAndAddressesDoNotSplitABug() {
        String other = LinuxConsoleParserTest.GPF
                .replace("acme_list_del.isra.0+0x12/0x40", "acme_list_del.constprop.0.cold+0x19/0x44")
                .replace("0xdead000000000122", "0xdead000000000100")
                .replace("431.12", "9.99")
                .replace("PID: 4242", "PID: 17");
        Signature a = signatures.of(
                LinuxConsoleParser.parse(LinuxConsoleParserTest.GPF).orElseThrow(), "1.0");
        Signature b = signatures.of(LinuxConsoleParser.parse(other).orElseThrow(), "1.0");
        assertThat(a.title()).isEqualTo("general protection fault in acme_list_del");
        assertThat(b.symbolicKey()).isEqualTo(a.symbolicKey());
        assertThat(b.instantKey()).isEqualTo(a.instantKey());
        assertThat(a.symbolicText()).isEqualTo("gpf|acme_list_del|acme_flush_work|process_one_work");
    }

    @Test
    void aFaultInsideAHelperBlamesItsCaller() {
        String inMemcpy = LinuxConsoleParserTest.GPF
                .replace("RIP: 0010:acme_list_del.isra.0+0x12/0x40 [acme]", "RIP: 0010:memcpy_orig+0x19/0x120")
                .replace(
                        "  acme_list_del.isra.0+0x12/0x40 [acme]",
                        "  memcpy_orig+0x19/0x120\n[  431.123495]  acme_copy+0x40/0x90 [acme]");
        Signature s = signatures.of(LinuxConsoleParser.parse(inMemcpy).orElseThrow(), null);
        assertThat(s.title()).isEqualTo("general protection fault in acme_copy");
    }

    @Test
    void aDumpTakenBecauseAWatchdogFiredSaysSoInTheSameBucketAsACrashThere() {
        VmcoreFacts dump = new VmcoreFacts(
                "kdump-compressed", "6.1.0-57-amd64", null, "3400000", "x86_64", 1, 0, List.of(0xffffffff84992eebL));

        Signature watchdog = signatures.of(dump, "12.0", "WATCHDOG");
        Signature crash = signatures.of(dump, "12.0", "CRASH");

        assertThat(watchdog.title())
                .isEqualTo("watchdog fired: Linux crash dump (6.1.0-57-amd64) at 0xffffffff81592eeb");
        assertThat(crash.title()).isEqualTo("Linux crash dump (6.1.0-57-amd64) at 0xffffffff81592eeb");
        assertThat(signatures.of(dump, "12.0", "HANG").title()).startsWith("hang: Linux crash dump");
        assertThat(signatures.of(dump, "12.0", "IO_ERROR").title())
                .startsWith("paused on an I/O error: Linux crash dump");
        // The hypervisor's reason is in the title; the keys stay those of the site.
        Signature enospc = signatures.of(dump, "12.0", "IO_ERROR", "enospc");
        assertThat(enospc.title()).startsWith("paused on an I/O error (enospc): Linux crash dump");
        assertThat(enospc.symbolicKey()).isEqualTo(crash.symbolicKey());
        assertThat(signatures.of(dump, "12.0", "WATCHDOG", "reset").title())
                .startsWith("watchdog fired (reset): Linux crash dump");
        assertThat(signatures
                        .ofHypervisor("IO_ERROR", "enospc", "AcmeOS", "12.0")
                        .title())
                .isEqualTo("paused on a host I/O error (enospc) (AcmeOS)");
        assertThat(signatures.ofHypervisor("HANG", "AcmeOS", "12.0").title())
                .isEqualTo("hang with no readable evidence (AcmeOS)");
        assertThat(signatures
                        .ofHypervisor("IO_ERROR", "enospc", "AcmeOS", "12.0")
                        .symbolicKey())
                .isEqualTo(signatures.ofHypervisor("IO_ERROR", "AcmeOS", "12.0").symbolicKey());
        assertThat(watchdog.symbolicKey()).isEqualTo(crash.symbolicKey());
        assertThat(watchdog.instantKey()).isEqualTo(crash.instantKey());
    }

    @Test
    void aWindowsBugcheckIsTitledByItsCodeAndName() {
        byte[] header = new byte[0x2000];
        System.arraycopy("PAGEDU64".getBytes(), 0, header, 0, 8);
        header[0x38] = 0x50;
        Signature s = signatures.of(WindowsDumpHeader.parse(header).orElseThrow(), "11-beta");
        assertThat(s.title()).isEqualTo("BUGCHECK 0x50 PAGE_FAULT_IN_NONPAGED_AREA");
        assertThat(s.symbolicText()).isEqualTo("windows|bugcheck|0x50");
    }

    /** A KASAN report whose trace is lost after its header: its first line names only the helper that was caught. */
    private static final String KASAN_WITHOUT_TRACE = """
            ==================================================================
            BUG: KASAN: use-after-free in vsnprintf+0x1727/0x19a0 lib/vsprintf.c:2503
            Read of size 8 at addr ffff8880952500a0 by task syz-executor.1/9180

            CPU: 0 PID: 9180 Comm: syz-executor.1 Not tainted 5.2.0-rc5+ #43
            Call Trace:

            Allocated by task 8:
             save_stack+0x23/0x90 mm/kasan/common.c:71
             __kasan_kmalloc.constprop.0+0xcf/0xe0 mm/kasan/common.c:462
             kmem_cache_alloc_trace+0x151/0x750 mm/slab.c:3555
             acme_open+0x52/0x90 drivers/acme/acme.c:40
            """;

    @Test
    void aReportWithoutTheTraceItsTitleNeedsIsMarkedCorruptedAndTitledByItsKind() {
        Signature s =
                signatures.of(LinuxConsoleParser.parse(KASAN_WITHOUT_TRACE).orElseThrow(), "1.0");
        assertThat(s.title()).isEqualTo("KASAN: use-after-free Read in corrupted");
        assertThat(s.corrupted()).isEqualTo("truncated: no call trace to blame a function from");
        assertThat(s.symbolicText()).isEqualTo("kasan:use-after-free:read|corrupted");
        assertThat(s.frames()).isEmpty();
        // Nor is either key made of the helper its first line names: another truncated one of the kind keys alike.
        Signature other = signatures.of(
                LinuxConsoleParser.parse(KASAN_WITHOUT_TRACE.replace("vsnprintf+0x1727/0x19a0", "memcpy+0x10/0x40"))
                        .orElseThrow(),
                "1.0");
        assertThat(other.symbolicKey()).isEqualTo(s.symbolicKey());
        assertThat(other.instantKey()).isEqualTo(s.instantKey());

        // A whole report of the same kind keeps its function, and its own bucket.
        Signature whole = signatures.of(
                LinuxConsoleParser.parse(KASAN_WITHOUT_TRACE.replace(
                                "Call Trace:\n", "Call Trace:\n kasan_report+0xb1/0xe0\n xyz_read+0x1f/0x60\n"))
                        .orElseThrow(),
                "1.0");
        assertThat(whole.corrupted()).isNull();
        assertThat(whole.title()).isEqualTo("KASAN: use-after-free Read in vsnprintf");
        assertThat(whole.symbolicKey()).isNotEqualTo(s.symbolicKey());
    }

    @Test
    void aTraceOfReportingMachineryOnlyIsCorruptedButAFaultingFunctionIsEnough() {
        String cut = """
                ------------[ cut here ]------------
                WARNING: CPU: 1 PID: 77 at kernel/workqueue.c:3031 __flush_work+0x5c2/0x700
                Modules linked in:
                CPU: 1 PID: 77 Comm: kworker/1:2 Not tainted 6.4.0 #1
                RIP: 0010:__flush_work+0x5c2/0x700
                Call Trace:
                 <TASK>
                """;
        Signature warning = signatures.of(LinuxConsoleParser.parse(cut).orElseThrow(), null);
        assertThat(warning.title()).isEqualTo("WARNING in corrupted");
        assertThat(warning.corrupted()).startsWith("truncated:");

        Signature gpf = signatures.of(
                LinuxConsoleParser.parse(LinuxConsoleParserTest.GPF
                                .lines()
                                .filter(line -> !line.contains("  ") || !line.contains("+0x") || line.contains("RIP"))
                                .reduce("", (a, b) -> a + b + "\n"))
                        .orElseThrow(),
                null);
        assertThat(gpf.corrupted()).isNull();
        assertThat(gpf.title()).isEqualTo("general protection fault in acme_list_del");
    }

    @Test
    void twoCpusPrintingAtOnceMarkTheReportInterleaved() {
        String glued = """
                [   12.000001] BUG: KASAN: slab-out-of-bounds in acme_read+0x1f/0x60[   12.000002] usb 1-1: new device
                [   12.000003] Read of size 8 at addr ffff888012345678 by task cat/1234
                [   12.000004] Call Trace:
                [   12.000005]  acme_read+0x1f/0x60
                [   12.000006]  vfs_read+0xa1/0x2c0
                """;
        Signature s = signatures.of(LinuxConsoleParser.parse(glued).orElseThrow(), null);
        assertThat(s.corrupted()).startsWith("interleaved:");
        assertThat(s.title()).isEqualTo("KASAN: slab-out-of-bounds Read in corrupted");

        String twoCpus = """
                watchdog: BUG: soft lockup - CPU#0 stuck for 23s! [a.out:423]
                CPU: 0 PID: 423 Comm: a.out Not tainted 5.11.2 #13
                RIP: 0010:acme_poll+0x6b9/0x1040
                watchdog: BUG: soft lockup - CPU#1 stuck for 23s! [a.out:416]
                RSP: 0018:ffffc900001efe58 EFLAGS: 00000293
                CPU: 1 PID: 416 Comm: a.out Not tainted 5.11.2 #13
                Call Trace:
                 acme_wait+0x2f/0x40
                 do_syscall_64+0x38/0x90
                """;
        Signature lockup = signatures.of(LinuxConsoleParser.parse(twoCpus).orElseThrow(), null);
        assertThat(lockup.corrupted()).isEqualTo("interleaved: another report starts before its call trace");
        assertThat(lockup.title()).isEqualTo("BUG: soft lockup in corrupted");
    }

    @Test
    void rulesBeforeVersionThreeSignAsTheyDid() throws Exception {
        ObjectNode json;
        try (InputStream in = SignatureRules.class.getResourceAsStream("rules.json")) {
            json = (ObjectNode) new ObjectMapper().readTree(in);
        }
        json.put("version", 2);
        json.remove("markCorrupted");
        Signature s = new Signatures(SignatureRules.parse(json))
                .of(LinuxConsoleParser.parse(KASAN_WITHOUT_TRACE).orElseThrow(), "1.0");
        assertThat(s.corrupted()).isNull();
        assertThat(s.title()).isEqualTo("KASAN: use-after-free Read in vsnprintf");

        json.put("markCorrupted", "yes");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> SignatureRules.parse(json))
                .isInstanceOf(InvalidRulesException.class)
                .hasMessage("markCorrupted must be true or false");
    }
}
