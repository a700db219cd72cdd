package dev.vigil.agent.feedback;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.vigil.agent.PackagedAgent;
import dev.vigil.agent.TopicReader;
import dev.vigil.devstack.DevstackExtension;
import dev.vigil.devstack.Endpoints;
import dev.vigil.schemas.Envelopes;
import dev.vigil.schemas.TopicCatalog;
import dev.vigil.schemas.agent.FeedbackCategory;
import dev.vigil.schemas.agent.UserFeedback;
import dev.vigil.schemas.common.Source;
import dev.vigil.schemas.common.VmRef;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code kill -9} of the agent process while it captures and publishes: after a restart every captured record
 * reaches Kafka, each event id at least once (consumers dedupe by event id).
 */
@ExtendWith(DevstackExtension.class)
class AgentCrashIT {

    private static final int BEFORE_KILL = 300;
    private static final int WHILE_DOWN = 100;

    @Test
    void aKilledAgentLosesNothingItCaptured(Endpoints endpoints) throws Exception {
        Path state = Files.createTempDirectory("vigil-agent-");
        Path inbox = state.resolve("inbox");
        String hostId = "crash-" + UUID.randomUUID();
        Set<String> expected = new HashSet<>();

        Process first = startAgent(endpoints, state, hostId);
        for (int i = 0; i < BEFORE_KILL; i++) {
            expected.add(drop(inbox, hostId, "before kill " + i));
        }
        // Kill while the inbox is being drained into the spool and the spool into Kafka.
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(5))
                .until(() -> pending(inbox) < BEFORE_KILL - 50);
        first.destroyForcibly().waitFor();
        int leftInInbox = pending(inbox);

        for (int i = 0; i < WHILE_DOWN; i++) {
            expected.add(drop(inbox, hostId, "while down " + i));
        }
        Process second = startAgent(endpoints, state, hostId);
        try (TopicReader<UserFeedback> reader =
                new TopicReader<>(endpoints, TopicCatalog.AGENT_FEEDBACK, UserFeedback.class)) {
            await().atMost(Duration.ofSeconds(90))
                    .untilAsserted(() -> assertThat(ids(reader.poll(), hostId).keySet())
                            .containsExactlyInAnyOrderElementsOf(expected));
            Map<String, Long> counts = ids(reader.poll(), hostId);
            long duplicates = counts.values().stream().mapToLong(c -> c - 1).sum();
            System.out.printf(
                    "kill -9 test: %d records, %d still in the inbox at the kill, %d duplicate deliveries%n",
                    expected.size(), leftInInbox, duplicates);
            assertThat(pending(inbox)).isZero();
        } finally {
            second.destroy();
            second.waitFor();
        }
    }

    private static Map<String, Long> ids(List<UserFeedback> records, String hostId) {
        return records.stream()
                .filter(f -> f.getEnvelope().getSource().getHostId().equals(hostId))
                .map(f -> f.getEnvelope().getEventId())
                .collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
    }

    private static String drop(Path inbox, String hostId, String text) throws Exception {
        Source source = Source.newBuilder()
                .setHostId(hostId)
                .setAgentId(hostId + "-agent")
                .setAgentVersion("test")
                .build();
        UserFeedback feedback = UserFeedback.newBuilder()
                .setEnvelope(Envelopes.create(
                        UserFeedback.class, UserFeedback.getClassSchema(), source, "acme", Instant.now()))
                .setVm(VmRef.newBuilder()
                        .setUuid("6695eb01-f6a4-8304-79aa-97f2502e193f")
                        .setName("test")
                        .build())
                .setText(text)
                .setRating(3)
                .setCategory(FeedbackCategory.STABILITY)
                .setScreenshotKey(null)
                .build();
        FeedbackCommand.writeToInbox(inbox, feedback);
        return feedback.getEnvelope().getEventId();
    }

    private static int pending(Path inbox) throws Exception {
        try (Stream<Path> files = Files.list(inbox)) {
            return (int) files.filter(p -> p.toString().endsWith(FeedbackInbox.SUFFIX))
                    .count();
        }
    }

    private static Process startAgent(Endpoints endpoints, Path state, String hostId) throws Exception {
        return PackagedAgent.start(endpoints, state, hostId, Map.of());
    }
}
