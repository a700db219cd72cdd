package dev.vigil.agent.publish;

import dev.vigil.agent.spool.Spool;
import dev.vigil.agent.spool.SpooledRecord;
import dev.vigil.schemas.RecordSeals;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Drains the spool to Kafka with an idempotent {@code acks=all} producer. A record is acknowledged in the spool
 * only when the broker has it; when Kafka gives up on one (e.g. the cluster was unreachable past the delivery
 * timeout) the publisher rewinds and sends everything unacknowledged again. Consumers dedupe by event id.
 */
public final class SpoolPublisher implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(SpoolPublisher.class.getName());
    private static final int WINDOW = 1_000;
    // Acks only move the cursor in memory (they arrive on Kafka's network thread); it is written this often, and on
    // close. After a crash the records acknowledged since the last write (at most this much of traffic) are sent
    // again: delivery is at least once either way, and consumers dedupe by event id.
    private static final long CURSOR_PERSIST_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final Spool spool;
    private final Supplier<Map<String, Object>> kafka;
    private final Supplier<?> credentials;
    private final String clientId;
    private final Duration deliveryTimeout;
    private volatile KafkaProducer<byte[], byte[]> producer;
    private Object credentialsInUse;
    private final AtomicBoolean renewalNeeded = new AtomicBoolean();
    private final Supplier<RecordSeals.HostKey> seals;
    private final Thread thread;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicBoolean rewindNeeded = new AtomicBoolean();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicLong published = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private final AtomicLong rejected = new AtomicLong();
    private volatile boolean connected = true;

    /**
     * A publisher of {@code spool} to the cluster {@code kafka} names (bootstrap and security settings).
     *
     * @param kafka the client settings, read again whenever {@code credentials} changes
     * @param credentials changes when the client certificate {@code kafka} names is replaced (renewed): the producer is
     *     then made again, once what it has in flight is settled, so that new connections present the new certificate
     * @param seals this host's record key when it sends (null while it is not enrolled: records go unsealed)
     */
    public SpoolPublisher(
            Spool spool,
            Supplier<Map<String, Object>> kafka,
            Supplier<?> credentials,
            String clientId,
            Duration deliveryTimeout,
            Supplier<RecordSeals.HostKey> seals) {
        this.spool = spool;
        this.seals = seals;
        this.kafka = kafka;
        this.credentials = credentials;
        this.clientId = clientId;
        this.deliveryTimeout = deliveryTimeout;
        this.credentialsInUse = credentials.get();
        this.producer = newProducer();
        this.thread = new Thread(this::run, "vigil-agent-publisher");
        this.thread.setDaemon(true);
    }

    /**
     * How an agent's producer is configured: idempotent with {@code acks=all}, batches compressed with zstd at level
     * 1. Load generators that stand in for a fleet of agents send with the same settings.
     *
     * <p>zstd rather than lz4: on sample traffic its batches are 0.28-0.31 of their size where lz4's are 0.46-0.47,
     * and Kafka's Java clients decompress it natively (zstd-jni), where lz4 goes through lz4-java's pure-Java safe
     * decompressor, which took half of ingestion's consumer threads. Level 1 because the default, 3, cost the
     * ingestion benchmark's producer about half again as much CPU and compressed no smaller on that traffic.
     */
    public static Properties producerProperties(Map<String, ?> kafka, String clientId, Duration deliveryTimeout) {
        Properties props = new Properties();
        props.putAll(kafka);
        props.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5);
        props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "zstd");
        props.put(ProducerConfig.COMPRESSION_ZSTD_LEVEL_CONFIG, 1);
        int timeout = (int) deliveryTimeout.toMillis();
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, Math.max(1_000, Math.min(30_000, timeout / 2)));
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, Math.max(timeout, 2_010));
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 5_000);
        props.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 5_000);
        return props;
    }

    public void start() {
        thread.start();
    }

    private KafkaProducer<byte[], byte[]> newProducer() {
        Properties props = producerProperties(kafka.get(), clientId, deliveryTimeout);
        return new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
    }

    /**
     * Makes the producer again with the current client settings when its credentials changed and nothing is in flight
     * (a record the old producer holds is either acknowledged or failed and re-read from the spool first).
     */
    private void renewProducerIfDue() {
        Object current = credentials.get();
        if (!Objects.equals(current, credentialsInUse)) {
            renewalNeeded.set(true);
        }
        if (!renewalNeeded.get() || inFlight.get() != 0) {
            return;
        }
        KafkaProducer<byte[], byte[]> old = producer;
        producer = newProducer();
        credentialsInUse = current;
        renewalNeeded.set(false);
        old.close(Duration.ofSeconds(5));
        LOG.log(System.Logger.Level.INFO, "the Kafka client certificate changed: publishing with the new one");
    }

    public long publishedCount() {
        return published.get();
    }

    /** Sends that failed and will be retried from the spool. */
    public long failureCount() {
        return failures.get();
    }

    /** Records Kafka refused for good (e.g. too large for the broker); logged with their event id, acknowledged. */
    public long rejectedCount() {
        return rejected.get();
    }

    /** False from a failed send until the next success. */
    public boolean connected() {
        return connected;
    }

    /** Stops after a bounded flush of what is in flight; anything unacknowledged stays spooled for next time. */
    @Override
    public void close() {
        running.set(false);
        spool.wake();
        try {
            // A send blocks at most max.block.ms (5 s): wait for the thread so nothing reads a closed spool.
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        producer.close(Duration.ofSeconds(5));
    }

    /**
     * Sends what the spool holds, then sleeps until an append, an acknowledgement that frees room in a full window,
     * a rewind or close wakes it, or the cursor is due to be written: an idle agent wakes only for that.
     */
    private void run() {
        long lastPersist = System.nanoTime();
        while (running.get()) {
            try {
                long seen = spool.changeCount();
                if (System.nanoTime() - lastPersist >= CURSOR_PERSIST_NANOS) {
                    spool.persistCursors();
                    lastPersist = System.nanoTime();
                }
                // A stat of one file at most, once per batch or wake-up.
                renewProducerIfDue();
                if (rewindNeeded.get() && inFlight.get() == 0) {
                    rewindNeeded.set(false);
                    spool.rewind();
                }
                int room = WINDOW - inFlight.get();
                List<SpooledRecord> batch =
                        rewindNeeded.get() || renewalNeeded.get() || room <= 0 ? List.of() : spool.next(room);
                if (batch.isEmpty()) {
                    long untilPersist = CURSOR_PERSIST_NANOS - (System.nanoTime() - lastPersist);
                    spool.awaitChange(seen, Math.max(untilPersist, 1), TimeUnit.NANOSECONDS);
                    continue;
                }
                for (SpooledRecord record : batch) {
                    send(record);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "spool publisher: " + e);
                rewindNeeded.set(true);
                pause();
            }
        }
    }

    private void send(SpooledRecord spooled) {
        var record = spooled.record();
        ProducerRecord<byte[], byte[]> out =
                new ProducerRecord<>(record.topic(), record.key().getBytes(StandardCharsets.UTF_8), record.value());
        for (Map.Entry<String, byte[]> header : record.headers().entrySet()) {
            out.headers().add(header.getKey(), header.getValue());
        }
        RecordSeals.HostKey key = seals.get();
        if (key != null) {
            // Sealed when sent, not when spooled: records spooled before the host enrolled are sealed too.
            RecordSeals.seal(key, record.value(), out.headers());
        }
        inFlight.incrementAndGet();
        try {
            producer.send(out, (metadata, error) -> onSent(spooled, error));
        } catch (RuntimeException e) {
            // send() itself can time out waiting for metadata while the cluster is away.
            onSent(spooled, e);
        }
    }

    private void onSent(SpooledRecord spooled, Exception error) {
        try {
            if (!running.get() && error != null) {
                // Closing: the producer aborts what it still holds. Those records stay unacknowledged in the
                // spool and are sent again after the next start.
                return;
            }
            if (error == null) {
                spool.ack(spooled);
                published.incrementAndGet();
                if (!connected) {
                    connected = true;
                    LOG.log(System.Logger.Level.INFO, "publishing again; spool holds " + spool.bytes() + " bytes");
                }
            } else if (!isPermanent(error)) {
                failures.incrementAndGet();
                if (connected) {
                    connected = false;
                    LOG.log(
                            System.Logger.Level.WARNING,
                            "cannot publish (" + error.getMessage() + "): events stay in the spool and are resent");
                }
                rewindNeeded.set(true);
            } else {
                rejected.incrementAndGet();
                LOG.log(
                        System.Logger.Level.ERROR,
                        "Kafka refused event " + spooled.record().eventId() + " on "
                                + spooled.record().topic() + " for good: " + error.getMessage());
                spool.ack(spooled);
            }
        } finally {
            int left = inFlight.decrementAndGet();
            // The publisher sleeps while the window is full or a rewind waits for the last send to settle.
            if (left == WINDOW - 1 || (left == 0 && (rewindNeeded.get() || renewalNeeded.get()))) {
                spool.wake();
            }
        }
    }

    /**
     * Errors no resend can cure: the record itself is unacceptable to Kafka. Everything else (unreachable cluster,
     * timeouts, authentication or authorization being fixed, a closing producer) is retried from the spool.
     */
    private static boolean isPermanent(Exception error) {
        return error instanceof RecordTooLargeException
                || error instanceof InvalidRecordException
                || error instanceof SerializationException;
    }

    private static void pause() {
        try {
            TimeUnit.MILLISECONDS.sleep(500);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
