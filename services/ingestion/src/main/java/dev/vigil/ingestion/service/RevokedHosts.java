package dev.vigil.ingestion.service;

import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.EventDecodingException;
import dev.vigil.schemas.HostRevocations;
import dev.vigil.schemas.TopicCatalog;
import dev.vigil.schemas.dispatch.HostRevocation;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.common.annotation.Identifier;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.jboss.logging.Logger;

/**
 * The hosts the vendor revoked, held in memory from dispatch's compacted {@code vigil.dispatch.host-revocations.v1}:
 * every replica reads the whole topic from its start (no consumer group, so each holds the whole list) and then
 * follows it. {@link #revoked} answers from memory, so the check costs one map lookup per record; until the list is
 * loaded it waits (once, at most 30 s), so a restarted ingestion does not let a revoked host's records through in its
 * first seconds, nor stall for good when the topic cannot be read.
 */
@ApplicationScoped
public class RevokedHosts {

    private static final Logger LOG = Logger.getLogger(RevokedHosts.class);
    private static final Duration POLL = Duration.ofMillis(500);
    private static final Duration LOAD_WAIT = Duration.ofSeconds(30);

    /** A revocation: who revoked the host, when and why. */
    public record Revoked(String tenant, String hostId, java.time.Instant at, String by, String reason) {}

    private final Map<String, Object> kafka;
    private final Map<String, Revoked> revoked = new ConcurrentHashMap<>();
    private final CountDownLatch loaded = new CountDownLatch(1);
    private final AtomicBoolean running = new AtomicBoolean(true);
    /** Set once a check waited the whole {@link #LOAD_WAIT}: later checks do not wait again. */
    private final AtomicBoolean gaveUpWaiting = new AtomicBoolean();

    private volatile KafkaConsumer<byte[], byte[]> consumer;
    private Thread thread;

    RevokedHosts(@Identifier("default-kafka-broker") Map<String, Object> kafka, MeterRegistry metrics) {
        this.kafka = kafka;
        metrics.gaugeMapSize("vigil.ingestion.revoked.hosts", List.of(), revoked);
    }

    /** A list that is loaded and holds these revocations: for tests of what uses it. */
    static RevokedHosts of(Revoked... revocations) {
        RevokedHosts hosts = new RevokedHosts(Map.of(), new io.micrometer.core.instrument.simple.SimpleMeterRegistry());
        for (Revoked r : revocations) {
            hosts.revoked.put(HostRevocations.key(r.tenant(), r.hostId()), r);
        }
        hosts.loaded.countDown();
        return hosts;
    }

    void onStart(@Observes StartupEvent event) {
        thread = new Thread(this::follow, "vigil-ingestion-revocations");
        thread.setDaemon(true);
        thread.start();
    }

    void onStop(@Observes ShutdownEvent event) throws InterruptedException {
        running.set(false);
        KafkaConsumer<byte[], byte[]> current = consumer;
        if (current != null) {
            current.wakeup();
        }
        if (thread != null) {
            thread.join(5_000);
        }
    }

    /** The host's revocation, or null when it is not revoked. */
    public Revoked revoked(String tenant, String hostId) {
        if (loaded.getCount() > 0 && !gaveUpWaiting.get()) {
            try {
                if (!loaded.await(LOAD_WAIT.toMillis(), TimeUnit.MILLISECONDS)
                        && gaveUpWaiting.compareAndSet(false, true)) {
                    LOG.warnf(
                            "the revocation list (%s) is not loaded after %s: checking against what is known so far",
                            TopicCatalog.DISPATCH_HOST_REVOCATIONS.name(), LOAD_WAIT);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return revoked.get(HostRevocations.key(tenant, hostId));
    }

    /** Whether the whole topic was read once since start. */
    public boolean loaded() {
        return loaded.getCount() == 0;
    }

    private void follow() {
        while (running.get()) {
            try (KafkaConsumer<byte[], byte[]> c = open()) {
                consumer = c;
                List<TopicPartition> partitions = partitions(c);
                c.assign(partitions);
                c.seekToBeginning(partitions);
                Map<TopicPartition, Long> end = c.endOffsets(partitions);
                while (running.get()) {
                    for (ConsumerRecord<byte[], byte[]> record : c.poll(POLL)) {
                        apply(record);
                    }
                    if (loaded.getCount() > 0
                            && end.entrySet().stream().allMatch(e -> c.position(e.getKey()) >= e.getValue())) {
                        LOG.infof("revocation list loaded: %d revoked hosts", revoked.size());
                        loaded.countDown();
                    }
                }
            } catch (WakeupException e) {
                return;
            } catch (RuntimeException e) {
                LOG.warnf("reading %s failed (%s); reading it again", TopicCatalog.DISPATCH_HOST_REVOCATIONS.name(), e);
                try {
                    Thread.sleep(2_000);
                } catch (InterruptedException stop) {
                    return;
                }
            }
        }
    }

    private void apply(ConsumerRecord<byte[], byte[]> record) {
        String key = record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8);
        if (record.value() == null) {
            // A tombstone: dispatch reinstated the host.
            if (key != null) {
                revoked.remove(key);
            }
            return;
        }
        try {
            HostRevocation r = EventCodec.of(HostRevocation.class).decode(record.value());
            revoked.put(
                    HostRevocations.key(r.getTenant(), r.getHostId()),
                    new Revoked(r.getTenant(), r.getHostId(), r.getRevokedAt(), r.getRevokedBy(), r.getReason()));
        } catch (EventDecodingException e) {
            LOG.warnf(
                    "a record at %s-%d@%d is not a host revocation: %s",
                    record.topic(), record.partition(), record.offset(), e.getMessage());
        }
    }

    private KafkaConsumer<byte[], byte[]> open() {
        Map<String, Object> props = KafkaClientSettings.of(kafka);
        props.put(CommonClientConfigs.CLIENT_ID_CONFIG, "vigil-ingestion-revocations-" + UUID.randomUUID());
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        return new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    private static List<TopicPartition> partitions(KafkaConsumer<byte[], byte[]> c) {
        String topic = TopicCatalog.DISPATCH_HOST_REVOCATIONS.name();
        List<TopicPartition> partitions = new ArrayList<>();
        List<PartitionInfo> infos = c.partitionsFor(topic);
        if (infos == null || infos.isEmpty()) {
            throw new IllegalStateException(topic + " does not exist yet");
        }
        infos.forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
        return partitions;
    }
}
