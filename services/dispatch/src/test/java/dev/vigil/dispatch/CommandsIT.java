package dev.vigil.dispatch;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.vigil.devstack.Devstack;
import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.schemas.DeadLetterHeaders;
import dev.vigil.schemas.Envelopes;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.TopicCatalog;
import dev.vigil.schemas.agent.CommandBody;
import dev.vigil.schemas.agent.CommandResult;
import dev.vigil.schemas.agent.CommandStatus;
import dev.vigil.schemas.agent.SignedCommand;
import dev.vigil.schemas.common.Source;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.libvirt.Domain;

/** Signed commands from dispatch through a real agent on libvirt's test hypervisor, and back as tracked states. */
@QuarkusTest
@QuarkusTestResource(DevstackTestResource.class)
@QuarkusTestResource(TestKeys.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CommandsIT {

    private RunningAgent agent;

    /** An enrolled host's agent, started with the first test that needs it (REST Assured knows the port by then). */
    @BeforeEach
    void enrolAndStartAnAgent() throws Exception {
        if (agent == null) {
            agent = RunningAgent.start("host-" + UUID.randomUUID());
        }
    }

    @AfterAll
    void stopTheAgent() throws Exception {
        if (agent != null) {
            agent.close();
        }
    }

    @Test
    void aCommandIsDeliveredAcknowledgedAndDoneByTheAgent() throws Exception {
        Domain vm = agent.vm("snap");

        JsonPath issued = issue("TAKE_SNAPSHOT", target(agent.hostId, vm.getUUIDString()), Map.of(), null)
                .then()
                .statusCode(201)
                .extract()
                .jsonPath();

        assertThat(issued.getString("commands[0].state")).isIn("ISSUED", "DELIVERED", "ACKNOWLEDGED", "SUCCEEDED");
        assertThat(issued.getString("commands[0].issuedBy")).isEqualTo("otto@vendor.example");
        String id = issued.getString("commands[0].id");
        JsonPath done = awaitState(id, "SUCCEEDED");
        assertThat(done.getString("message")).startsWith("took snapshot vigil-");
        assertThat(Instant.parse(done.getString("deliveredAt")))
                .isBeforeOrEqualTo(Instant.parse(done.getString("acknowledgedAt")));
        assertThat(Instant.parse(done.getString("acknowledgedAt")))
                .isBeforeOrEqualTo(Instant.parse(done.getString("completedAt")));
        assertThat(vm.snapshotListNames()).anyMatch(n -> n.startsWith("vigil-"));
        // The VM's own commands, as its timeline shows them.
        List<String> vmCommands = Staff.analyst()
                .queryParam("vm", vm.getUUIDString())
                .get("/api/v1/commands")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .getList("id");
        assertThat(vmCommands).containsExactly(id);
        vm.destroy();
    }

    @Test
    void aHostsCommandsArriveInSequenceOrderAndTheAgentsFailuresAreReported() throws Exception {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            ids.add(issue("REPORT", target(agent.hostId, null), Map.of(), null)
                    .then()
                    .statusCode(201)
                    .extract()
                    .path("commands[0].id"));
        }
        String unknownVm = issue(
                        "SUSPEND", target(agent.hostId, UUID.randomUUID().toString()), Map.of(), null)
                .then()
                .statusCode(201)
                .extract()
                .path("commands[0].id");
        String install = issue("INSTALL", target(agent.hostId, null), Map.of("release", "1.0"), null)
                .then()
                .statusCode(201)
                .extract()
                .path("commands[0].id");

        for (String id : ids) {
            assertThat(awaitState(id, "SUCCEEDED").getString("message")).startsWith("reported ");
        }
        assertThat(awaitState(unknownVm, "FAILED").getString("message")).contains("no VM with UUID");
        // This agent's host never ran `vigil-agent enroll` (it trusts no repository root): it acknowledges the
        // install and says why it cannot do it.
        JsonPath refusedInstall = awaitState(install, "FAILED");
        assertThat(refusedInstall.getString("acknowledgedAt")).isNotNull();
        assertThat(refusedInstall.getString("message")).contains("not enrolled: run vigil-agent enroll");
        List<Long> sequences = Staff.analyst()
                .queryParam("host", agent.hostId)
                .get("/api/v1/commands")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .getList("sequence", Long.class);
        assertThat(sequences).doesNotHaveDuplicates().isSortedAccordingTo(java.util.Comparator.reverseOrder());
    }

    /**
     * An agent's request for its commands waits at dispatch until one is issued for its host, and gets only its own
     * host's: nothing in the request names a host, the host token does.
     */
    @Test
    void aHostFetchesItsOwnCommandsAndOnlyThose() throws Exception {
        String host = "waiting-" + UUID.randomUUID();
        String token = Enrolments.hostToken(host);
        String other = Enrolments.hostToken("other-" + UUID.randomUUID());
        var waiting = java.util.concurrent.CompletableFuture.supplyAsync(() -> Enrolments.asHost(token)
                .get("/api/v1/agent/commands?after=0&wait=30")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath());
        // The request is waiting at dispatch (it answered nothing yet) when the command is issued.
        Thread.sleep(1_000);
        assertThat(waiting).isNotDone();
        String id = issue("REPORT", target(host, null), Map.of(), null)
                .then()
                .statusCode(201)
                .extract()
                .path("commands[0].id");

        JsonPath batch = waiting.get(20, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(batch.getList("commands.id")).containsExactly(id);
        SignedCommand signed = EventCodec.of(SignedCommand.class)
                .decode(java.util.Base64.getDecoder().decode(batch.getString("commands[0].signed")));
        assertThat(EventCodec.of(CommandBody.class)
                        .decode(signed.getBody().array())
                        .getTargetHostId())
                .isEqualTo(host);
        Staff.analyst().get("/api/v1/commands/{id}", id).then().statusCode(200).body("state", equalTo("DELIVERED"));
        long sequence = batch.getLong("commands[0].sequence");
        // Asked again from the start it is there still (until the agent answers it); from its sequence on, not.
        Enrolments.asHost(token)
                .get("/api/v1/agent/commands?after=0")
                .then()
                .statusCode(200)
                .body("commands.id", org.hamcrest.Matchers.contains(id));
        Enrolments.asHost(token)
                .get("/api/v1/agent/commands?after=" + sequence)
                .then()
                .statusCode(200)
                .body("commands", org.hamcrest.Matchers.empty());
        // Another host sees none of it, and nobody without a host token sees anything.
        Enrolments.asHost(other)
                .get("/api/v1/agent/commands?after=0")
                .then()
                .statusCode(200)
                .body("commands", org.hamcrest.Matchers.empty());
        given().get("/api/v1/agent/commands").then().statusCode(401);
        Staff.operator().get("/api/v1/agent/commands").then().statusCode(403);
        // Bad positions and waits are named.
        Enrolments.asHost(token)
                .get("/api/v1/agent/commands?after=abc")
                .then()
                .statusCode(400)
                .contentType("application/problem+json")
                .body("title", equalTo("Bad after"));
        Enrolments.asHost(token)
                .get("/api/v1/agent/commands?wait=3600")
                .then()
                .statusCode(400)
                .body("title", equalTo("Bad wait"));
    }

    @Test
    void aCommandNoAgentTakesExpires() throws Exception {
        String product = Vendor.product();
        String silent = "silent-" + UUID.randomUUID();
        Enrolments.host(product, "beta", silent);

        String id = issue("REPORT", target(silent, null), Map.of(), "PT1S")
                .then()
                .statusCode(201)
                .body("commands[0].state", equalTo("ISSUED"))
                .extract()
                .path("commands[0].id");

        JsonPath expired = awaitState(id, "EXPIRED");
        assertThat(expired.getString("acknowledgedAt")).isNull();
        assertThat(expired.getString("deliveredAt")).isNull();
    }

    @Test
    void badCommandsAreRefusedBeforeAnythingIsSent() {
        issue("REPORT", target("no-such-host-" + UUID.randomUUID(), null), Map.of(), null)
                .then()
                .statusCode(422)
                .contentType("application/problem+json")
                .body("title", equalTo("Unknown host"));
        issue("SUSPEND", target(agent.hostId, null), Map.of(), null)
                .then()
                .statusCode(422)
                .body("detail", containsString("vmUuid"));
        issue("SELF_DESTRUCT", target(agent.hostId, null), Map.of(), null)
                .then()
                .statusCode(400)
                .body("title", equalTo("Bad command"));
        issue("REPORT", target(agent.hostId, null), Map.of(), "soon")
                .then()
                .statusCode(400)
                .body("title", equalTo("Bad expiresIn"));
        issue("REPORT", target(agent.hostId, null), Map.of(), "P30D")
                .then()
                .statusCode(422)
                .body("title", equalTo("Bad expiry"));
        Staff.analyst()
                .contentType("application/json")
                .body(Map.of("action", "REPORT", "targets", List.of(target(agent.hostId, null))))
                .post("/api/v1/commands")
                .then()
                .statusCode(403);
        given().get("/api/v1/commands").then().statusCode(401);
        Staff.analyst().get("/api/v1/commands/not-a-uuid").then().statusCode(400);
        Staff.analyst().get("/api/v1/commands?limit=abc").then().statusCode(400).body("title", equalTo("Bad limit"));
        Staff.analyst().get("/api/v1/commands?vm=web-2").then().statusCode(400).body("title", equalTo("Bad vm"));
    }

    @Test
    void aResultForACommandDispatchNeverIssuedIsDeadLetteredWithItsReason() throws Exception {
        String commandId = UUID.randomUUID().toString();
        CommandResult forged = result(commandId, "stranger");
        Topics.publish(TopicCatalog.AGENT_COMMAND_RESULTS, commandId, forged, forged.getEnvelope());

        ConsumerRecord<String, byte[]> dead = Topics.read(
                        TopicCatalog.INGESTION_DEAD_LETTER, r -> commandId.equals(r.key()), 1)
                .get(0);

        assertThat(header(dead, DeadLetterHeaders.REASON)).isEqualTo("UNKNOWN_COMMAND");
        assertThat(header(dead, DeadLetterHeaders.CONSUMER)).isEqualTo("vigil-dispatch.vigil.agent.command-results.v1");
        assertThat(header(dead, DeadLetterHeaders.DETAIL)).contains(commandId).contains("stranger");
        assertThat(EventCodec.of(CommandResult.class).decode(dead.value()).getMessage())
                .isEqualTo("did something");
    }

    /**
     * A host answers only its own commands: a result sealed by another host is refused as UNKNOWN_COMMAND, a result
     * that claims the right host under another host's seal as IDENTITY_MISMATCH, and the command is left as it was.
     */
    @Test
    void anotherHostCannotAnswerAHostsCommand() throws Exception {
        String silent = "silent-" + UUID.randomUUID();
        Enrolments.host(Vendor.product(), "beta", silent);
        String id = issue("REPORT", target(silent, null), Map.of(), null)
                .then()
                .statusCode(201)
                .body("commands[0].state", equalTo("ISSUED"))
                .extract()
                .path("commands[0].id");

        CommandResult asStranger = result(id, "stranger");
        Topics.publish(TopicCatalog.AGENT_COMMAND_RESULTS, id, asStranger, asStranger.getEnvelope());
        CommandResult forged = result(id, silent);
        Topics.publish(
                TopicCatalog.AGENT_COMMAND_RESULTS,
                id,
                forged,
                forged.getEnvelope(),
                Devstack.shared().endpoints().recordKeys().hostKey("acme", "stranger"));

        // Dispatch's refusals (ingestion, which reads command results too, refuses the forged seal on its own).
        List<ConsumerRecord<String, byte[]>> dead = Topics.read(
                TopicCatalog.INGESTION_DEAD_LETTER,
                r -> id.equals(r.key())
                        && "vigil-dispatch.vigil.agent.command-results.v1"
                                .equals(header(r, DeadLetterHeaders.CONSUMER)),
                2);
        assertThat(dead.stream()
                        .map(r -> header(r, DeadLetterHeaders.REASON) + ": " + header(r, DeadLetterHeaders.DETAIL))
                        .toList())
                .containsExactlyInAnyOrder(
                        "UNKNOWN_COMMAND: no command " + id + " was issued by dispatch to host stranger (its result"
                                + " SUCCEEDED)",
                        "IDENTITY_MISMATCH: the record's seal is not that of host " + silent + " of tenant acme: a"
                                + " host may only write as itself");
        Staff.analyst().get("/api/v1/commands/{id}", id).then().statusCode(200).body("state", equalTo("ISSUED"));
    }

    private static CommandResult result(String commandId, String hostId) {
        return CommandResult.newBuilder()
                .setEnvelope(Envelopes.create(
                        CommandResult.class,
                        CommandResult.getClassSchema(),
                        Source.newBuilder()
                                .setHostId(hostId)
                                .setAgentId(hostId + "-agent")
                                .setAgentVersion("1")
                                .build(),
                        "acme",
                        Instant.now()))
                .setCommandId(commandId)
                .setStatus(CommandStatus.SUCCEEDED)
                .setMessage("did something")
                .setCompletedAt(Instant.now())
                .build();
    }

    static io.restassured.response.Response issue(
            String action, Map<String, Object> target, Map<String, String> arguments, String expiresIn) {
        Map<String, Object> body = new java.util.HashMap<>();
        body.put("action", action);
        body.put("targets", List.of(target));
        body.put("arguments", arguments);
        if (expiresIn != null) {
            body.put("expiresIn", expiresIn);
        }
        return Staff.operator().contentType("application/json").body(body).post("/api/v1/commands");
    }

    static Map<String, Object> target(String hostId, String vmUuid) {
        Map<String, Object> target = new java.util.HashMap<>();
        target.put("hostId", hostId);
        if (vmUuid != null) {
            target.put("vmUuid", vmUuid);
        }
        return target;
    }

    static JsonPath awaitState(String id, String state) {
        return awaitState(id, state::equals);
    }

    /** The command once its state is one {@code wanted} accepts, within 30 s. */
    static JsonPath awaitState(String id, java.util.function.Predicate<String> wanted) {
        return await().atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(200))
                .until(
                        () -> Staff.analyst()
                                .get("/api/v1/commands/" + id)
                                .then()
                                .statusCode(200)
                                .extract()
                                .jsonPath(),
                        j -> wanted.test(j.getString("state")));
    }

    private static String header(ConsumerRecord<String, byte[]> record, String name) {
        return new String(record.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
    }
}
