package dev.vigil.agent.command;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.vigil.agent.Agent;
import dev.vigil.agent.TopicReader;
import dev.vigil.agent.config.AgentConfig;
import dev.vigil.devstack.DevstackExtension;
import dev.vigil.devstack.Endpoints;
import dev.vigil.schemas.EventSerializer;
import dev.vigil.schemas.TopicCatalog;
import dev.vigil.schemas.agent.CommandAction;
import dev.vigil.schemas.agent.CommandBody;
import dev.vigil.schemas.agent.CommandResult;
import dev.vigil.schemas.agent.CommandStatus;
import dev.vigil.schemas.agent.RefusalReason;
import dev.vigil.schemas.agent.SignedCommand;
import dev.vigil.schemas.common.VmRef;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.DomainInfo.DomainState;

/** Signed commands over the devstack's Kafka: a valid revert works; forged, expired, replayed and others are refused. */
@ExtendWith(DevstackExtension.class)
class CommandsIT {

    private final KeyPair vendor = CommandVerifierTest.ed25519();
    private final KeyPair attacker = CommandVerifierTest.ed25519();
    private final String hostId = "cmd-" + UUID.randomUUID();
    private final String run = UUID.randomUUID().toString().substring(0, 8);

    @Test
    void revertsOnAValidCommandAndRefusesForgedExpiredAndReplayedOnes(Endpoints endpoints) throws Exception {
        AgentConfig config = AgentConfig.load(Map.of(
                "VIGIL_AGENT_CONFIG_FILE",
                endpoints.agentConfigFile(),
                "VIGIL_AGENT_STATE_DIR",
                Files.createTempDirectory("vigil-agent-").toString(),
                "VIGIL_AGENT_HTTP_PORT",
                "0",
                "VIGIL_AGENT_HOST_ID",
                hostId,
                "VIGIL_AGENT_VENDOR_KEYS",
                "vendor-1="
                        + Base64.getEncoder().encodeToString(vendor.getPublic().getEncoded())));
        Connect hypervisor = new Connect("test:///default");
        Domain domain = hypervisor.domainDefineXML("<domain type='test'><name>cmd-" + run
                + "</name><memory>65536</memory><os><type>hvm</type></os></domain>");
        domain.create();
        VmRef vm = VmRef.newBuilder()
                .setUuid(domain.getUUIDString())
                .setName(domain.getName())
                .build();

        try (Agent agent = new Agent(config);
                KafkaProducer<String, SignedCommand> producer = producer(endpoints);
                TopicReader<CommandResult> results =
                        new TopicReader<>(endpoints, TopicCatalog.AGENT_COMMAND_RESULTS, CommandResult.class)) {
            agent.start();
            SignedCommand snapshot = sign(
                    body(
                            "snap",
                            1,
                            CommandAction.TAKE_SNAPSHOT,
                            vm,
                            Instant.now().plusSeconds(300)),
                    vendor);
            send(producer, snapshot);
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> status(results.poll(), "snap") == CommandStatus.SUCCEEDED);
            // The acknowledgement came first, then the outcome.
            assertThat(statuses(results.poll(), "snap"))
                    .containsExactly(CommandStatus.ACCEPTED, CommandStatus.SUCCEEDED);
            assertThat(domain.snapshotListNames()).anyMatch(n -> n.startsWith("vigil-"));

            domain.suspend();
            assertThat(domain.getInfo().state).isEqualTo(DomainState.VIR_DOMAIN_PAUSED);
            send(
                    producer,
                    sign(
                            body(
                                    "forged",
                                    2,
                                    CommandAction.SHUTDOWN,
                                    vm,
                                    Instant.now().plusSeconds(300)),
                            attacker));
            send(
                    producer,
                    sign(
                            body(
                                    "expired",
                                    3,
                                    CommandAction.SHUTDOWN,
                                    vm,
                                    Instant.now().minusSeconds(1)),
                            vendor));
            send(producer, snapshot);
            send(
                    producer,
                    SignedCommand.newBuilder(sign(
                                    body(
                                            "unsigned",
                                            4,
                                            CommandAction.SHUTDOWN,
                                            vm,
                                            Instant.now().plusSeconds(300)),
                                    vendor))
                            .setSignature(ByteBuffer.allocate(0))
                            .build());
            send(
                    producer,
                    sign(
                            body(
                                    "revert",
                                    10,
                                    CommandAction.REVERT_TO_SNAPSHOT,
                                    vm,
                                    Instant.now().plusSeconds(300)),
                            vendor));
            send(
                    producer,
                    sign(
                            body(
                                    "stale",
                                    9,
                                    CommandAction.SHUTDOWN,
                                    vm,
                                    Instant.now().plusSeconds(300)),
                            vendor));

            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                List<CommandResult> seen = results.poll();
                assertThat(refusal(seen, "forged")).isEqualTo(RefusalReason.BAD_SIGNATURE);
                assertThat(refusal(seen, "expired")).isEqualTo(RefusalReason.EXPIRED);
                assertThat(refusal(seen, "snap")).isEqualTo(RefusalReason.REPLAYED);
                assertThat(refusal(seen, "unsigned")).isEqualTo(RefusalReason.UNSIGNED);
                assertThat(status(seen, "revert")).isEqualTo(CommandStatus.SUCCEEDED);
                assertThat(refusal(seen, "stale")).isEqualTo(RefusalReason.OUT_OF_SEQUENCE);
            });
            // The snapshot was taken while running: reverting to it brings the paused VM back to running.
            assertThat(domain.getInfo().state).isEqualTo(DomainState.VIR_DOMAIN_RUNNING);
            assertThat(results.poll())
                    .filteredOn(r -> r.getCommandId().equals(id("forged")))
                    .singleElement()
                    .satisfies(r -> assertThat(r.getMessage()).contains("signature does not match"));
            // A refused command is never acknowledged.
            for (String refused : List.of("forged", "expired", "unsigned", "stale")) {
                assertThat(statuses(results.poll(), refused)).as(refused).containsExactly(CommandStatus.REFUSED);
            }
            assertThat(statuses(results.poll(), "snap"))
                    .containsExactly(CommandStatus.ACCEPTED, CommandStatus.SUCCEEDED, CommandStatus.REFUSED);

            // Relaunch a destroyed VM from its last trusted snapshot, report, then suspend (license expiry).
            domain.destroy();
            send(
                    producer,
                    sign(
                            body(
                                    "relaunch",
                                    11,
                                    CommandAction.RELAUNCH_FROM_SNAPSHOT,
                                    vm,
                                    Instant.now().plusSeconds(300)),
                            vendor));
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> status(results.poll(), "relaunch") == CommandStatus.SUCCEEDED);
            assertThat(domain.getInfo().state).isEqualTo(DomainState.VIR_DOMAIN_RUNNING);
            send(
                    producer,
                    sign(
                            body(
                                    "report",
                                    12,
                                    CommandAction.REPORT,
                                    null,
                                    Instant.now().plusSeconds(300)),
                            vendor));
            send(
                    producer,
                    sign(
                            body(
                                    "suspend",
                                    13,
                                    CommandAction.SUSPEND,
                                    vm,
                                    Instant.now().plusSeconds(300)),
                            vendor));
            CommandBody missing = CommandBody.newBuilder(body(
                            "missing",
                            14,
                            CommandAction.REVERT_TO_SNAPSHOT,
                            vm,
                            Instant.now().plusSeconds(300)))
                    .setArguments(Map.of("snapshot", "no-such-snapshot"))
                    .build();
            send(producer, sign(missing, vendor));
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                List<CommandResult> seen = results.poll();
                assertThat(status(seen, "report")).isEqualTo(CommandStatus.SUCCEEDED);
                assertThat(status(seen, "suspend")).isEqualTo(CommandStatus.SUCCEEDED);
                assertThat(status(seen, "missing")).isEqualTo(CommandStatus.FAILED);
            });
            assertThat(domain.getInfo().state).isEqualTo(DomainState.VIR_DOMAIN_PAUSED);
            assertThat(results.poll())
                    .filteredOn(r -> r.getCommandId().equals(id("missing")) && r.getStatus() == CommandStatus.FAILED)
                    .singleElement()
                    .satisfies(r -> assertThat(r.getMessage()).contains("no snapshot named no-such-snapshot"));
        } finally {
            domain.destroy();
            hypervisor.close();
        }
    }

    private String id(String name) {
        return name + "-" + run;
    }

    private CommandBody body(String name, long sequence, CommandAction action, VmRef vm, Instant expiresAt) {
        return CommandBody.newBuilder()
                .setCommandId(id(name))
                .setTargetHostId(hostId)
                .setVm(vm)
                .setAction(action)
                .setArguments(Map.of())
                .setIssuedAt(Instant.now())
                .setExpiresAt(expiresAt)
                .setSequence(sequence)
                .build();
    }

    private static SignedCommand sign(CommandBody body, KeyPair key) throws Exception {
        return CommandVerifierTest.sign(body, key, "vendor-1");
    }

    private void send(KafkaProducer<String, SignedCommand> producer, SignedCommand command) throws Exception {
        producer.send(new ProducerRecord<>(TopicCatalog.AGENT_COMMANDS.name(), hostId, command))
                .get();
    }

    /** The outcome reported for a command: its first result other than the acknowledgement. */
    private CommandStatus status(List<CommandResult> results, String name) {
        return statuses(results, name).stream()
                .filter(s -> s != CommandStatus.ACCEPTED)
                .findFirst()
                .orElse(null);
    }

    private List<CommandStatus> statuses(List<CommandResult> results, String name) {
        return results.stream()
                .filter(r -> r.getCommandId().equals(id(name)))
                .map(CommandResult::getStatus)
                .toList();
    }

    private RefusalReason refusal(List<CommandResult> results, String name) {
        return results.stream()
                .filter(r -> r.getCommandId().equals(id(name)) && r.getStatus() == CommandStatus.REFUSED)
                .map(CommandResult::getRefusal)
                .findFirst()
                .orElse(null);
    }

    private static KafkaProducer<String, SignedCommand> producer(Endpoints endpoints) {
        Properties props = new Properties();
        props.putAll(endpoints.kafkaClient());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        return new KafkaProducer<>(props, new StringSerializer(), new EventSerializer<>(SignedCommand.class));
    }
}
