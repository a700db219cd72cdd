package dev.vigil.triage.evidence;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Windows crash dump headers (QEMU's win-dmp, a guest's own): whatever the bytes, the parser returns a header or
 * nothing, and names any bugcheck code it reads. Seeds are headers laid out as QEMU writes them.
 */
class WindowsDumpFuzzTest {

    @FuzzTest
    void readsAHeaderOrNothing(byte[] input) {
        WindowsDumpHeader.looksLikeOne(input);
        WindowsDumpHeader.parse(input).ifPresent(h -> Bugchecks.name(h.bugcheckCode()));
    }
}
