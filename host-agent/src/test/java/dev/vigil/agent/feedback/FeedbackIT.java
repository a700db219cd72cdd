package dev.vigil.agent.feedback;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.vigil.agent.Agent;
import dev.vigil.agent.TcpForwarder;
import dev.vigil.agent.TopicReader;
import dev.vigil.agent.config.AgentConfig;
import dev.vigil.devstack.DevstackConfig;
import dev.vigil.devstack.DevstackExtension;
import dev.vigil.devstack.Endpoints;
import dev.vigil.schemas.ObjectKeys;
import dev.vigil.schemas.TopicCatalog;
import dev.vigil.schemas.agent.ArtifactManifest;
import dev.vigil.schemas.agent.FeedbackCategory;
import dev.vigil.schemas.agent.UserFeedback;
import io.minio.GetObjectArgs;
import io.minio.MinioClient;
import io.minio.errors.ErrorResponseException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code vigil-agent feedback} against libvirt's test hypervisor and the devstack's Kafka and S3: the record is
 * published, and its screenshot is stored at the record's key, after an outage of the store and a restart too.
 */
@ExtendWith(DevstackExtension.class)
class FeedbackIT {

    private static final String TEST_VM = "6695eb01-f6a4-8304-79aa-97f2502e193f";
    private static final String[] WITH_SCREENSHOT = {
        "--vm", "test", "menus take seconds to open", "--rating", "2", "--category", "speed", "--screenshot"
    };

    @Test
    void publishesAUsersCommentAndStoresItsScreenshotAtTheRecordsKey(Endpoints endpoints) throws Exception {
        Path state = Files.createTempDirectory("vigil-agent-");
        AgentConfig config = config(endpoints, state, endpoints.s3Endpoint());
        try (Agent agent = new Agent(config);
                TopicReader<UserFeedback> reader =
                        new TopicReader<>(endpoints, TopicCatalog.AGENT_FEEDBACK, UserFeedback.class);
                TopicReader<ArtifactManifest> artifacts =
                        new TopicReader<>(endpoints, TopicCatalog.AGENT_ARTIFACTS, ArtifactManifest.class)) {
            agent.start();

            String eventId = FeedbackCommand.run(WITH_SCREENSHOT, config, "test");

            UserFeedback published = published(reader, eventId);
            assertThat(published.getText()).isEqualTo("menus take seconds to open");
            assertThat(published.getRating()).isEqualTo(2);
            assertThat(published.getCategory()).isEqualTo(FeedbackCategory.SPEED);
            assertThat(published.getVm().getUuid()).isEqualTo(TEST_VM);
            String key = published.getScreenshotKey();
            assertThat(ObjectKeys.ownedBy(key, config.tenant(), config.hostId()))
                    .as(key + " is under this host's prefix")
                    .isTrue();
            byte[] png = await().atMost(Duration.ofSeconds(30)).until(() -> stored(endpoints, key), b -> b != null);
            assertThat(png).startsWith(0x89, 'P', 'N', 'G');
            assertThat(ObjectKeys.evidence(config.tenant(), config.hostId(), sha256(png)))
                    .isEqualTo(key);
            // Stored once, then gone from the host; a screenshot of feedback is no incident's evidence.
            await().atMost(Duration.ofSeconds(10)).until(() -> !Files.exists(state.resolve("artifacts/" + eventId)));
            assertThat(FeedbackInbox.blob(Agent.blobsDir(config), sha256(png))).doesNotExist();
            assertThat(Files.list(Agent.inboxDir(config)).count()).isZero();
            await().atMost(Duration.ofSeconds(10)).until(() -> agent.spool().drained());
            await().during(Duration.ofSeconds(3))
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> artifacts.poll().stream().noneMatch(m -> eventId.equals(m.getIncidentId())));
        }
    }

    @Test
    void aScreenshotTakenWhileTheStoreIsUnreachableIsStoredAfterARestart(Endpoints endpoints) throws Exception {
        Path state = Files.createTempDirectory("vigil-agent-");
        try (TcpForwarder s3 = new TcpForwarder(endpoints.s3Endpoint());
                TopicReader<UserFeedback> reader =
                        new TopicReader<>(endpoints, TopicCatalog.AGENT_FEEDBACK, UserFeedback.class)) {
            AgentConfig config = config(endpoints, state, s3.url("http"));
            String eventId;
            String key;
            try (Agent agent = new Agent(config)) {
                agent.start();
                eventId = FeedbackCommand.run(WITH_SCREENSHOT, config, "test");

                // The record does not wait for the store; the picture waits on disk, staged.
                key = published(reader, eventId).getScreenshotKey();
                assertThat(key).isNotNull();
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> agent.metrics()
                                .scrape()
                                .lines()
                                .anyMatch(l -> l.startsWith("vigil_agent_artifacts_upload_failures_total")
                                        && !l.endsWith(" 0.0")));
                assertThat(state.resolve("artifacts/" + eventId + "/screenshot.json"))
                        .exists();
                assertThat(FeedbackInbox.blob(Agent.blobsDir(config), key.substring(key.length() - 64)))
                        .doesNotExist();
            }
            assertThat(stored(endpoints, key)).isNull();

            s3.up();
            try (Agent agent = new Agent(config)) {
                agent.start();
                String storedKey = key;
                byte[] png = await().atMost(Duration.ofSeconds(60))
                        .until(() -> stored(endpoints, storedKey), b -> b != null);
                assertThat(png).startsWith(0x89, 'P', 'N', 'G');
                assertThat(key).endsWith(sha256(png));
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> !Files.exists(state.resolve("artifacts/" + eventId)));
            }
        }
    }

    @Test
    void withoutAnObjectStoreFeedbackIsPublishedWithoutItsScreenshot(Endpoints endpoints) throws Exception {
        Path state = Files.createTempDirectory("vigil-agent-");
        AgentConfig config = config(endpoints, state, null);
        try (Agent agent = new Agent(config);
                TopicReader<UserFeedback> reader =
                        new TopicReader<>(endpoints, TopicCatalog.AGENT_FEEDBACK, UserFeedback.class)) {
            agent.start();

            String eventId = FeedbackCommand.run(WITH_SCREENSHOT, config, "test");

            UserFeedback published = published(reader, eventId);
            assertThat(published.getText()).isEqualTo("menus take seconds to open");
            assertThat(published.getScreenshotKey()).isNull();
            try (Stream<Path> kept = Files.walk(Agent.blobsDir(config))) {
                assertThat(kept.filter(Files::isRegularFile)).hasSize(1);
            }
            assertThat(Files.list(Agent.inboxDir(config)).count()).isZero();
        }
    }

    @Test
    void anOversizedOrUndecodableFileInTheInboxIsSetAsideAndTheRecordsAfterItArePublished(Endpoints endpoints)
            throws Exception {
        Path state = Files.createTempDirectory("vigil-agent-");
        AgentConfig config = config(endpoints, state, null);
        Path inbox = Files.createDirectories(Agent.inboxDir(config));
        // Written by another process: names sort first, so the agent meets them before the real record.
        Path huge = inbox.resolve("0-huge" + FeedbackInbox.SUFFIX);
        try (var file = new java.io.RandomAccessFile(huge.toFile(), "rw")) {
            // Sparse, and larger than any array: read whole, it would take the inbox's thread down with it.
            file.setLength(4L << 30);
        }
        Path garbage = Files.write(inbox.resolve("1-garbage" + FeedbackInbox.SUFFIX), new byte[] {1, 2, 3});
        try (Agent agent = new Agent(config);
                TopicReader<UserFeedback> reader =
                        new TopicReader<>(endpoints, TopicCatalog.AGENT_FEEDBACK, UserFeedback.class)) {
            agent.start();
            String eventId = FeedbackCommand.run(new String[] {"--vm", "test", "still works"}, config, "test");

            assertThat(published(reader, eventId).getText()).isEqualTo("still works");
            assertThat(huge.resolveSibling(huge.getFileName() + ".rejected")).exists();
            assertThat(garbage.resolveSibling(garbage.getFileName() + ".rejected"))
                    .exists();
            assertThat(huge).doesNotExist();
        }
    }

    @Test
    void refusesBadInputWithMessagesThatSayWhy() throws Exception {
        AgentConfig config = AgentConfig.load(Map.of(
                "VIGIL_AGENT_KAFKA_BOOTSTRAP_SERVERS",
                "unused:9092",
                "VIGIL_AGENT_KAFKA_SECURITY_PROTOCOL",
                "SSL",
                "VIGIL_AGENT_STATE_DIR",
                Files.createTempDirectory("vigil-agent-").toString()));

        assertThatThrownBy(() -> FeedbackCommand.run(new String[] {"--vm", "test", "ok", "--rating", "9"}, config, "t"))
                .hasMessageContaining("--rating must be a whole number from 1 to 5");
        assertThatThrownBy(() -> FeedbackCommand.run(new String[] {"slow"}, config, "t"))
                .hasMessageContaining("--vm is required");
        assertThatThrownBy(() -> FeedbackCommand.run(new String[] {"--vm", "no-such-vm", "slow"}, config, "t"))
                .hasMessageContaining("no VM named or with UUID 'no-such-vm'");
        assertThatThrownBy(() -> FeedbackCommand.run(new String[] {"--vm", "test", "x".repeat(5000)}, config, "t"))
                .hasMessageContaining("at most 4000 characters");
    }

    private static AgentConfig config(Endpoints endpoints, Path state, String s3) {
        Map<String, String> env = new HashMap<>(Map.of(
                "VIGIL_AGENT_CONFIG_FILE",
                endpoints.agentConfigFile(),
                "VIGIL_AGENT_STATE_DIR",
                state.toString(),
                "VIGIL_AGENT_HTTP_PORT",
                "0",
                "VIGIL_AGENT_HOST_ID",
                "feedback-" + UUID.randomUUID()));
        if (s3 != null) {
            env.put("VIGIL_AGENT_S3_ENDPOINT", s3);
            env.put("VIGIL_AGENT_S3_ACCESS_KEY", endpoints.s3AccessKey());
            env.put("VIGIL_AGENT_S3_SECRET_KEY", endpoints.s3SecretKey());
        }
        return AgentConfig.load(env);
    }

    private static UserFeedback published(TopicReader<UserFeedback> reader, String eventId) {
        return await().atMost(Duration.ofSeconds(30))
                .until(
                        () -> reader.poll().stream()
                                .filter(f -> f.getEnvelope().getEventId().equals(eventId))
                                .findFirst()
                                .orElse(null),
                        f -> f != null);
    }

    /** The object's bytes in the evidence bucket, or null while it is not there. */
    private static byte[] stored(Endpoints endpoints, String key) throws Exception {
        try (InputStream in = s3(endpoints)
                .getObject(GetObjectArgs.builder()
                        .bucket(DevstackConfig.ARTIFACTS_BUCKET)
                        .object(key)
                        .build())) {
            return in.readAllBytes();
        } catch (ErrorResponseException e) {
            if ("NoSuchKey".equals(e.errorResponse().code())) {
                return null;
            }
            throw e;
        }
    }

    private static MinioClient s3(Endpoints endpoints) {
        return MinioClient.builder()
                .endpoint(endpoints.s3Endpoint())
                .credentials(endpoints.s3AccessKey(), endpoints.s3SecretKey())
                .build();
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
