package dev.vigil.triage.evidence;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * The heads of kdump-compressed and ELF vmcores, as the agent uploads them from a guest's memory: whatever the bytes,
 * the parser returns facts or nothing. Seeds are the heads of real 6.1 dumps.
 */
class VmcoreFuzzTest {

    @FuzzTest
    void readsFactsOrNothing(byte[] input) {
        if (VmcoreParser.recognizes(input)) {
            VmcoreParser.parse(input);
        } else if (VmcoreParser.parse(input).isPresent()) {
            throw new AssertionError("parsed a head it does not recognize");
        }
    }
}
