package dev.vigil.ingestion.service;

import dev.vigil.ingestion.persistence.ReplayRepository;
import dev.vigil.ingestion.persistence.ReplayRepository.Replay;
import dev.vigil.schemas.DeadLetterHeaders;
import dev.vigil.schemas.TopicCatalog;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.common.annotation.Identifier;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.persistence.PersistenceException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.jboss.logging.Logger;

/**
 * Re-drives dead-lettered records after a fix (a new schema released, a tenant added, a limit raised), as a
 * background job. A replay reads the dead-letter topic up to its end when it starts and sends each matching record
 * back to the topic it came from with its original key, value and headers; ingestion validates it again: fixed
 * records are kept (once, by event id), the rest return to the dead-letter topic with their new reason, as a new
 * record.
 *
 * <p>It converges: a dead-letter record is sent back at most once, ever (the records sent are remembered by position
 * in {@code dead_letter_replayed}), so a second replay sends only what was refused since, never the original and its
 * copy again; only acknowledged sends count as replayed and are remembered, so a send that failed is tried by the
 * next replay. One replay runs at a time. Its Kafka clients take the service's own Kafka settings ({@code kafka.*}:
 * TLS, SASL and all), never the bootstrap address alone.
 */
@ApplicationScoped
public class DeadLetterReplayService {

    static final String REPLAYED_FROM = "vigil_replayed_from";
    /** A running replay that has not reported for this long is taken for dead. */
    static final Duration STALE = Duration.ofMinutes(2);

    private static final Logger LOG = Logger.getLogger(DeadLetterReplayService.class);
    private static final Duration POLL = Duration.ofMillis(500);

    private final Map<String, Object> kafka;
    private final ReplayRepository replays;
    private final Clock clock = Clock.systemUTC();
    private final ExecutorService runner = Executors.newSingleThreadExecutor(r -> {
        Thread thread = new Thread(r, "vigil-dead-letter-replay");
        thread.setDaemon(true);
        return thread;
    });
    private final AtomicBoolean stopping = new AtomicBoolean();

    DeadLetterReplayService(@Identifier("default-kafka-broker") Map<String, Object> kafka, ReplayRepository replays) {
        this.kafka = kafka;
        this.replays = replays;
    }

    /** A replay is already running. */
    public static final class AlreadyRunning extends RuntimeException {
        private final UUID running;

        AlreadyRunning(UUID running) {
            super("replay " + running + " is running");
            this.running = running;
        }

        public UUID running() {
            return running;
        }
    }

    void onStart(@Observes StartupEvent start) {
        int stale = QuarkusTransaction.requiringNew().call(() -> replays.interruptStale(clock.instant(), STALE));
        if (stale > 0) {
            LOG.warnf("%d dead-letter replay(s) stopped with their runner: marked interrupted", stale);
        }
    }

    void onStop(@Observes ShutdownEvent stop) {
        stopping.set(true);
        runner.shutdown();
        try {
            if (!runner.awaitTermination(10, TimeUnit.SECONDS)) {
                runner.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Starts a replay in the background.
     *
     * @param reason only records refused for this {@code DeadLetterReason} (null = any)
     * @param sourceTopic only records that came from this topic (null = any)
     * @param limit at most this many records are sent back
     * @param requestedBy who asked, for the record
     * @throws AlreadyRunning when another replay runs
     */
    public Replay start(String reason, String sourceTopic, int limit, String requestedBy) {
        UUID id = UUID.randomUUID();
        try {
            QuarkusTransaction.requiringNew().run(() -> {
                replays.interruptStale(clock.instant(), STALE);
                Replay running = replays.running();
                if (running != null) {
                    throw new AlreadyRunning(running.id());
                }
                replays.insert(id, requestedBy, reason, sourceTopic, limit, clock.instant());
            });
        } catch (PersistenceException e) {
            // Another replica inserted its replay between our check and our insert.
            Replay running = QuarkusTransaction.requiringNew().call(replays::running);
            throw new AlreadyRunning(running == null ? id : running.id());
        }
        runner.submit(() -> run(id, reason, sourceTopic, limit));
        LOG.infof(
                "dead-letter replay %s started by %s (reason %s, source topic %s, at most %d)",
                id, requestedBy, reason, sourceTopic, limit);
        return find(id);
    }

    /** A replay by id, or null; reading writes nothing (a stale one reads as interrupted). */
    public Replay find(UUID id) {
        Replay replay = QuarkusTransaction.requiringNew().call(() -> replays.find(id));
        return ReplayRepository.asOf(replay, clock.instant(), STALE);
    }

    /** The latest replays, newest first. */
    public List<Replay> latest(int limit) {
        Instant now = clock.instant();
        return QuarkusTransaction.requiringNew().call(() -> replays.latest(limit)).stream()
                .map(replay -> ReplayRepository.asOf(replay, now, STALE))
                .toList();
    }

    /** What a replay has done so far. */
    private static final class Progress {
        long scanned;
        long alreadyReplayed;
        long replayed;
        long failed;
        final Map<String, Long> byReason = new TreeMap<>();
    }

    private void run(UUID id, String reason, String sourceTopic, int limit) {
        Progress progress = new Progress();
        String topic = TopicCatalog.INGESTION_DEAD_LETTER.name();
        try (KafkaConsumer<byte[], byte[]> consumer = consumer();
                KafkaProducer<byte[], byte[]> producer = producer()) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(p -> new TopicPartition(topic, p.partition()))
                    .toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(30));
            while (progress.replayed < limit && !reachedEnd(consumer, end) && !stopping.get()) {
                ConsumerRecords<byte[], byte[]> polled = consumer.poll(POLL);
                sendBatch(id, polled, end, reason, sourceTopic, limit, producer, progress);
                save(id, "RUNNING", progress, null);
            }
            if (stopping.get()) {
                save(id, "INTERRUPTED", progress, "the service stopped during the replay; run another one");
                return;
            }
            save(id, "DONE", progress, null);
            LOG.infof(
                    "dead-letter replay %s done: %d scanned, %d sent back, %d sent earlier, %d failed",
                    id, progress.scanned, progress.replayed, progress.alreadyReplayed, progress.failed);
        } catch (RuntimeException e) {
            LOG.errorf(e, "dead-letter replay %s failed", id);
            save(id, "FAILED", progress, String.valueOf(e.getMessage()));
        }
    }

    private void sendBatch(
            UUID id,
            ConsumerRecords<byte[], byte[]> polled,
            Map<TopicPartition, Long> end,
            String reason,
            String sourceTopic,
            int limit,
            KafkaProducer<byte[], byte[]> producer,
            Progress progress) {
        for (TopicPartition partition : polled.partitions()) {
            List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
            for (ConsumerRecord<byte[], byte[]> record : polled.records(partition)) {
                if (record.offset() < end.get(partition)) {
                    records.add(record);
                }
            }
            progress.scanned += records.size();
            Set<Long> sentEarlier = QuarkusTransaction.requiringNew()
                    .call(() -> replays.replayedAmong(
                            partition.partition(),
                            records.stream().map(ConsumerRecord::offset).toList()));
            Map<Long, String> reasons = new HashMap<>();
            List<java.util.concurrent.Future<?>> sends = new ArrayList<>();
            List<Long> offsets = new ArrayList<>();
            for (ConsumerRecord<byte[], byte[]> record : records) {
                String recordReason = header(record, DeadLetterHeaders.REASON);
                String from = header(record, DeadLetterHeaders.SOURCE_TOPIC);
                if (from == null
                        || (reason != null && !reason.equals(recordReason))
                        || (sourceTopic != null && !sourceTopic.equals(from))) {
                    continue;
                }
                if (sentEarlier.contains(record.offset())) {
                    progress.alreadyReplayed++;
                    continue;
                }
                if (progress.replayed + sends.size() >= limit) {
                    break;
                }
                sends.add(producer.send(copy(record, from, partition)));
                offsets.add(record.offset());
                reasons.put(record.offset(), recordReason);
            }
            producer.flush();
            List<Integer> ackedPartitions = new ArrayList<>();
            List<Long> acked = new ArrayList<>();
            for (int i = 0; i < sends.size(); i++) {
                try {
                    sends.get(i).get();
                    ackedPartitions.add(partition.partition());
                    acked.add(offsets.get(i));
                    progress.byReason.merge(String.valueOf(reasons.get(offsets.get(i))), 1L, Long::sum);
                } catch (java.util.concurrent.ExecutionException e) {
                    progress.failed++;
                    LOG.warnf(
                            "dead-letter replay %s: sending %s/%d back failed: %s",
                            id, partition, offsets.get(i), e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while sending records back", e);
                }
            }
            progress.replayed += acked.size();
            QuarkusTransaction.requiringNew().run(() -> replays.markReplayed(id, ackedPartitions, acked));
        }
    }

    private static ProducerRecord<byte[], byte[]> copy(
            ConsumerRecord<byte[], byte[]> record, String to, TopicPartition from) {
        ProducerRecord<byte[], byte[]> out = new ProducerRecord<>(to, record.key(), record.value());
        for (Header h : record.headers()) {
            if (!h.key().startsWith("vigil_dlq_") && !h.key().equals(REPLAYED_FROM)) {
                out.headers().add(h);
            }
        }
        out.headers()
                .add(
                        REPLAYED_FROM,
                        (from.topic() + "/" + from.partition() + "/" + record.offset())
                                .getBytes(StandardCharsets.UTF_8));
        return out;
    }

    private void save(UUID id, String state, Progress progress, String error) {
        QuarkusTransaction.requiringNew()
                .run(() -> replays.progress(
                        id,
                        state,
                        progress.scanned,
                        progress.alreadyReplayed,
                        progress.replayed,
                        progress.failed,
                        progress.byReason,
                        error,
                        clock.instant()));
    }

    private static boolean reachedEnd(KafkaConsumer<byte[], byte[]> consumer, Map<TopicPartition, Long> end) {
        return end.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue());
    }

    private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    /** The service's Kafka settings ({@code kafka.*}: bootstrap, TLS, SASL), for a client of our own. */
    Map<String, Object> clientSettings() {
        return KafkaClientSettings.of(kafka);
    }

    private KafkaConsumer<byte[], byte[]> consumer() {
        Map<String, Object> props = clientSettings();
        props.put(CommonClientConfigs.CLIENT_ID_CONFIG, "vigil-ingestion-replay-" + UUID.randomUUID());
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        return new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    private KafkaProducer<byte[], byte[]> producer() {
        Map<String, Object> props = clientSettings();
        props.put(CommonClientConfigs.CLIENT_ID_CONFIG, "vigil-ingestion-replay-" + UUID.randomUUID());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        return new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
    }
}
