package dev.vigil.ingestion;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;

import dev.vigil.devstack.Devstack;
import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.devstack.Endpoints;
import dev.vigil.schemas.DeadLetterHeaders;
import dev.vigil.schemas.TopicCatalog;
import dev.vigil.schemas.agent.AgentEvent;
import dev.vigil.schemas.agent.LifecycleState;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/** A record refused earlier (here: a schema the consumer did not know yet) is re-driven and kept after the fix. */
@QuarkusTest
@QuarkusTestResource(DevstackTestResource.class)
class DeadLetterReplayIT {

    private final Endpoints endpoints = Devstack.shared().endpoints();

    @Test
    void replaysOnlyTheChosenReasonAndTheFixedRecordIsKept() throws Exception {
        String vm = UUID.randomUUID().toString();
        AgentEvent event = AgentEventFixtures.lifecycle(vm, LifecycleState.STARTED, "BOOTED", Instant.now());
        try (KafkaProducer<byte[], byte[]> producer = producer()) {
            producer.send(deadLetter(vm, AgentEventFixtures.encode(event), "UNKNOWN_SCHEMA"))
                    .get();
            producer.send(deadLetter(vm, "still garbage".getBytes(StandardCharsets.UTF_8), "MALFORMED"))
                    .get();
        }

        JsonPath report = given().post("/api/v1/dead-letters/replay?reason=UNKNOWN_SCHEMA&limit=100000")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();

        assertThat(report.getLong("replayed")).isPositive();
        assertThat(report.getMap("replayedByReason")).containsOnlyKeys("UNKNOWN_SCHEMA");
        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> given().get("/api/v1/vms/{id}/events", vm)
                        .then()
                        .statusCode(200)
                        .body("total", equalTo(1))
                        .body("items[0].eventId", equalTo(event.getEnvelope().getEventId())));
    }

    @Test
    void refusesAnUnknownReason() {
        given().post("/api/v1/dead-letters/replay?reason=BECAUSE")
                .then()
                .statusCode(400)
                .body("title", equalTo("Bad replay request"));
    }

    private static ProducerRecord<byte[], byte[]> deadLetter(String key, byte[] value, String reason) {
        ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(
                TopicCatalog.INGESTION_DEAD_LETTER.name(), key.getBytes(StandardCharsets.UTF_8), value);
        record.headers().add(DeadLetterHeaders.REASON, reason.getBytes(StandardCharsets.UTF_8));
        record.headers()
                .add(
                        DeadLetterHeaders.SOURCE_TOPIC,
                        TopicCatalog.AGENT_EVENTS.name().getBytes(StandardCharsets.UTF_8));
        return record;
    }

    private KafkaProducer<byte[], byte[]> producer() {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, endpoints.kafkaBootstrapServers());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        return new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
    }
}
