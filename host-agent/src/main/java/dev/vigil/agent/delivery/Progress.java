package dev.vigil.agent.delivery;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongConsumer;

/**
 * A download's progress on the terminal (bytes, rate and time left, at most once a second and at the end) and, for
 * the agent's events, at every tenth of the way.
 */
final class Progress {

    private final PrintStream out;
    private final String what;
    private final long total;
    private final long started = System.nanoTime();
    private final long startBytes;
    private final LongConsumer tenths;
    private long lastPrint;
    private long lastTenth;

    /** @param tenths told the bytes done each time another tenth of the total is done */
    Progress(PrintStream out, String what, long total, long alreadyDone, LongConsumer tenths) {
        this.out = out;
        this.what = what;
        this.total = total;
        this.startBytes = alreadyDone;
        this.tenths = tenths;
        this.lastTenth = tenth(alreadyDone);
    }

    private long tenth(long done) {
        return total <= 0 ? 10 : Math.min(10, done * 10 / total);
    }

    void update(long done) {
        long tenth = tenth(done);
        if (tenth > lastTenth) {
            lastTenth = tenth;
            tenths.accept(done);
        }
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
