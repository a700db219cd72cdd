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
class HypervisorPromptTest {

    @Test
    void startSaysWhenAVmWasAlreadyRunningAndQuitIsToldFromTheEndOfInput() throws Exception {
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        HypervisorPrompt console = new HypervisorPrompt(
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

    @Test
    void failuresOnTheTestHypervisorSayWhatIsNeeded() throws Exception {
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        HypervisorPrompt console = new HypervisorPrompt(
                new Connect("test:///default"), new PrintStream(printed, true, StandardCharsets.UTF_8));

        console.run(new BufferedReader(new StringReader("crash web-2\nhang web-2\ndiskfull web-2\n")));

        String text = printed.toString(StandardCharsets.UTF_8);
        assertThat(text).contains("crash needs the real hypervisor (QEMU)");
        assertThat(text).contains("hang needs the real hypervisor (QEMU)");
        assertThat(text).contains("diskfull needs the real hypervisor (QEMU)");
        assertThat(text).contains("sudo devstack/hypervisor/setup");
    }

    @Test
    void aLogLineWhileThePromptWaitsKeepsThePromptAfterIt() throws Exception {
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(printed, true, StandardCharsets.UTF_8);
        PromptLog.install(out);
        java.util.logging.Logger log = java.util.logging.Logger.getLogger("dev.vigil.test");
        try {
            PromptLog.prompt(out);
            log.warning("the agent saw something");
            PromptLog.answered();
            log.warning("and something else");
        } finally {
            java.util.logging.LogManager.getLogManager().reset();
        }

        String text = printed.toString(StandardCharsets.UTF_8);
        // Not a terminal here: the prompt's line ends, the log line follows on its own, and the prompt comes back.
        assertThat(text).containsPattern("(?s)^vigil> \n.*the agent saw something\nvigil> .*and something else\n$");
    }
}
