package dev.vigil.local;

import java.io.PrintStream;
import java.util.logging.ErrorManager;
import java.util.logging.Handler;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/**
 * The local run's log lines on the terminal without breaking the {@code vigil>} prompt: a line that arrives while the
 * prompt waits for input replaces the prompt (or starts a new line when output is not a terminal), and the prompt is
 * shown again after it.
 */
final class PromptLog extends Handler {

    static final String PROMPT = "vigil> ";
    private static final Object LOCK = new Object();
    private static boolean waiting;

    private final PrintStream out;
    private final boolean terminal;

    private PromptLog(PrintStream out, boolean terminal) {
        this.out = out;
        this.terminal = terminal;
        setFormatter(new SimpleFormatter());
    }

    /** Puts this handler in place of the root logger's handlers, writing to {@code out}. */
    static void install(PrintStream out) {
        Logger root = LogManager.getLogManager().getLogger("");
        for (Handler handler : root.getHandlers()) {
            root.removeHandler(handler);
        }
        root.addHandler(new PromptLog(out, System.console() != null));
    }

    /** Shows the prompt; log lines from now until {@link #answered} keep it visible. */
    static void prompt(PrintStream out) {
        synchronized (LOCK) {
            out.print(PROMPT);
            out.flush();
            waiting = true;
        }
    }

    /** The person pressed enter: the prompt's line is theirs now. */
    static void answered() {
        synchronized (LOCK) {
            waiting = false;
        }
    }

    /** Prints what a command answered, as one block. */
    static void println(PrintStream out, String text) {
        synchronized (LOCK) {
            out.println(text);
        }
    }

    @Override
    public void publish(LogRecord record) {
        if (!isLoggable(record)) {
            return;
        }
        String line;
        try {
            line = getFormatter().format(record);
        } catch (RuntimeException e) {
            reportError(null, e, ErrorManager.FORMAT_FAILURE);
            return;
        }
        synchronized (LOCK) {
            if (waiting) {
                // A terminal: return to the line's start and clear it; a pipe: end the prompt's line.
                out.print(terminal ? "\r\033[K" : "\n");
            }
            out.print(line);
            if (waiting) {
                out.print(PROMPT);
            }
            out.flush();
        }
    }

    @Override
    public void flush() {
        out.flush();
    }

    @Override
    public void close() {
        flush();
    }
}
