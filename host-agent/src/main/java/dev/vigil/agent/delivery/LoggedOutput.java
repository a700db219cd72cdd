package dev.vigil.agent.delivery;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** What an install prints, as log lines of the running agent (which has no terminal). */
public final class LoggedOutput {

    private LoggedOutput() {}

    /** A stream whose every line becomes an INFO line of {@code log}. */
    public static PrintStream to(System.Logger log) {
        return new PrintStream(
                new OutputStream() {
                    private final ByteArrayOutputStream line = new ByteArrayOutputStream();

                    @Override
                    public synchronized void write(int b) {
                        if (b == '\n') {
                            log.log(System.Logger.Level.INFO, line.toString(StandardCharsets.UTF_8));
                            line.reset();
                        } else {
                            line.write(b);
                        }
                    }
                },
                true,
                StandardCharsets.UTF_8);
    }
}
