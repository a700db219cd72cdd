package dev.vigil.triage.outbox;

import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.crash.CrashTriaged;
import dev.vigil.triage.metrics.TriageMetrics;
import io.agroal.api.AgroalDataSource;
import io.quarkus.scheduler.Scheduled;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jboss.logging.Logger;

/**
 * The transactional outbox of {@code vigil.crash.triaged.v1}. A transaction that decides an outcome stages its event
 * with {@link #stage}; once it has committed, {@link #relaySoon} has the relay thread publish what is staged, oldest
 * first, and delete it when the broker has acknowledged it. A rolled-back transaction leaves nothing to publish, so no
 * event announces a merge, a policy or a bucket that does not exist; an event staged by a transaction whose relay was
 * cut short (a crash, the broker away) goes out with the next relay or the sweep. Delivery is at least once, with the
 * event id derived from the outcome.
 */
@ApplicationScoped
public class Outbox {

    private static final Logger LOG = Logger.getLogger(Outbox.class);
    private static final int BATCH = 100;
    private static final EventCodec<CrashTriaged> CODEC = EventCodec.of(CrashTriaged.class);

    private final AgroalDataSource db;
    private final TriagePublisher publisher;
    private final TriageMetrics metrics;
    private final ExecutorService relay = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "vigil-triage-outbox");
        t.setDaemon(true);
        return t;
    });
    private final AtomicBoolean queued = new AtomicBoolean();

    Outbox(AgroalDataSource db, TriagePublisher publisher, TriageMetrics metrics) {
        this.db = db;
        this.publisher = publisher;
        this.metrics = metrics;
    }

    /** In the caller's transaction: {@code event} is published after that transaction commits, never if it rolls back. */
    public static void stage(Connection c, CrashTriaged event) throws SQLException {
        OutboxRepository.insert(
                c,
                UUID.fromString(event.getBucketId().toString()),
                event.getEnvelope().getEventId().toString(),
                CODEC.encode(event));
    }

    /** After a commit: the relay thread publishes what is staged; the caller does not wait for the broker. */
    public void relaySoon() {
        if (queued.compareAndSet(false, true)) {
            relay.execute(() -> {
                queued.set(false);
                try {
                    relay();
                } catch (SQLException | RuntimeException e) {
                    metrics.outboxFailed();
                    LOG.warnf("relaying triage events: %s (the sweep tries again)", e.getMessage());
                }
            });
        }
    }

    /** Whatever a crash or an unreachable broker left staged goes out on the next sweep. */
    @Scheduled(
            every = "${vigil.triage.outbox-sweep}",
            delayed = "${vigil.triage.outbox-sweep}",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void sweep() {
        relaySoon();
    }

    /**
     * Publishes the staged events in order, batch by batch, each batch deleted in the transaction that holds the
     * relay lock, after the broker acknowledged it.
     *
     * @return how many events were published
     */
    int relay() throws SQLException {
        int published = 0;
        while (true) {
            try (Connection c = db.getConnection()) {
                c.setAutoCommit(false);
                try {
                    OutboxRepository.lockRelay(c);
                    List<OutboxRepository.Staged> batch = OutboxRepository.oldest(c, BATCH);
                    if (batch.isEmpty()) {
                        c.rollback();
                        return published;
                    }
                    for (OutboxRepository.Staged staged : batch) {
                        publisher.publish(CODEC.decode(staged.payload()));
                    }
                    OutboxRepository.delete(c, batch);
                    c.commit();
                    published += batch.size();
                    metrics.outboxRelayed(batch.size());
                } catch (SQLException | RuntimeException e) {
                    c.rollback();
                    throw e;
                }
            }
        }
    }

    /** How many events wait to be relayed. */
    public long waiting() throws SQLException {
        try (Connection c = db.getConnection()) {
            return OutboxRepository.count(c);
        }
    }

    @PreDestroy
    void stop() {
        relay.shutdown();
    }
}
