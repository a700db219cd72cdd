package dev.vigil.ingestion;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;

import dev.vigil.devstack.Devstack;
import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.devstack.Endpoints;
import dev.vigil.devstack.StaffTokenResource;
import dev.vigil.schemas.CloudEventHeaders;
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
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/** Good and bad records interleaved on one partition: the good ones are recorded, each bad one is dead-lettered. */
@QuarkusTest
@QuarkusTestResource(DevstackTestResource.class)
@QuarkusTestResource(StaffTokenResource.class)
class IngestionPipelineIT {

    @Test
    void recordsGoodEventsAndDeadLettersEachBadOneWithoutBlocking() throws Exception {
        Endpoints endpoints = Devstack.shared().endpoints();
        String vm = UUID.randomUUID().toString();
        byte[] key = vm.getBytes(StandardCharsets.UTF_8);
        Instant now = Instant.now();
        AgentEvent first = AgentEventFixtures.lifecycle(vm, LifecycleState.STARTED, "BOOTED", now.minusSeconds(20));
        AgentEvent missingField =
                AgentEventFixtures.lifecycle(vm, LifecycleState.SUSPENDED, "PAUSED", now.minusSeconds(15));
        missingField.getEnvelope().getSource().put("agentId", "");
        AgentEvent tooOld =
                AgentEventFixtures.lifecycle(vm, LifecycleState.SUSPENDED, "PAUSED", now.minus(Duration.ofDays(90)));
        AgentEvent foreign = AgentEventFixtures.lifecycle(vm, LifecycleState.SUSPENDED, "PAUSED", now.minusSeconds(10));
        foreign.getEnvelope().put("tenant", "globex");
        AgentEvent last = AgentEventFixtures.lifecycle(vm, LifecycleState.STOPPED, "DESTROYED", now.minusSeconds(5));
        byte[] oversized = new byte[100 * 1024];
        Arrays.fill(oversized, (byte) 7);

        Map<String, byte[]> sent = new HashMap<>();
        Map<String, Long> offsets = new HashMap<>();
        try (KafkaProducer<byte[], byte[]> producer = producer(endpoints)) {
            send(producer, key, "first", AgentEventFixtures.encode(first), sent, offsets);
            send(producer, key, "missing-field", AgentEventFixtures.encode(missingField), sent, offsets);
            send(producer, key, "unknown-schema", unknownSchemaRecord(), sent, offsets);
            send(producer, key, "duplicate", AgentEventFixtures.encode(first), sent, offsets);
            send(producer, key, "oversized", oversized, sent, offsets);
            send(producer, key, "malformed", "not avro at all".getBytes(StandardCharsets.UTF_8), sent, offsets);
            send(producer, key, "too-old", AgentEventFixtures.encode(tooOld), sent, offsets);
            send(producer, key, "foreign-tenant", AgentEventFixtures.encode(foreign), sent, offsets);
            send(producer, key, "last", AgentEventFixtures.encode(last), sent, offsets);
        }

        await().atMost(Duration.ofSeconds(60))
                .untilAsserted(() -> Staff.analyst()
                        .when()
                        .get("/api/v1/vms/{id}/events", vm)
                        .then()
                        .statusCode(200)
                        .body("total", equalTo(2)));
        JsonPath timeline = Staff.analyst()
                .get("/api/v1/vms/{id}/events", vm)
                .then()
                .extract()
                .jsonPath();
        assertThat(timeline.getList("items.eventId"))
                .containsExactly(
                        first.getEnvelope().getEventId(), last.getEnvelope().getEventId());
        assertThat(timeline.getList("items.state")).containsExactly("STARTED", "STOPPED");
        Staff.analyst()
                .get("/api/v1/vms/{id}", vm)
                .then()
                .statusCode(200)
                .body("state", equalTo("STOPPED"))
                .body("stateReason", equalTo("DESTROYED"));

        Map<String, String> expectedReasons = Map.of(
                "missing-field", "MISSING_FIELD",
                "unknown-schema", "UNKNOWN_SCHEMA",
                "oversized", "OVERSIZED",
                "malformed", "MALFORMED",
                "too-old", "TIMESTAMP_OUT_OF_RANGE",
                "foreign-tenant", "UNKNOWN_TENANT");
        try (TopicTail dlq = new TopicTail(endpoints, TopicCatalog.INGESTION_DEAD_LETTER)) {
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> ours(dlq.poll(), key).size() >= expectedReasons.size());
            List<ConsumerRecord<byte[], byte[]>> dead = ours(dlq.poll(), key);
            assertThat(dead).hasSize(expectedReasons.size());
            for (ConsumerRecord<byte[], byte[]> record : dead) {
                String label = CloudEventHeaders.read(record.headers(), "test-label");
                assertThat(CloudEventHeaders.read(record.headers(), DeadLetterHeaders.REASON))
                        .as(label)
                        .isEqualTo(expectedReasons.get(label));
                assertThat(record.value()).as(label).isEqualTo(sent.get(label));
                assertThat(CloudEventHeaders.read(record.headers(), DeadLetterHeaders.SOURCE_TOPIC))
                        .isEqualTo(TopicCatalog.AGENT_EVENTS.name());
                assertThat(CloudEventHeaders.read(record.headers(), DeadLetterHeaders.SOURCE_OFFSET))
                        .isEqualTo(String.valueOf(offsets.get(label)));
                assertThat(CloudEventHeaders.read(record.headers(), DeadLetterHeaders.DETAIL))
                        .isNotBlank();
            }
        }

        String metrics =
                given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertThat(counter(metrics, "vigil_ingestion_events_duplicate_total")).isGreaterThanOrEqualTo(1.0);
        assertThat(counter(metrics, "vigil_ingestion_events_rejected_total{reason=\"OVERSIZED\"}"))
                .isGreaterThanOrEqualTo(1.0);
        // From the agent's publish to the commit that made the record durable, per topic, with its p99.
        assertThat(counter(
                        metrics,
                        "vigil_ingestion_publish_to_durable_seconds_count{topic=\"" + TopicCatalog.AGENT_EVENTS.name()
                                + "\"}"))
                .isGreaterThanOrEqualTo(9.0);
        // And where that time went, each stage counted for every record of a committed batch.
        for (String stage : new String[] {"delivery", "processing", "commit"}) {
            assertThat(counter(
                            metrics,
                            "vigil_ingestion_publish_to_durable_stage_seconds_count{stage=\"" + stage + "\",topic=\""
                                    + TopicCatalog.AGENT_EVENTS.name() + "\"}"))
                    .as(stage)
                    .isGreaterThanOrEqualTo(9.0);
        }
        assertThat(metrics)
                .contains("vigil_ingestion_publish_to_durable_seconds{topic=\"" + TopicCatalog.AGENT_EVENTS.name()
                        + "\",quantile=\"0.99\"}")
                // Consumer lag, from the Kafka client's own metrics.
                .contains("kafka_consumer_fetch_manager_records_lag_max");
    }

    @Test
    void consumesTheTopicsTheCatalogNames() {
        assertThat(ConfigProvider.getConfig().getValue("mp.messaging.incoming.agent-events.topic", String.class))
                .isEqualTo(TopicCatalog.AGENT_EVENTS.name());
        assertThat(ConfigProvider.getConfig().getValue("mp.messaging.outgoing.dead-letter.topic", String.class))
                .isEqualTo(TopicCatalog.INGESTION_DEAD_LETTER.name());
    }

    private static List<ConsumerRecord<byte[], byte[]>> ours(List<ConsumerRecord<byte[], byte[]>> records, byte[] key) {
        return records.stream().filter(r -> Arrays.equals(r.key(), key)).toList();
    }

    private static double counter(String prometheusText, String series) {
        return prometheusText
                .lines()
                .filter(l -> l.startsWith(series + " ") || l.startsWith(series.replace("}", ",")))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .sum();
    }

    private static byte[] unknownSchemaRecord() throws Exception {
        Schema rogue = new Schema.Parser()
                .parse("{\"type\":\"record\",\"name\":\"AgentEvent\",\"namespace\":\"rogue\","
                        + "\"fields\":[{\"name\":\"eventId\",\"type\":\"string\"}]}");
        GenericRecord record = new GenericData.Record(rogue);
        record.put("eventId", UUID.randomUUID().toString());
        return new BinaryMessageEncoder<GenericRecord>(GenericData.get(), rogue)
                .encode(record)
                .array();
    }

    private static void send(
            KafkaProducer<byte[], byte[]> producer,
            byte[] key,
            String label,
            byte[] value,
            Map<String, byte[]> sent,
            Map<String, Long> offsets)
            throws Exception {
        ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(TopicCatalog.AGENT_EVENTS.name(), key, value);
        record.headers().add("test-label", label.getBytes(StandardCharsets.UTF_8));
        RecordMetadata metadata = producer.send(record).get();
        sent.put(label, value);
        offsets.put(label, metadata.offset());
    }

    private static KafkaProducer<byte[], byte[]> producer(Endpoints endpoints) {
        return endpoints.agentProducer(Map.of(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 1024 * 1024));
    }
}
