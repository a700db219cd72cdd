package dev.vigil.ingestion;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.vigil.devstack.Devstack;
import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.devstack.Endpoints;
import dev.vigil.ingestion.persistence.SampleRepository;
import dev.vigil.schemas.CloudEventHeaders;
import dev.vigil.schemas.DeadLetterHeaders;
import dev.vigil.schemas.Envelopes;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.TopicCatalog;
import dev.vigil.schemas.agent.AgentSamples;
import dev.vigil.schemas.agent.BlockSample;
import dev.vigil.schemas.agent.VmSample;
import dev.vigil.schemas.common.Source;
import dev.vigil.schemas.common.VmRef;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

/**
 * Samples in bulk: each new sample record indexed once, one row per host per minute (the earliest sample record of
 * it) read per VM through {@code vm_sample}, a duplicate skipped, garbage dead-lettered (every record of it, once).
 */
@QuarkusTest
@QuarkusTestResource(DevstackTestResource.class)
class SampleIngestionIT {

    private static final int RECORDS = 100;
    private static final int VMS = 10;
    /** More than the dead-letter publisher keeps in flight at once, so a batch's refusals take several rounds. */
    private static final int GARBAGE = 450;

    private final Endpoints endpoints = Devstack.shared().endpoints();
    private final String hostId = "samples-" + UUID.randomUUID();

    @Inject
    SampleRepository repository;

    @Test
    void keepsEachVmsFirstSampleOfEveryMinuteOnceAndDeadLettersGarbage() throws Exception {
        // Refusals are sent inside the batch's transaction; had the transaction travelled with the sends, the
        // transaction manager would see the producer's thread in it at commit (ARJUNA012094), and such a commit can
        // fail and stop the channel.
        List<String> transactionWarnings = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.logging.Logger arjuna = java.util.logging.Logger.getLogger("com.arjuna");
        java.util.logging.Handler watch = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord record) {
                if (record.getLevel().intValue() >= java.util.logging.Level.WARNING.intValue()) {
                    transactionWarnings.add(String.valueOf(record.getMessage()));
                }
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        arjuna.addHandler(watch);
        try {
            keepsFirstSamplesAndDeadLettersGarbage();
        } finally {
            arjuna.removeHandler(watch);
        }
        assertThat(transactionWarnings).isEmpty();
    }

    private void keepsFirstSamplesAndDeadLettersGarbage() throws Exception {
        List<String> vms = new ArrayList<>();
        for (int v = 0; v < VMS; v++) {
            vms.add(UUID.randomUUID().toString());
        }
        Instant start = Instant.now().minusSeconds(RECORDS).truncatedTo(ChronoUnit.MILLIS);
        // The default resolution keeps one row per VM per minute: the earliest sample of each minute.
        java.util.TreeMap<Instant, Instant> firstOfMinute = new java.util.TreeMap<>();
        for (int i = 0; i < RECORDS; i++) {
            Instant at = start.plusSeconds(i);
            firstOfMinute.merge(at.truncatedTo(ChronoUnit.MINUTES), at, (a, b) -> a.isBefore(b) ? a : b);
        }
        byte[] key = hostId.getBytes(StandardCharsets.UTF_8);
        try (KafkaProducer<byte[], byte[]> producer = producer()) {
            byte[] first = null;
            for (int i = 0; i < RECORDS; i++) {
                byte[] value = EventCodec.of(AgentSamples.class).encode(samples(vms, start.plusSeconds(i)));
                first = first == null ? value : first;
                producer.send(new ProducerRecord<>(TopicCatalog.AGENT_SAMPLES.name(), key, value));
            }
            producer.send(new ProducerRecord<>(TopicCatalog.AGENT_SAMPLES.name(), key, first));
            for (int i = 0; i < GARBAGE; i++) {
                producer.send(new ProducerRecord<>(
                        TopicCatalog.AGENT_SAMPLES.name(),
                        key,
                        ("{\"not\":\"avro\",\"n\":" + i + "}").getBytes(StandardCharsets.UTF_8)));
            }
            producer.flush();
        }

        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            assertThat(count("SELECT count(*) FROM ingestion.sample_batch WHERE host_id = ?"))
                    .isEqualTo(RECORDS);
            assertThat(count("SELECT count(*) FROM ingestion.vm_sample WHERE host_id = ?"))
                    .isEqualTo((long) firstOfMinute.size() * VMS);
        });
        assertThat(count("SELECT count(*) FROM ingestion.vm_sample WHERE host_id = ? AND state = 'RUNNING'"
                        + " AND read_bytes = 3000 AND write_bytes = 0 AND rx_bytes = 0"
                        + " AND cpu_time_ns = (extract(epoch FROM sampled_at) * 1000)::bigint * 1000000"
                        + " AND balloon_kib IS NULL"))
                .isEqualTo((long) firstOfMinute.size() * VMS);
        assertThat(sampleTimes(vms.get(0))).containsExactlyElementsOf(firstOfMinute.values());
        // Stored compactly: one row per minute for the host, its VMs in the record's order.
        assertThat(hostRows())
                .containsExactlyElementsOf(firstOfMinute.values().stream()
                        .map(at -> at + " " + vms)
                        .toList());
        // Every refusal is on the dead-letter topic, once. Several sample batches are written at a time, so batches'
        // refusals may interleave; each names its source offset.
        try (TopicTail dlq = new TopicTail(endpoints, TopicCatalog.INGESTION_DEAD_LETTER)) {
            await().atMost(Duration.ofSeconds(30))
                    .untilAsserted(() -> assertThat(dlq.poll().stream().filter(r -> Arrays.equals(r.key(), key)))
                            .hasSize(GARBAGE));
            List<org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]>> refused =
                    dlq.poll().stream().filter(r -> Arrays.equals(r.key(), key)).toList();
            assertThat(refused)
                    .extracting(r -> CloudEventHeaders.read(r.headers(), DeadLetterHeaders.REASON))
                    .containsOnly("MALFORMED");
            assertThat(refused)
                    .extracting(r -> new String(r.value(), StandardCharsets.UTF_8))
                    .containsExactlyInAnyOrderElementsOf(java.util.stream.IntStream.range(0, GARBAGE)
                            .mapToObj(i -> "{\"not\":\"avro\",\"n\":" + i + "}")
                            .toList());
            assertThat(refused)
                    .extracting(r -> CloudEventHeaders.read(r.headers(), DeadLetterHeaders.SOURCE_OFFSET))
                    .doesNotHaveDuplicates();
        }
    }

    @Test
    void refusesASampleWhoseVmIdIsNotAUuidAndKeepsTheRest() throws Exception {
        String vm = UUID.randomUUID().toString();
        // Mid-minute, so the three samples share a bucket.
        Instant at = Instant.now().truncatedTo(ChronoUnit.MINUTES).minusSeconds(30);
        byte[] key = hostId.getBytes(StandardCharsets.UTF_8);
        byte[] hostile = EventCodec.of(AgentSamples.class).encode(samples(List.of("vm-7"), at.plusMillis(1)));
        try (KafkaProducer<byte[], byte[]> producer = producer()) {
            // The same VM twice: once as the agent writes it, once in upper case; one row, under the lower-case id.
            producer.send(new ProducerRecord<>(
                    TopicCatalog.AGENT_SAMPLES.name(),
                    key,
                    EventCodec.of(AgentSamples.class).encode(samples(List.of(vm), at))));
            producer.send(new ProducerRecord<>(TopicCatalog.AGENT_SAMPLES.name(), key, hostile));
            producer.send(new ProducerRecord<>(
                    TopicCatalog.AGENT_SAMPLES.name(),
                    key,
                    EventCodec.of(AgentSamples.class)
                            .encode(samples(List.of(vm.toUpperCase(java.util.Locale.ROOT)), at.plusMillis(2)))));
            producer.flush();
        }

        try (TopicTail dlq = new TopicTail(endpoints, TopicCatalog.INGESTION_DEAD_LETTER)) {
            await().atMost(Duration.ofSeconds(60))
                    .untilAsserted(() -> assertThat(dlq.poll().stream().filter(r -> Arrays.equals(r.key(), key)))
                            .singleElement()
                            .satisfies(r -> {
                                assertThat(r.value()).isEqualTo(hostile);
                                assertThat(CloudEventHeaders.read(r.headers(), DeadLetterHeaders.REASON))
                                        .isEqualTo("MALFORMED");
                                assertThat(CloudEventHeaders.read(r.headers(), DeadLetterHeaders.DETAIL))
                                        .isEqualTo("vms[0].vm.uuid is not a UUID: \"vm-7\"");
                            }));
        }
        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> assertThat(count("SELECT count(*) FROM ingestion.sample_batch WHERE host_id = ?"))
                        .isEqualTo(2));
        assertThat(sampleTimes(vm)).containsExactly(at);
        assertThat(count("SELECT count(*) FROM ingestion.vm_sample WHERE host_id = ?"))
                .isEqualTo(1);
    }

    @Test
    void retentionDeletesHostRowsPastTheCutoffAndCountsTheirVms() throws Exception {
        Instant now = Instant.now().truncatedTo(ChronoUnit.MINUTES);
        Instant nineDays = now.minus(Duration.ofDays(9));
        Instant eightDays = now.minus(Duration.ofDays(8));
        Instant anHour = now.minus(Duration.ofHours(1));
        List<String> kept = List.of(UUID.randomUUID().toString());
        storeHostRow(
                nineDays,
                List.of(
                        UUID.randomUUID().toString(),
                        UUID.randomUUID().toString(),
                        UUID.randomUUID().toString()));
        storeHostRow(
                eightDays,
                List.of(UUID.randomUUID().toString(), UUID.randomUUID().toString()));
        storeHostRow(anHour, kept);

        long deleted =
                QuarkusTransaction.requiringNew().call(() -> repository.deleteOlderThan(now.minus(Duration.ofDays(7))));

        // Other tests' rows are recent; at least this host's five VM samples went, and its recent row stayed.
        assertThat(deleted).isGreaterThanOrEqualTo(5);
        assertThat(hostRows()).containsExactly(anHour + " " + kept);
    }

    private void storeHostRow(Instant at, List<String> vms) throws Exception {
        String longs = "{" + String.join(",", Collections.nCopies(vms.size(), "1")) + "}";
        try (Connection c = DriverManager.getConnection(endpoints.jdbcUrl(), endpoints.jdbcUser(), "");
                PreparedStatement s = c.prepareStatement("INSERT INTO ingestion.host_sample (host_id, bucket,"
                        + " sampled_at, vm_uuids, states, cpu_time_ns, read_bytes, write_bytes, rx_bytes, tx_bytes,"
                        + " balloon_kib) VALUES (?, ?, ?, ?::uuid[], ?::text[], ?::int8[], ?::int8[], ?::int8[],"
                        + " ?::int8[], ?::int8[], ?::int8[])")) {
            s.setString(1, hostId);
            s.setTimestamp(2, Timestamp.from(at));
            s.setTimestamp(3, Timestamp.from(at));
            s.setString(4, "{" + String.join(",", vms) + "}");
            s.setString(5, "{" + String.join(",", Collections.nCopies(vms.size(), "RUNNING")) + "}");
            for (int i = 6; i <= 11; i++) {
                s.setString(i, longs);
            }
            s.executeUpdate();
        }
    }

    private AgentSamples samples(List<String> vms, Instant at) {
        Source source = Source.newBuilder()
                .setHostId(hostId)
                .setAgentId(hostId + "-agent")
                .setAgentVersion("0.1.0")
                .build();
        List<VmSample> rows = new ArrayList<>();
        for (int v = 0; v < vms.size(); v++) {
            rows.add(VmSample.newBuilder()
                    .setVm(VmRef.newBuilder()
                            .setUuid(vms.get(v))
                            .setName("vm-" + v)
                            .build())
                    .setState("RUNNING")
                    .setCpuTimeNanos(at.toEpochMilli() * 1_000_000L)
                    .setVcpus(List.of())
                    .setBlocks(List.of(block("vda", 1000), block("vdb", 2000)))
                    .setNets(List.of())
                    .setBalloonCurrentKib(null)
                    .setBalloonRssKib(null)
                    .build());
        }
        return AgentSamples.newBuilder()
                .setEnvelope(Envelopes.create(AgentSamples.class, AgentSamples.getClassSchema(), source, "acme", at))
                .setSampledAt(at)
                .setPeriodMillis(1000)
                .setVms(rows)
                .setHost(null)
                .build();
    }

    private static BlockSample block(String device, long readBytes) {
        return BlockSample.newBuilder()
                .setDevice(device)
                .setReadBytes(readBytes)
                .setWriteBytes(0)
                .setReadRequests(1)
                .setWriteRequests(0)
                .setAllocationBytes(null)
                .setCapacityBytes(null)
                .build();
    }

    /** The host's stored rows in bucket order, each as its sample time and its VMs. */
    private List<String> hostRows() throws Exception {
        try (Connection c = DriverManager.getConnection(endpoints.jdbcUrl(), endpoints.jdbcUser(), "");
                PreparedStatement s =
                        c.prepareStatement("SELECT sampled_at, vm_uuids::text[] FROM ingestion.host_sample"
                                + " WHERE host_id = ? ORDER BY bucket")) {
            s.setString(1, hostId);
            List<String> rows = new ArrayList<>();
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    rows.add(r.getTimestamp(1).toInstant() + " "
                            + Arrays.asList((String[]) r.getArray(2).getArray()));
                }
            }
            return rows;
        }
    }

    private List<Instant> sampleTimes(String vm) throws Exception {
        try (Connection c = DriverManager.getConnection(endpoints.jdbcUrl(), endpoints.jdbcUser(), "");
                PreparedStatement s = c.prepareStatement(
                        "SELECT sampled_at FROM ingestion.vm_sample WHERE vm_uuid = ?::uuid ORDER BY sampled_at")) {
            s.setString(1, vm);
            List<Instant> times = new ArrayList<>();
            try (java.sql.ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    times.add(r.getTimestamp(1).toInstant());
                }
            }
            return times;
        }
    }

    private long count(String sql) throws Exception {
        try (Connection c = DriverManager.getConnection(endpoints.jdbcUrl(), endpoints.jdbcUser(), "");
                PreparedStatement s = c.prepareStatement(sql)) {
            s.setString(1, hostId);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private KafkaProducer<byte[], byte[]> producer() {
        return endpoints.agentProducer();
    }
}
