package dev.vigil.devstack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vigil.schemas.TopicCatalog;
import io.minio.GetObjectArgs;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(DevstackExtension.class)
class DevstackIT {

    @Test
    void createsEveryCatalogTopicWithItsRetention(Endpoints endpoints) throws Exception {
        try (Admin admin = Admin.create(endpoints.kafkaClient())) {
            var topic = TopicCatalog.AGENT_EVENTS;
            var description = admin.describeTopics(List.of(topic.name()))
                    .allTopicNames()
                    .get()
                    .get(topic.name());
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic.name());
            Config config = admin.describeConfigs(List.of(resource)).all().get().get(resource);

            assertThat(admin.listTopics().names().get())
                    .containsAll(TopicCatalog.all().stream().map(t -> t.name()).toList());
            assertThat(description.partitions()).hasSize(topic.partitions());
            assertThat(config.get("retention.ms").value())
                    .isEqualTo(String.valueOf(topic.retention().toMillis()));
        }
    }

    @Test
    void brokerStoresAndServesRecords(Endpoints endpoints) {
        produce(endpoints, "vm-devstack-it", "hello broker");

        assertThat(consumeValue(endpoints, "vm-devstack-it")).isEqualTo("hello broker");
    }

    @Test
    void postgresHoldsTheVigilDatabase(Endpoints endpoints) throws Exception {
        try (Connection c = DriverManager.getConnection(endpoints.jdbcUrl(), endpoints.jdbcUser(), "");
                Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS devstack_it (id int primary key, note text)");
            s.execute("INSERT INTO devstack_it VALUES (1, 'kept') ON CONFLICT DO NOTHING");
            try (ResultSet rs = s.executeQuery("SELECT current_database(), note FROM devstack_it WHERE id = 1")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("vigil");
                assertThat(rs.getString(2)).isEqualTo("kept");
            }
        }
    }

    @Test
    void objectStoreKeepsBytesInVigilBuckets(Endpoints endpoints) throws Exception {
        MinioClient client = minio(endpoints);
        byte[] body = "dump bytes".getBytes(StandardCharsets.UTF_8);
        client.putObject(
                PutObjectArgs.builder().bucket(DevstackConfig.ARTIFACTS_BUCKET).object("it/devstack.bin").stream(
                                new ByteArrayInputStream(body), (long) body.length, -1L)
                        .build());
        try (InputStream in = client.getObject(GetObjectArgs.builder()
                .bucket(DevstackConfig.ARTIFACTS_BUCKET)
                .object("it/devstack.bin")
                .build())) {
            assertThat(in.readAllBytes()).isEqualTo(body);
        }
    }

    @Test
    void refusesATakenPortNamingTheComponentAndTheFix() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            DevstackConfig fresh = DevstackConfig.forTests();
            DevstackConfig clash = new DevstackConfig(
                    fresh.workDir(),
                    fresh.kafkaPort(),
                    fresh.controllerPort(),
                    taken.getLocalPort(),
                    fresh.s3Port(),
                    false,
                    false,
                    fresh.buckets());
            try {
                assertThatThrownBy(() -> Devstack.start(clash))
                        .isInstanceOf(DevstackException.class)
                        .hasMessageContaining("port " + taken.getLocalPort() + " for PostgreSQL is already in use")
                        .hasMessageContaining("VIGIL_DEVSTACK_POSTGRES_PORT");
            } finally {
                Devstack.deleteTree(fresh.workDir());
            }
            assertThat(Files.exists(fresh.workDir())).isFalse();
        }
    }

    @Test
    void keepsDataAcrossARestartWhenAskedTo() throws Exception {
        DevstackConfig fresh = DevstackConfig.forTests();
        DevstackConfig kept = fresh.keepingData();
        byte[] body = "kept blob".getBytes(StandardCharsets.UTF_8);
        try {
            try (Devstack first = Devstack.start(kept)) {
                Endpoints e = first.endpoints();
                produce(e, "restart-key", "kept record");
                try (Connection c = DriverManager.getConnection(e.jdbcUrl(), e.jdbcUser(), "");
                        Statement s = c.createStatement()) {
                    s.execute("CREATE TABLE kept (note text)");
                    s.execute("INSERT INTO kept VALUES ('kept row')");
                }
                minio(e).putObject(
                                PutObjectArgs.builder()
                                        .bucket(DevstackConfig.ARTIFACTS_BUCKET)
                                        .object("kept.bin")
                                        .stream(new ByteArrayInputStream(body), (long) body.length, -1L)
                                        .build());
            }
            try (Devstack second = Devstack.start(kept)) {
                Endpoints e = second.endpoints();
                assertThat(consumeValue(e, "restart-key")).isEqualTo("kept record");
                try (Connection c = DriverManager.getConnection(e.jdbcUrl(), e.jdbcUser(), "");
                        Statement s = c.createStatement();
                        ResultSet rs = s.executeQuery("SELECT note FROM kept")) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getString(1)).isEqualTo("kept row");
                }
                try (InputStream in = minio(e).getObject(GetObjectArgs.builder()
                        .bucket(DevstackConfig.ARTIFACTS_BUCKET)
                        .object("kept.bin")
                        .build())) {
                    assertThat(in.readAllBytes()).isEqualTo(body);
                }
            }
        } finally {
            Devstack.deleteTree(fresh.workDir());
        }
    }

    @Test
    void reportsEachComponentsStartupTime(Devstack stack) {
        assertThat(stack.startupTimes()).containsOnlyKeys("postgresql", "s3", "kafka");
        System.out.println("devstack start-up: " + stack.startupTimes());
    }

    private static MinioClient minio(Endpoints endpoints) {
        return MinioClient.builder()
                .endpoint(endpoints.s3Endpoint())
                .credentials(endpoints.s3AccessKey(), endpoints.s3SecretKey())
                .build();
    }

    private static void produce(Endpoints endpoints, String key, String value) {
        Properties props = new Properties();
        props.putAll(endpoints.kafkaClient());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        try (var producer = new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>(TopicCatalog.AGENT_FEEDBACK.name(), key, value));
            producer.flush();
        }
    }

    /** The value of the first record with this key on the feedback topic, or null within 30 s. */
    private static String consumeValue(Endpoints endpoints, String key) {
        Properties props = new Properties();
        props.putAll(endpoints.kafkaClient());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "devstack-it-" + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        try (var consumer = new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of(TopicCatalog.AGENT_FEEDBACK.name()));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < deadline) {
                ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(200));
                for (var r : records) {
                    if (key.equals(r.key())) {
                        return r.value();
                    }
                }
            }
            return null;
        }
    }
}
