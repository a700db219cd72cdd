package dev.vigil.dispatch;

import static dev.vigil.dispatch.CommandsIT.awaitState;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.schemas.Envelopes;
import dev.vigil.schemas.TopicCatalog;
import dev.vigil.schemas.common.Source;
import dev.vigil.schemas.crash.CollectionPolicyReason;
import dev.vigil.schemas.crash.CollectionPolicyRequest;
import dev.vigil.schemas.crash.CrashTriaged;
import dev.vigil.schemas.crash.DumpLevel;
import dev.vigil.schemas.crash.TriageKind;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Progressive collection closed: crash triage's per-bucket requests, as triage publishes them, become one
 * SET_COLLECTION_POLICY per host that a real agent writes as its policy.
 */
@QuarkusTest
@QuarkusTestResource(DevstackTestResource.class)
@QuarkusTestResource(TestKeys.class)
class CollectionIT {

    @Test
    void bucketsRequestsCombinePerHostIntoTheAgentsPolicy() throws Exception {
        String hostId = "crashy-" + UUID.randomUUID();
        String other = "other-" + UUID.randomUUID();
        String bucketA = UUID.randomUUID().toString();
        String bucketB = UUID.randomUUID().toString();
        try (RunningAgent agent = RunningAgent.start(hostId)) {
            Path policy = agent.stateDir.resolve("collection-policy.properties");

            publish(request(bucketA, 1, DumpLevel.FULL, List.of("crash"), List.of(hostId, other)));
            publish(request(bucketB, 1, DumpLevel.NONE, List.of("crash", "hang"), List.of(hostId)));

            await().atMost(Duration.ofSeconds(30))
                    .until(() -> policy(policy).equals(Map.of("dump.crash", "full", "dump.hang", "none")));
            List<Map<String, Object>> commands = collectionCommands(hostId);
            String last = (String) commands.get(0).get("id");
            assertThat(awaitState(last, "SUCCEEDED").getString("message")).startsWith("collection policy set");
            assertThat(commands.get(0).get("arguments")).isEqualTo(Map.of("dump.crash", "full", "dump.hang", "none"));
            assertThat(collectionCommands(other).get(0).get("arguments")).isEqualTo(Map.of("dump.crash", "full"));

            // Bucket A has its full dumps: it asks for none, and the hosts' policies follow.
            publish(request(bucketA, 2, DumpLevel.NONE, List.of("crash"), List.of(hostId, other)));
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> policy(policy).equals(Map.of("dump.crash", "none", "dump.hang", "none")));
            assertThat(collectionCommands(other).get(0).get("arguments")).isEqualTo(Map.of("dump.crash", "none"));

            // A redelivered older request and a request that changes nothing make no command.
            int before = collectionCommands(hostId).size();
            publish(request(bucketA, 1, DumpLevel.FULL, List.of("crash"), List.of(hostId)));
            publish(request(bucketB, 2, DumpLevel.NONE, List.of("crash", "hang"), List.of(hostId)));
            String marker = UUID.randomUUID().toString();
            publish(request(marker, 1, DumpLevel.KERNEL, List.of("watchdog"), List.of(other)));
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> collectionCommands(other)
                            .get(0)
                            .get("arguments")
                            .equals(Map.of("dump.crash", "none", "dump.watchdog", "kernel")));
            assertThat(collectionCommands(hostId)).hasSize(before);
            assertThat(collectionCommands(hostId))
                    .allSatisfy(c -> assertThat(c.get("issuedBy")).isEqualTo("crash-triage"));
        }
    }

    private static List<Map<String, Object>> collectionCommands(String host) {
        return Staff.analyst()
                .queryParam("host", host)
                .get("/api/v1/commands")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .<Map<String, Object>>getList("findAll { it.action == 'SET_COLLECTION_POLICY' }");
    }

    private static Map<String, String> policy(Path file) throws Exception {
        if (!Files.exists(file)) {
            return Map.of();
        }
        Properties properties = new Properties();
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.ISO_8859_1)) {
            properties.load(in);
        }
        Map<String, String> map = new java.util.TreeMap<>();
        properties.forEach((k, v) -> map.put((String) k, (String) v));
        return map;
    }

    private static CrashTriaged request(
            String bucket, long sequence, DumpLevel dump, List<String> triggers, List<String> hosts) {
        return CrashTriaged.newBuilder()
                .setEnvelope(Envelopes.create(
                        CrashTriaged.class,
                        CrashTriaged.getClassSchema(),
                        Source.newBuilder()
                                .setHostId("vigil-crash-triage")
                                .setAgentId("vigil-crash-triage")
                                .setAgentVersion("1")
                                .build(),
                        "vendor",
                        Instant.now()))
                .setBucketId(bucket)
                .setKind(TriageKind.COLLECTION_POLICY)
                .setTitle("general protection fault in acme_list_del")
                .setReportCount(sequence)
                .setCollectionPolicy(CollectionPolicyRequest.newBuilder()
                        .setDump(dump)
                        .setReason(
                                dump == DumpLevel.FULL
                                        ? CollectionPolicyReason.BELOW_FULL_DUMP_TARGET
                                        : CollectionPolicyReason.FULL_DUMP_TARGET_REACHED)
                        .setSequence(sequence)
                        .setTriggers(triggers)
                        .setHostIds(hosts)
                        .setVmUuids(List.of())
                        .setFullDumps(sequence == 1 ? 0 : 5)
                        .setFullDumpTarget(5)
                        .build())
                .build();
    }

    private static void publish(CrashTriaged outcome) throws Exception {
        Topics.publish(TopicCatalog.CRASH_TRIAGED, outcome.getBucketId(), outcome, outcome.getEnvelope());
    }
}
