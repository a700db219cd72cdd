package dev.vigil.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.libvirt.Connect;

/** The local run's prompt, on libvirt's test hypervisor (in-process, as the local run's agent sees it). */
class TestHypervisorConsoleTest {

    @Test
    void startSaysWhenAVmWasAlreadyRunningAndQuitIsToldFromTheEndOfInput() throws Exception {
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        TestHypervisorConsole console = new TestHypervisorConsole(
                new Connect("test:///default"), new PrintStream(printed, true, StandardCharsets.UTF_8));

        boolean quit = console.run(new BufferedReader(new StringReader("start web-7\nstart web-7\nquit\nlist\n")));

        String text = printed.toString(StandardCharsets.UTF_8);
        assertThat(quit).isTrue();
        assertThat(text).containsOnlyOnce("web-7 started: http://127.0.0.1:");
        assertThat(text).containsOnlyOnce("web-7 is already running: http://127.0.0.1:");
        assertThat(text).doesNotContain("web-7                running"); // nothing after quit ran

        printed.reset();
        assertThat(console.run(new BufferedReader(new StringReader("list\n")))).isFalse();
        assertThat(printed.toString(StandardCharsets.UTF_8)).contains("web-7");
    }
}
