package dev.vigil.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.dispatch.domain.Command;
import dev.vigil.dispatch.domain.CommandState;
import dev.vigil.dispatch.persistence.CommandRepository;
import dev.vigil.dispatch.persistence.Database;
import dev.vigil.schemas.CommandSignatures;
import dev.vigil.schemas.Envelopes;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.TopicCatalog;
import dev.vigil.schemas.agent.CommandAction;
import dev.vigil.schemas.agent.CommandBody;
import dev.vigil.schemas.agent.CommandResult;
import dev.vigil.schemas.agent.CommandStatus;
import dev.vigil.schemas.agent.SignedCommand;
import dev.vigil.schemas.common.Source;
import dev.vigil.schemas.common.VmRef;
import dev.vigil.schemas.delivery.SigningKey;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.nio.ByteBuffer;
import java.security.PrivateKey;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;
import org.libvirt.Domain;
import org.libvirt.DomainInfo.DomainState;

/**
 * What a real agent does with every command dispatch's feed can serve it, including what only a compromised dispatch
 * database would: the valid ones run (snapshot, revert, relaunch, suspend), and forged, unsigned, expired, replayed,
 * stale and other hosts' commands are refused with their reason, without stopping the ones after them. The rows are
 * written straight into dispatch's command table, as an attacker with that database would, and announced as
 * dispatch announces a new command.
 */
@QuarkusTest
@QuarkusTestResource(DevstackTestResource.class)
@QuarkusTestResource(TestKeys.class)
class AgentCommandsIT {

    @Inject
    Database db;

    private final SigningKey vendor =
            SigningKey.parse(ConfigProvider.getConfig().getValue("vigil.dispatch.keys.commands", String.class));
    /** A key of the attacker's, presented under the vendor's key id. */
    private final SigningKey attacker;

    AgentCommandsIT() {
        SigningKey own = SigningKey.generate();
        attacker = new SigningKey(vendor.keyId(), own.privateKey(), own.publicKey());
    }

    private long row;

    @Test
    void theAgentRunsValidCommandsAndRefusesForgedExpiredReplayedAndStaleOnes() throws Exception {
        try (RunningAgent agent = RunningAgent.start("host-" + UUID.randomUUID())) {
            Domain domain = agent.vm("cmd");
            VmRef vm = VmRef.newBuilder()
                    .setUuid(domain.getUUIDString())
                    .setName(domain.getName())
                    .build();
            try {
                SignedCommand snapshot = sign(body(agent, CommandAction.TAKE_SNAPSHOT, vm, 1, 300), vendor);
                String snap = serve(agent, snapshot);
                assertThat(outcome(snap).getString("state")).isEqualTo("SUCCEEDED");
                assertThat(domain.snapshotListNames()).anyMatch(n -> n.startsWith("vigil-"));

                domain.suspend();
                String forged = serve(agent, sign(body(agent, CommandAction.SHUTDOWN, vm, 2, 300), attacker));
                String expired = serve(agent, sign(body(agent, CommandAction.SHUTDOWN, vm, 3, -1), vendor));
                String replayed = serve(agent, snapshot);
                SignedCommand signed = sign(body(agent, CommandAction.SHUTDOWN, vm, 4, 300), vendor);
                String unsigned = serve(
                        agent,
                        SignedCommand.newBuilder()
                                .setEnvelope(signed.getEnvelope())
                                .setKeyId(signed.getKeyId())
                                .setBody(signed.getBody())
                                .setSignature(ByteBuffer.allocate(0))
                                .build());
                CommandBody elsewhere = builder(agent, CommandAction.SHUTDOWN, vm, 5, 300)
                        .setTargetHostId("another-host")
                        .build();
                String otherHost = serve(agent, sign(elsewhere, vendor));
                String revert = serve(agent, sign(body(agent, CommandAction.REVERT_TO_SNAPSHOT, vm, 10, 300), vendor));
                String stale = serve(agent, sign(body(agent, CommandAction.SHUTDOWN, vm, 9, 300), vendor));

                assertThat(refusal(forged)).isEqualTo("BAD_SIGNATURE");
                assertThat(outcome(forged).getString("message")).contains("signature does not match");
                assertThat(refusal(expired)).isEqualTo("EXPIRED");
                assertThat(refusal(unsigned)).isEqualTo("UNSIGNED");
                assertThat(refusal(otherHost)).isEqualTo("WRONG_HOST");
                assertThat(outcome(revert).getString("state")).isEqualTo("SUCCEEDED");
                assertThat(refusal(stale)).isEqualTo("OUT_OF_SEQUENCE");
                // A refused command is never acknowledged.
                for (String refused : List.of(forged, expired, unsigned, otherHost, stale)) {
                    assertThat(outcome(refused).getString("acknowledgedAt"))
                            .as(refused)
                            .isNull();
                }
                // The replay carries the snapshot's own id, so its refusal is a result for that (finished) command.
                assertThat(replayed).isEqualTo(snap);
                List<CommandResult> results =
                        Topics.read(TopicCatalog.AGENT_COMMAND_RESULTS, r -> snap.equals(r.key()), 3).stream()
                                .map(r -> EventCodec.of(CommandResult.class).decode(r.value()))
                                .toList();
                assertThat(results)
                        .extracting(CommandResult::getStatus)
                        .containsExactly(CommandStatus.ACCEPTED, CommandStatus.SUCCEEDED, CommandStatus.REFUSED);
                assertThat(results.get(2).getRefusal().name()).isEqualTo("REPLAYED");
                // The snapshot was taken while running: reverting to it brings the paused VM back to running.
                assertThat(domain.getInfo().state).isEqualTo(DomainState.VIR_DOMAIN_RUNNING);

                // Relaunch a destroyed VM from its last trusted snapshot, then suspend it (a license's end).
                domain.destroy();
                String relaunch =
                        serve(agent, sign(body(agent, CommandAction.RELAUNCH_FROM_SNAPSHOT, vm, 11, 300), vendor));
                assertThat(outcome(relaunch).getString("state")).isEqualTo("SUCCEEDED");
                assertThat(domain.getInfo().state).isEqualTo(DomainState.VIR_DOMAIN_RUNNING);
                String suspend = serve(agent, sign(body(agent, CommandAction.SUSPEND, vm, 12, 300), vendor));
                CommandBody missingSnapshot = builder(agent, CommandAction.REVERT_TO_SNAPSHOT, vm, 13, 300)
                        .setArguments(Map.of("snapshot", "no-such-snapshot"))
                        .build();
                String missing = serve(agent, sign(missingSnapshot, vendor));
                assertThat(outcome(suspend).getString("state")).isEqualTo("SUCCEEDED");
                assertThat(outcome(missing).getString("state")).isEqualTo("FAILED");
                assertThat(outcome(missing).getString("message")).contains("no snapshot named no-such-snapshot");
                assertThat(domain.getInfo().state).isEqualTo(DomainState.VIR_DOMAIN_PAUSED);
            } finally {
                domain.destroy();
            }
        }
    }

    /**
     * Writes a command row for the agent's host as dispatch's database would hold it, announces it, and returns the id
     * inside the signed command (the one its results name).
     */
    private String serve(RunningAgent agent, SignedCommand signed) {
        CommandBody body =
                EventCodec.of(CommandBody.class).decode(signed.getBody().array());
        long sequence = ++row;
        Instant now = Instant.now();
        UUID id = UUID.fromString(body.getCommandId());
        boolean known = db.read(c -> CommandRepository.find(c, id)) != null;
        Command command = new Command(
                known ? UUID.randomUUID() : id,
                agent.hostId,
                body.getVm() == null ? null : body.getVm().getUuid(),
                body.getAction().name(),
                Map.of(),
                sequence,
                CommandState.ISSUED,
                Command.OPERATOR,
                null,
                "mallory@db.example",
                now,
                now.plusSeconds(300),
                null,
                null,
                null,
                null,
                null);
        db.transaction(c -> {
            CommandRepository.insert(
                    c, command, EventCodec.of(SignedCommand.class).encode(signed));
            CommandRepository.announce(c, agent.hostId);
            return null;
        });
        return body.getCommandId();
    }

    private CommandBody body(RunningAgent agent, CommandAction action, VmRef vm, long sequence, long validSeconds) {
        return builder(agent, action, vm, sequence, validSeconds).build();
    }

    private static CommandBody.Builder builder(
            RunningAgent agent, CommandAction action, VmRef vm, long sequence, long validSeconds) {
        return CommandBody.newBuilder()
                .setCommandId(UUID.randomUUID().toString())
                .setTargetHostId(agent.hostId)
                .setVm(action == CommandAction.REPORT ? null : vm)
                .setAction(action)
                .setArguments(Map.of())
                .setIssuedAt(Instant.now())
                .setExpiresAt(Instant.now().plusSeconds(validSeconds))
                .setSequence(sequence);
    }

    private static SignedCommand sign(CommandBody body, SigningKey key) throws Exception {
        PrivateKey signing = key.privateKey();
        return CommandSignatures.sign(
                body,
                key.keyId(),
                signing,
                Envelopes.create(
                        SignedCommand.class,
                        SignedCommand.getClassSchema(),
                        Source.newBuilder()
                                .setHostId("vigil-dispatch")
                                .setAgentId("vigil-dispatch")
                                .setAgentVersion("1")
                                .build(),
                        "vendor",
                        Instant.now(),
                        body.getCommandId()));
    }

    /** The command once its agent's outcome is recorded. */
    private static JsonPath outcome(String id) {
        return CommandsIT.awaitState(id, List.of("SUCCEEDED", "FAILED", "REFUSED")::contains);
    }

    private static String refusal(String id) {
        JsonPath command = outcome(id);
        assertThat(command.getString("state")).as(id).isEqualTo("REFUSED");
        return command.getString("refusal");
    }
}
