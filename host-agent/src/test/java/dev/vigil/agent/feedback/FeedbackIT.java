package dev.vigil.agent.feedback;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.vigil.agent.Agent;
import dev.vigil.agent.TopicReader;
import dev.vigil.agent.config.AgentConfig;
import dev.vigil.devstack.DevstackExtension;
import dev.vigil.devstack.Endpoints;
import dev.vigil.schemas.TopicCatalog;
import dev.vigil.schemas.agent.FeedbackCategory;
import dev.vigil.schemas.agent.UserFeedback;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@code vigil-agent feedback} against libvirt's test hypervisor and the devstack's Kafka. */
@ExtendWith(DevstackExtension.class)
class FeedbackIT {

    @Test
    void publishesAUsersCommentWithAHypervisorScreenshot(Endpoints endpoints) throws Exception {
        Path state = Files.createTempDirectory("vigil-agent-");
        AgentConfig config = AgentConfig.load(Map.of(
                "VIGIL_AGENT_KAFKA_BOOTSTRAP_SERVERS",
                endpoints.kafkaBootstrapServers(),
                "VIGIL_AGENT_STATE_DIR",
                state.toString(),
                "VIGIL_AGENT_HTTP_PORT",
                "0",
                "VIGIL_AGENT_HOST_ID",
                "feedback-" + UUID.randomUUID()));
        try (Agent agent = new Agent(config);
                TopicReader<UserFeedback> reader =
                        new TopicReader<>(endpoints, TopicCatalog.AGENT_FEEDBACK, UserFeedback.class)) {
            agent.start();

            String eventId = FeedbackCommand.run(
                    new String[] {
                        "--vm",
                        "test",
                        "menus take seconds to open",
                        "--rating",
                        "2",
                        "--category",
                        "speed",
                        "--screenshot"
                    },
                    config,
                    "test");

            await().atMost(Duration.ofSeconds(30))
                    .untilAsserted(() -> assertThat(reader.poll())
                            .filteredOn(f -> f.getEnvelope().getEventId().equals(eventId))
                            .singleElement()
                            .satisfies(f -> {
                                assertThat(f.getText()).isEqualTo("menus take seconds to open");
                                assertThat(f.getRating()).isEqualTo(2);
                                assertThat(f.getCategory()).isEqualTo(FeedbackCategory.SPEED);
                                assertThat(f.getVm().getUuid()).isEqualTo("6695eb01-f6a4-8304-79aa-97f2502e193f");
                                assertThat(f.getScreenshotKey()).matches("sha256/[0-9a-f]{2}/[0-9a-f]{64}");
                                byte[] png = Files.readAllBytes(
                                        state.resolve("blobs").resolve(f.getScreenshotKey()));
                                assertThat(Arrays.copyOf(png, 4)).isEqualTo(new byte[] {(byte) 0x89, 'P', 'N', 'G'});
                            }));
            assertThat(Files.list(Agent.inboxDir(config)).count()).isZero();
        }
    }

    @Test
    void refusesBadInputWithMessagesThatSayWhy() throws Exception {
        AgentConfig config = AgentConfig.load(Map.of(
                "VIGIL_AGENT_KAFKA_BOOTSTRAP_SERVERS",
                "unused:9092",
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
}
