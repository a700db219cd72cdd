package dev.vigil.triage.outbox;

import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.crash.CrashTriaged;
import dev.vigil.triage.metrics.TriageMetrics;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.scheduler.Scheduled;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Event;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.TransactionPhase;
import jakarta.transaction.Transactional;
import java.sql.SQLException;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jboss.logging.Logger;

/**
 * The transactional outbox of {@code vigil.crash.triaged.v1}. A transaction that decides an outcome stages its event
 * with {@link #stage}; once it has committed, the relay thread publishes what is staged, oldest first, and deletes it
 * when the broker has acknowledged it. A rolled-back transaction leaves nothing to publish, so no event announces a
 * merge, a policy or a bucket that does not exist; an event staged by a transaction whose relay was cut short (a
 * crash, the broker away) goes out with the next relay or the sweep. Delivery is at least once, with the event id
 * derived from the outcome.
 */
@ApplicationScoped
public class Outbox {

    private static final Logger LOG = Logger.getLogger(Outbox.class);
    private static final int BATCH = 100;
    private static final EventCodec<CrashTriaged> CODEC = EventCodec.of(CrashTriaged.class);

    private final OutboxRepository repository;
    private final TriagePublisher publisher;
    private final TriageMetrics metrics;
    private final Event<Staged> staged;
    private final ExecutorService relay = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "vigil-triage-outbox");
        t.setDaemon(true);
        return t;
    });
    private final AtomicBoolean queued = new AtomicBoolean();

    Outbox(OutboxRepository repository, TriagePublisher publisher, TriageMetrics metrics, Event<Staged> staged) {
        this.repository = repository;
        this.publisher = publisher;
        this.metrics = metrics;
        this.staged = staged;
    }

    /**
     * An event a transaction staged. Observed with {@code during = TransactionPhase.AFTER_SUCCESS}, it is heard once
     * that transaction has committed, and never if it rolled back.
     */
    public record Staged(CrashTriaged event) {}

    /** In the caller's transaction: {@code event} is published after that transaction commits, never if it rolls back. */
    @Transactional(Transactional.TxType.MANDATORY)
    public void stage(CrashTriaged event) throws SQLException {
        repository.insert(
                UUID.fromString(event.getBucketId().toString()),
                event.getEnvelope().getEventId().toString(),
                CODEC.encode(event));
        staged.fire(new Staged(event));
    }

    /** After the commit of a transaction that staged an event: the relay publishes it; the committer does not wait. */
    void relayCommitted(@Observes(during = TransactionPhase.AFTER_SUCCESS) Staged committed) {
        relaySoon();
    }

    /** The relay thread publishes what is staged, unless it is about to already. */
    void relaySoon() {
        if (queued.compareAndSet(false, true)) {
            relay.execute(() -> {
                queued.set(false);
                try {
                    relay();
                } catch (RuntimeException e) {
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
     * Publishes the staged events in order, batch by batch, each batch in a transaction of its own that holds the
     * relay lock and deletes the batch after the broker acknowledged it.
     *
     * @return how many events were published
     */
    int relay() {
        int published = 0;
        while (true) {
            int batch = QuarkusTransaction.requiringNew().call(this::relayBatch);
            if (batch == 0) {
                return published;
            }
            published += batch;
            metrics.outboxRelayed(batch);
        }
    }

    private int relayBatch() throws SQLException {
        repository.lockRelay();
        List<OutboxRepository.Waiting> batch = repository.oldest(BATCH);
        for (OutboxRepository.Waiting waiting : batch) {
            publisher.publish(CODEC.decode(waiting.payload()));
        }
        if (!batch.isEmpty()) {
            repository.delete(batch);
        }
        return batch.size();
    }

    /** How many events wait to be relayed. */
    public long waiting() throws SQLException {
        return repository.count();
    }

    @PreDestroy
    void stop() {
        relay.shutdown();
    }
}
