package dev.vigil.ingestion.service;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs rounds of one background job on its own thread, as soon as one is asked for and one at a time: asks that come
 * while a round runs fold into one more round after it, so a burst of asks costs two rounds, not one each. The job's
 * scheduler asks too, on its period, so a round that fails is tried again then.
 */
final class Rounds implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(Rounds.class.getName());

    private final String name;
    private final Runnable round;
    private final ExecutorService thread;
    /** 0: idle; 1: a round runs; 2: a round runs and another was asked for. */
    private final AtomicInteger asked = new AtomicInteger();

    Rounds(String name, Runnable round) {
        this.name = name;
        this.round = round;
        this.thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
    }

    /** Asks for a round: now if none runs, else right after the one that does. */
    void ask() {
        if (asked.getAndUpdate(n -> Math.min(n + 1, 2)) == 0) {
            try {
                thread.execute(this::run);
            } catch (RejectedExecutionException e) {
                asked.set(0); // closed: the service is stopping
            }
        }
    }

    private void run() {
        do {
            try {
                round.run();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, name + ": round failed, tried again at the next ask: " + e);
            }
        } while (asked.decrementAndGet() > 0);
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
