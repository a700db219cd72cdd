package dev.vigil.ingestion;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.hasItem;

import dev.vigil.devstack.Devstack;
import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.devstack.Endpoints;
import dev.vigil.devstack.StaffTokenResource;
import dev.vigil.schemas.CloudEventHeaders;
import dev.vigil.schemas.DeadLetterHeaders;
import dev.vigil.schemas.Envelopes;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.HostRevocations;
import dev.vigil.schemas.KafkaAccess;
import dev.vigil.schemas.ObjectKeys;
import dev.vigil.schemas.RecordSeals;
import dev.vigil.schemas.Topic;
import dev.vigil.schemas.TopicCatalog;
import dev.vigil.schemas.agent.ArtifactManifest;
import dev.vigil.schemas.agent.CommandResult;
import dev.vigil.schemas.agent.CommandStatus;
import dev.vigil.schemas.agent.FeedbackCategory;
import dev.vigil.schemas.agent.RefusalReason;
import dev.vigil.schemas.agent.UserFeedback;
import dev.vigil.schemas.common.ArtifactKind;
import dev.vigil.schemas.common.Source;
import dev.vigil.schemas.common.VmRef;
import dev.vigil.schemas.dispatch.HostRevocation;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.stream.IntStream;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/**
 * Artifact manifests, feedback and command results: each kept once, or dead-lettered with its reason; a feedback's
 * screenshot is served as a link that fetches the stored picture.
 */
@QuarkusTest
@QuarkusTestResource(DevstackTestResource.class)
@QuarkusTestResource(StaffTokenResource.class)
class AgentTopicsIT {

    private final String hostId = "topics-" + UUID.randomUUID();
    private final String vm = UUID.randomUUID().toString();
    private final Endpoints endpoints = Devstack.shared().endpoints();

    @Test
    void keepsEachKindOnceAndDeadLettersBadOnes() throws Exception {
        ArtifactManifest artifact = artifact("ab".repeat(32));
        ArtifactManifest noHash = artifact(" ");
        UserFeedback feedback = feedback("the installer froze at 80%", null);
        UserFeedback empty = feedback("", null);
        byte[] png = screenshot();
        String screenshotKey = store(png);
        UserFeedback withScreenshot = feedback("the wallpaper is upside down", screenshotKey);
        CommandResult result = result("cmd-1");

        try (KafkaProducer<byte[], byte[]> producer = producer()) {
            send(producer, TopicCatalog.AGENT_ARTIFACTS, artifact);
            send(producer, TopicCatalog.AGENT_ARTIFACTS, artifact);
            send(producer, TopicCatalog.AGENT_ARTIFACTS, noHash);
            send(producer, TopicCatalog.AGENT_FEEDBACK, feedback);
            send(producer, TopicCatalog.AGENT_FEEDBACK, empty);
            send(producer, TopicCatalog.AGENT_FEEDBACK, withScreenshot);
            send(producer, TopicCatalog.AGENT_COMMAND_RESULTS, result);
            producer.send(new ProducerRecord<>(
                            TopicCatalog.AGENT_COMMAND_RESULTS.name(),
                            hostId.getBytes(StandardCharsets.UTF_8),
                            "garbage".getBytes(StandardCharsets.UTF_8)))
                    .get();
        }

        await().atMost(Duration.ofSeconds(60))
                .untilAsserted(() -> Staff.analyst()
                        .get("/api/v1/vms/{id}/feedback", vm)
                        .then()
                        .statusCode(200)
                        .body("total", equalTo(2))
                        .body("items.text", hasItem("the installer froze at 80%"))
                        .body("items.rating", everyItem(equalTo(2)))
                        .body("items.category", everyItem(equalTo("STABILITY"))));
        JsonPath page = Staff.analyst()
                .get("/api/v1/vms/{id}/feedback", vm)
                .then()
                .extract()
                .jsonPath();
        assertThat(page.getString("items.find { it.text == 'the installer froze at 80%' }.screenshotKey"))
                .isNull();
        assertThat(page.getString("items.find { it.text == 'the installer froze at 80%' }.screenshotUrl"))
                .isNull();
        assertThat(page.getString("items.find { it.text == 'the wallpaper is upside down' }.screenshotKey"))
                .isEqualTo(screenshotKey);
        String url = page.getString("items.find { it.text == 'the wallpaper is upside down' }.screenshotUrl");
        assertThat(url).contains("X-Amz-Expires=900");
        // What an analyst's browser does with the link: no credentials but the signature.
        HttpResponse<byte[]> picture = HttpClient.newHttpClient()
                .send(HttpRequest.newBuilder(URI.create(url)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(picture.statusCode()).isEqualTo(200);
        assertThat(picture.body()).isEqualTo(png);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertThat(count("SELECT count(*) FROM ingestion.artifact WHERE vm_uuid = ?", vm))
                    .isEqualTo(1);
            assertThat(count("SELECT count(*) FROM ingestion.command_result WHERE host_id = ?", hostId))
                    .isEqualTo(1);
        });
        // No object was uploaded: the verifier (every second here) may already have found it missing.
        assertThat(count(
                        "SELECT count(*) FROM ingestion.artifact WHERE vm_uuid = ? AND status IN ('UNVERIFIED', 'MISSING')"
                                + " AND size_bytes = 4096 AND kind = 'MEMORY_DUMP'",
                        vm))
                .isEqualTo(1);
        Staff.analyst().get("/api/v1/hosts?size=500").then().statusCode(200).body("items.id", hasItem(hostId));
        Staff.analyst().get("/api/v1/hosts/" + hostId).then().statusCode(200).body("id", equalTo(hostId));
        Staff.analyst()
                .get("/api/v1/hosts/never-" + hostId)
                .then()
                .statusCode(404)
                .body("title", equalTo("Host not found"));

        try (TopicTail dlq = new TopicTail(endpoints, TopicCatalog.INGESTION_DEAD_LETTER)) {
            await().atMost(Duration.ofSeconds(30))
                    .untilAsserted(() -> assertThat(dlq.poll().stream()
                                    .filter(r -> Arrays.equals(r.key(), hostId.getBytes(StandardCharsets.UTF_8))
                                            || Arrays.equals(r.key(), vm.getBytes(StandardCharsets.UTF_8)))
                                    .map(r -> CloudEventHeaders.read(r.headers(), DeadLetterHeaders.SOURCE_TOPIC) + " "
                                            + CloudEventHeaders.read(r.headers(), DeadLetterHeaders.REASON) + " "
                                            + CloudEventHeaders.read(r.headers(), DeadLetterHeaders.CONSUMER))
                                    .toList())
                            .containsExactlyInAnyOrder(
                                    "vigil.agent.artifacts.v1 MISSING_FIELD vigil-ingestion.vigil.agent.artifacts.v1",
                                    "vigil.agent.feedback.v1 MISSING_FIELD vigil-ingestion.vigil.agent.feedback.v1",
                                    "vigil.agent.command-results.v1 MALFORMED"
                                            + " vigil-ingestion.vigil.agent.command-results.v1"));
        }
    }

    /**
     * A record that decodes and validates but that the database refuses (here a trigger refuses it, as a constraint
     * added later or a bug would) fails its batch every time. Before, the channel stopped on it for good and nothing
     * after it was read; now its batch is tried again, then record by record, and it alone goes to the dead-letter
     * topic while the database answers.
     */
    @Test
    void aRecordThatAlwaysFailsIsDeadLetteredAndTheChannelGoesOn() throws Exception {
        execute("""
                CREATE OR REPLACE FUNCTION ingestion.refuse_poison() RETURNS trigger AS $$
                BEGIN
                    IF NEW.text LIKE 'poison:%' THEN RAISE EXCEPTION 'refused by the test''s trigger'; END IF;
                    RETURN NEW;
                END $$ LANGUAGE plpgsql""");
        execute("CREATE OR REPLACE TRIGGER refuse_poison BEFORE INSERT ON ingestion.feedback"
                + " FOR EACH ROW EXECUTE FUNCTION ingestion.refuse_poison()");
        try {
            sendPoisonBetweenTwoGoodRecords();
        } finally {
            execute("DROP TRIGGER refuse_poison ON ingestion.feedback");
        }
    }

    private void sendPoisonBetweenTwoGoodRecords() throws Exception {
        UserFeedback poison = feedback("poison: froze at boot", null);
        UserFeedback before = feedback("sent before the poison", null);
        UserFeedback after = feedback("sent after the poison", null);
        try (KafkaProducer<byte[], byte[]> producer = producer();
                TopicTail dlq = new TopicTail(endpoints, TopicCatalog.INGESTION_DEAD_LETTER)) {
            send(producer, TopicCatalog.AGENT_FEEDBACK, before);
            send(producer, TopicCatalog.AGENT_FEEDBACK, poison);
            send(producer, TopicCatalog.AGENT_FEEDBACK, after);

            await().atMost(Duration.ofSeconds(60))
                    .untilAsserted(() -> Staff.analyst()
                            .get("/api/v1/vms/{id}/feedback", vm)
                            .then()
                            .statusCode(200)
                            .body("total", equalTo(2))
                            .body("items.text", containsInAnyOrder("sent before the poison", "sent after the poison")));
            await().atMost(Duration.ofSeconds(30))
                    .untilAsserted(() -> assertThat(dlq.poll().stream()
                                    .filter(r -> Arrays.equals(r.key(), vm.getBytes(StandardCharsets.UTF_8)))
                                    .map(r -> CloudEventHeaders.read(r.headers(), DeadLetterHeaders.REASON) + " "
                                            + CloudEventHeaders.read(r.headers(), DeadLetterHeaders.DETAIL))
                                    .toList())
                            .singleElement()
                            .asString()
                            .startsWith("PROCESSING_FAILED failed 3 times"));
        }
    }

    /**
     * A record is kept only when it is sealed by the record key of the host its envelope names: another host's seal
     * and no seal at all are dead-lettered as IDENTITY_MISMATCH, saying why, and the host's own record is kept.
     */
    @Test
    void aHostCanOnlyWriteAsItself() throws Exception {
        UserFeedback own = feedback("sealed by its own host", null);
        UserFeedback forged = feedback("sealed by another host", null);
        UserFeedback unsealed = feedback("not sealed at all", null);
        Map<String, Object> plain = new HashMap<>(endpoints.kafkaClient());
        plain.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<byte[], byte[]> agents = producer();
                KafkaProducer<byte[], byte[]> anonymous =
                        new KafkaProducer<>(plain, new ByteArraySerializer(), new ByteArraySerializer());
                TopicTail dlq = new TopicTail(endpoints, TopicCatalog.INGESTION_DEAD_LETTER)) {
            send(agents, TopicCatalog.AGENT_FEEDBACK, own);
            byte[] value = EventCodec.of(UserFeedback.class).encode(forged);
            ProducerRecord<byte[], byte[]> asAnother = new ProducerRecord<>(
                    TopicCatalog.AGENT_FEEDBACK.name(), vm.getBytes(StandardCharsets.UTF_8), value);
            RecordSeals.seal(endpoints.recordKeys().hostKey("acme", "another-host"), value, asAnother.headers());
            agents.send(asAnother).get();
            send(anonymous, TopicCatalog.AGENT_FEEDBACK, unsealed);

            await().atMost(Duration.ofSeconds(60))
                    .untilAsserted(() -> assertThat(dlq.poll().stream()
                                    .filter(r -> Arrays.equals(r.key(), vm.getBytes(StandardCharsets.UTF_8)))
                                    .map(r -> CloudEventHeaders.read(r.headers(), DeadLetterHeaders.REASON) + ": "
                                            + CloudEventHeaders.read(r.headers(), DeadLetterHeaders.DETAIL))
                                    .toList())
                            .containsExactlyInAnyOrder(
                                    "IDENTITY_MISMATCH: the record's seal is not that of host " + hostId
                                            + " of tenant acme: a host may only write as itself",
                                    "IDENTITY_MISMATCH: the record is not sealed (no vigil_mac header): agents seal"
                                            + " their records with the record key their host got at enrolment; enrol"
                                            + " this host"));
            Staff.analyst()
                    .get("/api/v1/vms/{id}/feedback", vm)
                    .then()
                    .statusCode(200)
                    .body("total", equalTo(1))
                    .body("items.text", contains("sealed by its own host"));
        }
    }

    /**
     * A host's records may name only its own objects: a sealed manifest or screenshot key under another host's prefix
     * is dead-lettered as IDENTITY_MISMATCH, so no host can make its report carry another's evidence.
     */
    @Test
    void aHostCanOnlyPointAtItsOwnObjects() throws Exception {
        String othersKey = ObjectKeys.evidence("acme", "another-host", "cd".repeat(32));
        ArtifactManifest manifest = artifact("cd".repeat(32), othersKey);
        UserFeedback feedback = feedback("look at someone else's screen", othersKey);
        try (KafkaProducer<byte[], byte[]> agents = producer();
                TopicTail dlq = new TopicTail(endpoints, TopicCatalog.INGESTION_DEAD_LETTER)) {
            send(agents, TopicCatalog.AGENT_ARTIFACTS, manifest);
            send(agents, TopicCatalog.AGENT_FEEDBACK, feedback);
            String expected = "IDENTITY_MISMATCH: object key '" + othersKey + "' is not one of host " + hostId + "'s ("
                    + ObjectKeys.hostPrefix("acme", hostId) + "sha256/<2 hex>/<sha256>): a host may only point at its"
                    + " own objects";
            await().atMost(Duration.ofSeconds(60))
                    .untilAsserted(() -> assertThat(dlq.poll().stream()
                                    .filter(r -> Arrays.equals(r.key(), vm.getBytes(StandardCharsets.UTF_8)))
                                    .map(r -> CloudEventHeaders.read(r.headers(), DeadLetterHeaders.REASON) + ": "
                                            + CloudEventHeaders.read(r.headers(), DeadLetterHeaders.DETAIL))
                                    .toList())
                            .containsExactly(expected, expected));
            // Neither was kept: the VM they name was never heard of.
            Staff.analyst().get("/api/v1/vms/{id}/feedback", vm).then().statusCode(404);
        }
    }

    /**
     * Once dispatch publishes a host's revocation, ingestion refuses that host's records, rightly sealed as they are,
     * as HOST_REVOKED, with who revoked it and why.
     */
    @Test
    void aRevokedHostsRecordsAreDeadLettered() throws Exception {
        HostRevocation revocation = HostRevocation.newBuilder()
                .setEnvelope(Envelopes.create(
                        HostRevocation.class,
                        HostRevocation.getClassSchema(),
                        Source.newBuilder()
                                .setHostId("vigil-dispatch")
                                .setAgentId("vigil-dispatch")
                                .setAgentVersion("1")
                                .build(),
                        "acme",
                        Instant.now()))
                .setTenant("acme")
                .setHostId(hostId)
                .setRevokedAt(Instant.now())
                .setRevokedBy("ada@vendor.example")
                .setReason("reported stolen")
                .build();
        try (KafkaProducer<byte[], byte[]> agents = producer();
                KafkaProducer<byte[], byte[]> dispatch = new KafkaProducer<>(
                        endpoints.kafkaClient(KafkaAccess.DISPATCH.principal()),
                        new ByteArraySerializer(),
                        new ByteArraySerializer());
                TopicTail dlq = new TopicTail(endpoints, TopicCatalog.INGESTION_DEAD_LETTER)) {
            send(agents, TopicCatalog.AGENT_FEEDBACK, feedback("before the revocation", null));
            await().atMost(Duration.ofSeconds(60))
                    .untilAsserted(() -> Staff.analyst()
                            .get("/api/v1/vms/{id}/feedback", vm)
                            .then()
                            .statusCode(200)
                            .body("items.text", hasItem("before the revocation")));
            dispatch.send(new ProducerRecord<>(
                            TopicCatalog.DISPATCH_HOST_REVOCATIONS.name(),
                            HostRevocations.key("acme", hostId).getBytes(StandardCharsets.UTF_8),
                            EventCodec.of(HostRevocation.class).encode(revocation)))
                    .get();

            // Ingestion follows the topic within a poll; each try sends one more record of the host.
            await().atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofSeconds(2))
                    .untilAsserted(() -> {
                        send(agents, TopicCatalog.AGENT_FEEDBACK, feedback("after the revocation", null));
                        assertThat(dlq.poll().stream()
                                        .filter(r -> Arrays.equals(r.key(), vm.getBytes(StandardCharsets.UTF_8)))
                                        .map(r -> CloudEventHeaders.read(r.headers(), DeadLetterHeaders.REASON) + ": "
                                                + CloudEventHeaders.read(r.headers(), DeadLetterHeaders.DETAIL))
                                        .toList())
                                .anySatisfy(d -> assertThat(d)
                                        .startsWith("HOST_REVOKED: host " + hostId + " of tenant acme was revoked at")
                                        .contains("ada@vendor.example")
                                        .contains("reported stolen"));
                    });
        }
    }

    /**
     * Each agent topic is read by a consumer group of its own, which holds all of the topic's partitions and nothing
     * else: one channel's consumers joining or leaving then never rebalances (and stops) another's.
     */
    @Test
    void eachAgentTopicIsReadByAConsumerGroupOfItsOwn() {
        List<Topic> topics = List.of(
                TopicCatalog.AGENT_EVENTS,
                TopicCatalog.AGENT_SAMPLES,
                TopicCatalog.AGENT_ARTIFACTS,
                TopicCatalog.AGENT_FEEDBACK,
                TopicCatalog.AGENT_COMMAND_RESULTS);
        try (Admin admin = Admin.create(endpoints.kafkaClient())) {
            for (Topic topic : topics) {
                String group = "vigil-ingestion." + topic.name();
                await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                    ConsumerGroupDescription description = admin.describeConsumerGroups(List.of(group))
                            .describedGroups()
                            .get(group)
                            .get();
                    assertThat(description.groupState()).as(group).isEqualTo(GroupState.STABLE);
                    assertThat(description.members().stream()
                                    .flatMap(m -> m.assignment().topicPartitions().stream())
                                    .toList())
                            .as(group)
                            .containsExactlyInAnyOrderElementsOf(IntStream.range(0, topic.partitions())
                                    .mapToObj(p -> new TopicPartition(topic.name(), p))
                                    .toList());
                });
            }
        }
    }

    private void execute(String sql) throws Exception {
        try (Connection c = DriverManager.getConnection(endpoints.jdbcUrl(), endpoints.jdbcUser(), "");
                java.sql.Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private long count(String sql, String value) throws Exception {
        try (Connection c = DriverManager.getConnection(endpoints.jdbcUrl(), endpoints.jdbcUser(), "");
                PreparedStatement s = c.prepareStatement(sql)) {
            s.setString(1, value);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private Source source() {
        return Source.newBuilder()
                .setHostId(hostId)
                .setAgentId(hostId + "-agent")
                .setAgentVersion("0.1.0")
                .build();
    }

    private VmRef vmRef() {
        return VmRef.newBuilder().setUuid(vm).setName("vm-topics").build();
    }

    private ArtifactManifest artifact(String sha256) {
        return artifact(sha256, ObjectKeys.evidence("acme", hostId, "ab".repeat(32)));
    }

    private ArtifactManifest artifact(String sha256, String key) {
        return ArtifactManifest.newBuilder()
                .setEnvelope(Envelopes.create(
                        ArtifactManifest.class, ArtifactManifest.getClassSchema(), source(), "acme", Instant.now()))
                .setVm(vmRef())
                .setIncidentId(UUID.randomUUID().toString())
                .setKind(ArtifactKind.MEMORY_DUMP)
                .setBucket("vigil-artifacts")
                .setObjectKey(key)
                .setSha256(sha256)
                .setSizeBytes(4096)
                .setFormat("kdump-compressed")
                .setEncryption(null)
                .build();
    }

    /** A PNG's signature and some random bytes: the store and the link carry them unchanged. */
    private static byte[] screenshot() {
        byte[] png = new byte[4096];
        new Random().nextBytes(png);
        System.arraycopy(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, 0, png, 0, 8);
        return png;
    }

    /** Stores the picture where the agent would: in the evidence bucket, at this host's key for it. */
    private String store(byte[] png) throws Exception {
        String sha256 =
                HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(png));
        String key = ObjectKeys.evidence("acme", hostId, sha256);
        MinioClient s3 = MinioClient.builder()
                .endpoint(endpoints.s3Endpoint())
                .credentials(endpoints.s3AccessKey(), endpoints.s3SecretKey())
                .build();
        s3.putObject(PutObjectArgs.builder().bucket("vigil-artifacts").object(key).stream(
                        new ByteArrayInputStream(png), (long) png.length, -1L)
                .contentType("image/png")
                .build());
        return key;
    }

    private UserFeedback feedback(String text, String screenshotKey) {
        return UserFeedback.newBuilder()
                .setEnvelope(Envelopes.create(
                        UserFeedback.class, UserFeedback.getClassSchema(), source(), "acme", Instant.now()))
                .setVm(vmRef())
                .setText(text)
                .setRating(2)
                .setCategory(FeedbackCategory.STABILITY)
                .setScreenshotKey(screenshotKey)
                .build();
    }

    private CommandResult result(String commandId) {
        return CommandResult.newBuilder()
                .setEnvelope(Envelopes.create(
                        CommandResult.class, CommandResult.getClassSchema(), source(), "acme", Instant.now()))
                .setCommandId(commandId)
                .setStatus(CommandStatus.REFUSED)
                .setRefusal(RefusalReason.EXPIRED)
                .setMessage("the command expired")
                .setCompletedAt(Instant.now())
                .build();
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private void send(KafkaProducer<byte[], byte[]> producer, Topic topic, SpecificRecord record) throws Exception {
        String key = topic == TopicCatalog.AGENT_COMMAND_RESULTS ? hostId : vm;
        byte[] value = ((EventCodec) EventCodec.of(record.getClass())).encode(record);
        producer.send(new ProducerRecord<>(topic.name(), key.getBytes(StandardCharsets.UTF_8), value))
                .get();
    }

    private KafkaProducer<byte[], byte[]> producer() {
        return endpoints.agentProducer();
    }
}
