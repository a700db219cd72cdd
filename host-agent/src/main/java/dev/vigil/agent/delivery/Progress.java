package dev.vigil.agent.delivery;

import java.io.PrintStream;
import java.util.Locale;

/** A download's progress on the terminal: bytes, rate and time left, at most once a second and at the end. */
final class Progress {

    private final PrintStream out;
    private final String what;
    private final long total;
    private final long started = System.nanoTime();
    private final long startBytes;
    private long lastPrint;

    Progress(PrintStream out, String what, long total, long alreadyDone) {
        this.out = out;
        this.what = what;
        this.total = total;
        this.startBytes = alreadyDone;
    }

    void update(long done) {
        long now = System.nanoTime();
        if (now - lastPrint < 1_000_000_000L && done < total) {
            return;
        }
        lastPrint = now;
        double seconds = Math.max((now - started) / 1e9, 1e-3);
        double rate = (done - startBytes) / seconds;
        double left = rate > 0 ? (total - done) / rate : Double.NaN;
        out.println(String.format(
                Locale.ROOT,
                "%s: %.1f of %.1f MiB (%d%%), %.1f MiB/s%s",
                what,
                done / 1048576.0,
                total / 1048576.0,
                total == 0 ? 100 : done * 100 / total,
                rate / 1048576.0,
                done >= total || Double.isNaN(left) ? "" : String.format(Locale.ROOT, ", %.0f s left", left)));
    }
}
