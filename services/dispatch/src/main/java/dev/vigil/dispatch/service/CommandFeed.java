package dev.vigil.dispatch.service;

import dev.vigil.dispatch.persistence.CommandRepository;
import dev.vigil.dispatch.persistence.Database;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * Each agent's commands over HTTPS (ADR 0007): an agent asks for its commands above the last sequence it handled, and
 * when there are none its request waits (a long poll) until one is issued for its host or the wait ends. Waiting
 * requests hold no thread and no database connection: issuing a command announces its host on a PostgreSQL
 * notification channel at commit, and one listening connection per replica wakes that host's waiting requests, on
 * whichever replica they wait. A command is marked delivered when its agent has fetched it.
 */
@ApplicationScoped
public class CommandFeed {

    private static final Logger LOG = Logger.getLogger(CommandFeed.class);
    /** At most this many commands in one answer; the agent asks again at once for the rest. */
    static final int BATCH = 50;
    /** How long the listener waits for a notification before it checks that its connection is alive. */
    private static final int LISTEN_MS = 10_000;

    private static final Duration RECONNECT = Duration.ofSeconds(2);

    private final Database db;
    private final Clock clock = Clock.systemUTC();
    private final String jdbcUrl;
    private final Optional<String> user;
    private final Optional<String> password;
    private final Map<String, Set<CompletableFuture<Boolean>>> waiting = new ConcurrentHashMap<>();
    private final AtomicInteger waiters = new AtomicInteger();
    private final AtomicBoolean listening = new AtomicBoolean();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final ExecutorService fetching = Executors.newFixedThreadPool(4, r -> {
        Thread thread = new Thread(r, "vigil-dispatch-command-feed");
        thread.setDaemon(true);
        return thread;
    });
    private Thread listener;

    CommandFeed(
            Database db,
            MeterRegistry metrics,
            @ConfigProperty(name = "quarkus.datasource.jdbc.url") String jdbcUrl,
            @ConfigProperty(name = "quarkus.datasource.username") Optional<String> user,
            @ConfigProperty(name = "quarkus.datasource.password") Optional<String> password) {
        this.db = db;
        this.jdbcUrl = jdbcUrl;
        this.user = user;
        this.password = password;
        metrics.gauge("vigil.dispatch.commands.waiting.agents", waiters);
        metrics.gauge("vigil.dispatch.commands.feed.listening", listening, l -> l.get() ? 1 : 0);
    }

    void onStart(@Observes StartupEvent event) {
        listener = new Thread(this::listen, "vigil-dispatch-command-listener");
        listener.setDaemon(true);
        listener.start();
    }

    void onStop(@Observes ShutdownEvent event) throws InterruptedException {
        running.set(false);
        wakeAll();
        fetching.shutdown();
        if (listener != null) {
            listener.interrupt();
            listener.join(5_000);
        }
    }

    /**
     * The host's open commands above {@code after}, marked delivered: at once when there are any, otherwise when one
     * is issued within {@code wait}, otherwise none when the wait ends. Call on a thread that may block (the first
     * look reads the database); the wait itself holds no thread.
     */
    public CompletionStage<List<CommandRepository.Pending>> next(String host, long after, Duration wait) {
        CompletableFuture<Boolean> woken = new CompletableFuture<>();
        // Listen before looking, so a command issued between the look and the wait still wakes this request.
        waiting.computeIfAbsent(host, h -> ConcurrentHashMap.newKeySet()).add(woken);
        waiters.incrementAndGet();
        List<CommandRepository.Pending> now;
        try {
            now = fetch(host, after);
        } catch (RuntimeException e) {
            stopWaiting(host, woken);
            throw e;
        }
        if (!now.isEmpty() || wait.isZero() || !running.get()) {
            stopWaiting(host, woken);
            return CompletableFuture.completedFuture(now);
        }
        woken.completeOnTimeout(false, wait.toMillis(), TimeUnit.MILLISECONDS);
        return woken.whenComplete((announced, error) -> stopWaiting(host, woken))
                .thenApplyAsync(announced -> announced ? fetch(host, after) : List.of(), fetching);
    }

    private List<CommandRepository.Pending> fetch(String host, long after) {
        Instant now = clock.instant();
        return db.transaction(c -> {
            List<CommandRepository.Pending> open = CommandRepository.open(c, host, after, now, BATCH);
            for (CommandRepository.Pending command : open) {
                CommandRepository.delivered(c, command.id(), now);
            }
            return open;
        });
    }

    private void stopWaiting(String host, CompletableFuture<Boolean> woken) {
        waiting.computeIfPresent(host, (h, set) -> {
            if (set.remove(woken)) {
                waiters.decrementAndGet();
            }
            return set.isEmpty() ? null : set;
        });
    }

    /** Wakes the requests waiting for this host's commands. */
    void wake(String host) {
        Set<CompletableFuture<Boolean>> set = waiting.get(host);
        if (set != null) {
            set.forEach(w -> w.complete(true));
        }
    }

    /** Wakes every waiting request: after the listener missed notifications, or when dispatch stops. */
    private void wakeAll() {
        waiting.values().forEach(set -> set.forEach(w -> w.complete(true)));
    }

    /**
     * Listens on the notification channel on a connection of its own (outside the pool: a listening session lasts as
     * long as dispatch). When the connection fails it connects again and wakes every waiting request, since a
     * command may have been issued while nobody listened.
     */
    private void listen() {
        while (running.get()) {
            try (Connection c = connect()) {
                CommandRepository.listen(c);
                listening.set(true);
                wakeAll();
                PGConnection pg = c.unwrap(PGConnection.class);
                while (running.get()) {
                    PGNotification[] notifications = pg.getNotifications(LISTEN_MS);
                    if (notifications == null || notifications.length == 0) {
                        // Quiet: prove the session is still there.
                        CommandRepository.ping(c);
                        continue;
                    }
                    for (PGNotification notification : notifications) {
                        wake(notification.getParameter());
                    }
                }
            } catch (SQLException e) {
                if (running.get()) {
                    LOG.warnf(
                            "listening for new commands failed (%s); agents' long polls fall back to their wait until"
                                    + " it reconnects",
                            e.getMessage());
                }
            } finally {
                listening.set(false);
            }
            try {
                Thread.sleep(RECONNECT.toMillis());
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private Connection connect() throws SQLException {
        Properties properties = new Properties();
        user.ifPresent(u -> properties.setProperty("user", u));
        password.ifPresent(p -> properties.setProperty("password", p));
        return DriverManager.getConnection(jdbcUrl, properties);
    }
}
