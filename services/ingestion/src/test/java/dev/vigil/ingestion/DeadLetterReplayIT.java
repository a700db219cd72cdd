package dev.vigil.ingestion;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;

import dev.vigil.devstack.Devstack;
import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.devstack.Endpoints;
import dev.vigil.devstack.StaffTokenResource;
import dev.vigil.schemas.DeadLetterHeaders;
import dev.vigil.schemas.TopicCatalog;
import dev.vigil.schemas.agent.AgentEvent;
import dev.vigil.schemas.agent.LifecycleState;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

/**
 * Dead-letter replay as operators use it: a background job they start and follow. A record refused earlier (here: a
 * schema the consumer did not know yet) is re-driven and kept after the fix; a record that is still bad is sent back
 * once per replay, never its original and its copies again.
 */
@QuarkusTest
@QuarkusTestResource(DevstackTestResource.class)
@QuarkusTestResource(StaffTokenResource.class)
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

        JsonPath report = replay("reason=UNKNOWN_SCHEMA&limit=100000");

        assertThat(report.getLong("replayed")).isPositive();
        assertThat(report.getLong("failed")).isZero();
        assertThat(report.getMap("replayedByReason")).containsOnlyKeys("UNKNOWN_SCHEMA");
        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> Staff.analyst()
                        .get("/api/v1/vms/{id}/events", vm)
                        .then()
                        .statusCode(200)
                        .body("total", equalTo(1))
                        .body("items[0].eventId", equalTo(event.getEnvelope().getEventId())));
    }

    @Test
    void aRecordThatStaysBadIsSentBackOncePerReplayNeverItsOriginalAndCopiesAgain() throws Exception {
        String key = "still-bad-" + UUID.randomUUID();
        try (KafkaProducer<byte[], byte[]> producer = producer();
                TopicTail deadLetters = new TopicTail(endpoints, TopicCatalog.INGESTION_DEAD_LETTER)) {
            producer.send(deadLetter(key, "not avro".getBytes(StandardCharsets.UTF_8), "MALFORMED"))
                    .get();

            // Each replay sends back the record's latest refusal only; ingestion refuses it again, one record more.
            for (int round = 1; round <= 3; round++) {
                JsonPath report = replay("sourceTopic=" + TopicCatalog.AGENT_EVENTS.name() + "&limit=100000");
                assertThat(report.getLong("alreadyReplayed"))
                        .as("round " + round)
                        .isGreaterThanOrEqualTo(round - 1);
                int expected = round + 1;
                await().atMost(Duration.ofSeconds(30))
                        .untilAsserted(
                                () -> assertThat(withKey(deadLetters, key)).hasSize(expected));
            }
            // Before, each replay re-sent the original and all its copies: 1, 2, 4, 8 records. No fifth comes late.
            await().during(Duration.ofSeconds(2))
                    .atMost(Duration.ofSeconds(5))
                    .untilAsserted(() -> assertThat(withKey(deadLetters, key)).hasSize(4));
            List<ConsumerRecord<byte[], byte[]>> copies = withKey(deadLetters, key);
            assertThat(new String(
                            copies.get(3)
                                    .headers()
                                    .lastHeader("vigil_replayed_from")
                                    .value(),
                            StandardCharsets.UTF_8))
                    .as("the last copy came from the one before it")
                    .endsWith("/" + copies.get(2).offset());
        }
    }

    @Test
    void aSecondReplayWhileOneRunsIs409AndAReplayIsFollowedAtItsLocation() {
        Response started = Staff.operator().post("/api/v1/dead-letters/replays?limit=1");
        assertThat(started.statusCode()).isEqualTo(202);
        String location = started.header("Location");
        assertThat(location)
                .contains("/api/v1/dead-letters/replays/" + started.jsonPath().getString("id"));
        await().atMost(Duration.ofSeconds(60))
                .untilAsserted(() -> Staff.operator()
                        .get(location)
                        .then()
                        .statusCode(200)
                        .body("state", equalTo("DONE"))
                        .body("requestedBy", equalTo("otto@vendor.example")));
        Staff.operator()
                .get("/api/v1/dead-letters/replays")
                .then()
                .statusCode(200)
                .body("id", hasItem(started.jsonPath().getString("id")));
        Staff.operator()
                .get("/api/v1/dead-letters/replays/" + UUID.randomUUID())
                .then()
                .statusCode(404)
                .body("title", equalTo("Replay not found"));
        Staff.operator()
                .get("/api/v1/dead-letters/replays/not-a-uuid")
                .then()
                .statusCode(400)
                .body("title", equalTo("Bad parameter"));
    }

    @Test
    void aReplayWhoseRunnerStoppedReadsInterruptedAndReadingItWritesNothing() throws Exception {
        // A replay whose service died ten minutes ago: its row still says RUNNING.
        UUID id = UUID.randomUUID();
        try (Connection c = DriverManager.getConnection(endpoints.jdbcUrl(), endpoints.jdbcUser(), "");
                PreparedStatement insert = c.prepareStatement("INSERT INTO ingestion.dead_letter_replay (id,"
                        + " requested_by, max_records, state, started_at, heartbeat_at) VALUES (?, 'otto', 10,"
                        + " 'RUNNING', now() - interval '11 minutes', now() - interval '10 minutes')")) {
            insert.setObject(1, id);
            insert.executeUpdate();
        }

        Staff.analyst().get("/api/v1/dead-letters/replays/" + id).then().statusCode(403);
        Staff.operator()
                .get("/api/v1/dead-letters/replays/" + id)
                .then()
                .statusCode(200)
                .body("state", equalTo("INTERRUPTED"))
                .body("error", containsString("its runner stopped"));
        Staff.operator()
                .get("/api/v1/dead-letters/replays")
                .then()
                .statusCode(200)
                .body("find { it.id == '" + id + "' }.state", equalTo("INTERRUPTED"));
        assertThat(storedState(id)).as("a GET reads; it does not write").isEqualTo("RUNNING");

        // The next replay is not held up by it, and records what happened to it.
        replay("limit=1");
        assertThat(storedState(id)).isEqualTo("INTERRUPTED");
    }

    private String storedState(UUID id) throws Exception {
        try (Connection c = DriverManager.getConnection(endpoints.jdbcUrl(), endpoints.jdbcUser(), "");
                PreparedStatement select =
                        c.prepareStatement("SELECT state FROM ingestion.dead_letter_replay WHERE id = ?")) {
            select.setObject(1, id);
            try (ResultSet row = select.executeQuery()) {
                return row.next() ? row.getString(1) : null;
            }
        }
    }

    @Test
    void refusesAnUnknownReason() {
        Staff.operator()
                .post("/api/v1/dead-letters/replays?reason=BECAUSE")
                .then()
                .statusCode(400)
                .body("title", equalTo("Bad replay request"));
    }

    /** Starts a replay, waits until it is done, and returns its report. */
    private static JsonPath replay(String query) {
        String id = await().atMost(Duration.ofSeconds(60))
                .until(
                        () -> {
                            Response started = Staff.operator().post("/api/v1/dead-letters/replays?" + query);
                            return started.statusCode() == 202
                                    ? started.jsonPath().getString("id")
                                    : null;
                        },
                        java.util.Objects::nonNull);
        return await().atMost(Duration.ofSeconds(60))
                .until(
                        () -> Staff.operator()
                                .get("/api/v1/dead-letters/replays/" + id)
                                .then()
                                .statusCode(200)
                                .extract()
                                .jsonPath(),
                        report -> "DONE".equals(report.getString("state")));
    }

    private static List<ConsumerRecord<byte[], byte[]>> withKey(TopicTail tail, String key) {
        return tail.poll().stream()
                .filter(r -> r.key() != null && key.equals(new String(r.key(), StandardCharsets.UTF_8)))
                .toList();
    }

    /** A refused agent event as the dead-letter topic holds it: its value and its agent's seal, and the reason. */
    private ProducerRecord<byte[], byte[]> deadLetter(String key, byte[] value, String reason) {
        ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(
                TopicCatalog.INGESTION_DEAD_LETTER.name(), key.getBytes(StandardCharsets.UTF_8), value);
        try (var sealing = endpoints.recordKeys().sealing()) {
            sealing.serialize(TopicCatalog.AGENT_EVENTS.name(), record.headers(), value);
        }
        record.headers().add(DeadLetterHeaders.REASON, reason.getBytes(StandardCharsets.UTF_8));
        record.headers()
                .add(
                        DeadLetterHeaders.SOURCE_TOPIC,
                        TopicCatalog.AGENT_EVENTS.name().getBytes(StandardCharsets.UTF_8));
        return record;
    }

    private KafkaProducer<byte[], byte[]> producer() {
        return endpoints.agentProducer();
    }
}
