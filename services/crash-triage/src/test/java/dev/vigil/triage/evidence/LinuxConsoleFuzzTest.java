package dev.vigil.triage.evidence;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;

/**
 * Kernel console text as a guest writes it, and as a hostile guest may: whatever the bytes, the parser returns a
 * report or nothing; an exception, a hang or an allocation the heap cannot hold fails the test. Seeds are real crash
 * logs from the labelled corpus.
 */
class LinuxConsoleFuzzTest {

    @FuzzTest
    void parsesAReportOrNothing(byte[] input) {
        LinuxConsoleParser.parse(new String(input, StandardCharsets.UTF_8));
    }
}
