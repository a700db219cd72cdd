package dev.vigil.triage.signature;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vigil.triage.evidence.LinuxConsoleParser;
import dev.vigil.triage.evidence.LinuxConsoleParserTest;
import dev.vigil.triage.evidence.VmcoreFacts;
import dev.vigil.triage.evidence.WindowsDumpHeader;
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
        assertThat(s.symbolicKey()).startsWith("s2-").hasSize(3 + 24);
        assertThat(s.instantKey()).startsWith("i2-");
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
                .isEqualTo("io error (enospc) with no readable evidence (AcmeOS)");
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
}
