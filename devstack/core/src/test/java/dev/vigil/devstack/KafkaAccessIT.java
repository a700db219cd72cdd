package dev.vigil.devstack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vigil.schemas.KafkaAccess;
import dev.vigil.schemas.TopicCatalog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The broker lets in only certificates of the stack's CA, and each principal does only what {@link KafkaAccess}
 * grants it: an agent cannot read anything (not even its own kind's command results) nor write a service's topic, a
 * service cannot write another's topics.
 */
@ExtendWith(DevstackExtension.class)
class KafkaAccessIT {

    @Test
    void eachPrincipalWritesOnlyTheTopicsItIsGranted(Endpoints endpoints) throws Exception {
        String agent = KafkaAccess.AGENT.principal();
        assertThat(send(endpoints.kafkaClient(agent), TopicCatalog.AGENT_EVENTS.name()))
                .isNotNull();
        assertThatThrownBy(() -> send(endpoints.kafkaClient(agent), TopicCatalog.DISPATCH_ROLLOUTS.name()))
                .hasRootCauseInstanceOf(TopicAuthorizationException.class);
        assertThatThrownBy(() -> send(endpoints.kafkaClient(agent), TopicCatalog.CRASH_REPORTED.name()))
                .hasRootCauseInstanceOf(TopicAuthorizationException.class);

        String triage = KafkaAccess.CRASH_TRIAGE.principal();
        assertThat(send(endpoints.kafkaClient(triage), TopicCatalog.CRASH_TRIAGED.name()))
                .isNotNull();
        assertThatThrownBy(() -> send(endpoints.kafkaClient(triage), TopicCatalog.DISPATCH_ROLLOUTS.name()))
                .hasRootCauseInstanceOf(TopicAuthorizationException.class);

        // A certificate of the stack's CA for a name nobody granted anything gets nothing.
        assertThatThrownBy(() -> send(endpoints.kafkaClient("vigil-stranger"), TopicCatalog.AGENT_EVENTS.name()))
                .hasRootCauseInstanceOf(TopicAuthorizationException.class);
    }

    @Test
    void anAgentCannotReadAnyTopic(Endpoints endpoints) {
        Map<String, Object> props = new HashMap<>(endpoints.kafkaClient(KafkaAccess.AGENT.principal()));
        // No consumer group (agents have none), so only the topic ACL can refuse. Agents read nothing at all: their
        // commands come from dispatch over HTTPS.
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        try (var consumer = new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
            consumer.assign(List.of(new TopicPartition(TopicCatalog.AGENT_COMMAND_RESULTS.name(), 0)));
            assertThatThrownBy(() -> {
                        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                        while (System.nanoTime() < deadline) {
                            consumer.poll(Duration.ofMillis(200));
                        }
                    })
                    .isInstanceOf(TopicAuthorizationException.class);
        }
    }

    @Test
    void refusesAClientWithoutACertificateOfTheStacksAuthority(Endpoints endpoints, @TempDir Path dir)
            throws Exception {
        // A certificate from another authority: a valid certificate, but not one this broker trusts.
        KafkaTls foreign = KafkaTls.open(dir.resolve("foreign"));
        Map<String, Object> props = new HashMap<>(endpoints.kafkaClient(KafkaTls.ADMIN));
        props.put("ssl.keystore.location", foreign.keystore(KafkaTls.ADMIN).toString());
        props.put("ssl.keystore.password", foreign.password());
        props.put("ssl.key.password", foreign.password());
        assertThatThrownBy(() -> listTopics(props)).hasCauseInstanceOf(SslAuthenticationException.class);

        // No certificate at all (TLS, but anonymous), and no TLS at all.
        Map<String, Object> anonymous = new HashMap<>(endpoints.kafkaClient(KafkaTls.ADMIN));
        anonymous.remove("ssl.keystore.location");
        anonymous.remove("ssl.keystore.password");
        anonymous.remove("ssl.key.password");
        assertThatThrownBy(() -> listTopics(anonymous)).isInstanceOf(Exception.class);
        Map<String, Object> plaintext = Map.of("bootstrap.servers", endpoints.kafkaBootstrapServers());
        assertThatThrownBy(() -> listTopics(plaintext)).isInstanceOf(Exception.class);

        // The password file is the owner's alone.
        assertThat(Files.getPosixFilePermissions(
                        endpoints.kafkaTls().truststore().resolveSibling("password")))
                .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
    }

    private static RecordMetadata send(Map<String, Object> client, String topic) throws Exception {
        Map<String, Object> props = new HashMap<>(client);
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 10_000);
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
        try (var producer = new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
            return producer.send(new ProducerRecord<>(topic, "k", "v")).get(15, TimeUnit.SECONDS);
        }
    }

    private static void listTopics(Map<String, Object> client) throws Exception {
        Map<String, Object> props = new HashMap<>(client);
        // A refused client gets no answer, only retries: short timeouts keep the refusals quick.
        props.put("default.api.timeout.ms", 1_500);
        props.put("request.timeout.ms", 1_000);
        try (Admin admin = Admin.create(props)) {
            admin.listTopics().names().get(5, TimeUnit.SECONDS);
        }
    }
}
