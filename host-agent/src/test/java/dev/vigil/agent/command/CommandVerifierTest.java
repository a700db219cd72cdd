package dev.vigil.agent.command;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vigil.schemas.CommandSignatures;
import dev.vigil.schemas.Envelopes;
import dev.vigil.schemas.agent.CommandAction;
import dev.vigil.schemas.agent.CommandBody;
import dev.vigil.schemas.agent.RefusalReason;
import dev.vigil.schemas.agent.SignedCommand;
import dev.vigil.schemas.common.Source;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class CommandVerifierTest {

    private static final Instant NOW = Instant.parse("2026-11-24T12:00:00Z");
    private final KeyPair vendor = ed25519();
    private final KeyPair attacker = ed25519();
    private CommandVerifier verifier;

    @TempDir
    Path dir;

    @BeforeEach
    void setUp() throws Exception {
        verifier = new CommandVerifier(
                Map.of("vendor-2026", vendor.getPublic()),
                "host-1",
                Clock.fixed(NOW, ZoneOffset.UTC),
                CommandLedger.open(dir.resolve("ledger")));
    }

    @Test
    void acceptsAValidCommandOnce() throws Exception {
        SignedCommand command = sign(body("c1", "host-1", 1, NOW.plusSeconds(60)), vendor, "vendor-2026");

        assertThat(verifier.verify(command).body()).isNotNull();
        assertThat(verifier.verify(command).refusal()).isEqualTo(RefusalReason.REPLAYED);
    }

    @Test
    void refusesEachKindOfBadCommandWithItsReason() throws Exception {
        SignedCommand valid = sign(body("c1", "host-1", 5, NOW.plusSeconds(60)), vendor, "vendor-2026");
        SignedCommand unsigned = SignedCommand.newBuilder(valid)
                .setSignature(ByteBuffer.allocate(0))
                .build();
        SignedCommand forged = sign(body("c2", "host-1", 6, NOW.plusSeconds(60)), attacker, "vendor-2026");
        SignedCommand unknownKey = sign(body("c3", "host-1", 7, NOW.plusSeconds(60)), vendor, "vendor-1999");
        byte[] tamperedBody = CommandSignatures.bytes(valid.getBody());
        tamperedBody[tamperedBody.length - 1] ^= 1;
        SignedCommand tampered = SignedCommand.newBuilder(valid)
                .setBody(ByteBuffer.wrap(tamperedBody))
                .build();
        SignedCommand expired = sign(body("c4", "host-1", 8, NOW.minusSeconds(1)), vendor, "vendor-2026");
        SignedCommand otherHost = sign(body("c5", "host-2", 9, NOW.plusSeconds(60)), vendor, "vendor-2026");

        assertThat(verifier.verify(unsigned).refusal()).isEqualTo(RefusalReason.UNSIGNED);
        assertThat(verifier.verify(forged).refusal()).isEqualTo(RefusalReason.BAD_SIGNATURE);
        assertThat(verifier.verify(unknownKey).refusal()).isEqualTo(RefusalReason.UNKNOWN_KEY);
        assertThat(verifier.verify(tampered).refusal()).isEqualTo(RefusalReason.BAD_SIGNATURE);
        assertThat(verifier.verify(expired).refusal()).isEqualTo(RefusalReason.EXPIRED);
        assertThat(verifier.verify(otherHost).refusal()).isEqualTo(RefusalReason.WRONG_HOST);
        assertThat(verifier.verify(valid).body()).isNotNull();
    }

    @ParameterizedTest
    @EnumSource(
            value = CommandAction.class,
            names = {"INSTALL", "UPDATE", "ROLL_BACK", "INTERRUPT", "RENEW_LICENSE"})
    void theDeliveryActionsAreVerifiedLikeEveryOther(CommandAction action) throws Exception {
        long base = 100 + action.ordinal() * 10L;
        SignedCommand valid = sign(
                withAction(body("ok-" + action, "host-1", base + 5, NOW.plusSeconds(60)), action),
                vendor,
                "vendor-2026");
        SignedCommand forged = sign(
                withAction(body("forged-" + action, "host-1", base + 6, NOW.plusSeconds(60)), action),
                attacker,
                "vendor-2026");
        SignedCommand expired = sign(
                withAction(body("old-" + action, "host-1", base + 7, NOW.minusSeconds(1)), action),
                vendor,
                "vendor-2026");
        SignedCommand stale = sign(
                withAction(body("stale-" + action, "host-1", base + 1, NOW.plusSeconds(60)), action),
                vendor,
                "vendor-2026");

        assertThat(verifier.verify(forged).refusal()).isEqualTo(RefusalReason.BAD_SIGNATURE);
        assertThat(verifier.verify(expired).refusal()).isEqualTo(RefusalReason.EXPIRED);
        assertThat(verifier.verify(valid).body().getAction()).isEqualTo(action);
        assertThat(verifier.verify(valid).refusal()).isEqualTo(RefusalReason.REPLAYED);
        assertThat(verifier.verify(stale).refusal()).isEqualTo(RefusalReason.OUT_OF_SEQUENCE);
    }

    @Test
    void refusesAnOlderSequenceEvenAfterARestart() throws Exception {
        assertThat(verifier.verify(sign(body("c10", "host-1", 10, NOW.plusSeconds(60)), vendor, "vendor-2026"))
                        .body())
                .isNotNull();
        CommandVerifier restarted = new CommandVerifier(
                Map.of("vendor-2026", vendor.getPublic()),
                "host-1",
                Clock.fixed(NOW, ZoneOffset.UTC),
                CommandLedger.open(dir.resolve("ledger")));

        var verdict = restarted.verify(sign(body("c9", "host-1", 9, NOW.plusSeconds(60)), vendor, "vendor-2026"));

        assertThat(verdict.refusal()).isEqualTo(RefusalReason.OUT_OF_SEQUENCE);
        assertThat(verdict.commandId()).isEqualTo("c9");
    }

    static CommandBody body(String id, String host, long sequence, Instant expiresAt) {
        return CommandBody.newBuilder()
                .setCommandId(id)
                .setTargetHostId(host)
                .setVm(null)
                .setAction(CommandAction.REPORT)
                .setArguments(Map.of())
                .setIssuedAt(NOW.minusSeconds(5))
                .setExpiresAt(expiresAt)
                .setSequence(sequence)
                .build();
    }

    private static CommandBody withAction(CommandBody body, CommandAction action) {
        return CommandBody.newBuilder(body).setAction(action).build();
    }

    static SignedCommand sign(CommandBody body, KeyPair key, String keyId) throws Exception {
        Source vendorSource = Source.newBuilder()
                .setHostId("vendor")
                .setAgentId("dispatch")
                .setAgentVersion("test")
                .build();
        return CommandSignatures.sign(
                body,
                keyId,
                key.getPrivate(),
                Envelopes.create(SignedCommand.class, CommandBody.getClassSchema(), vendorSource, "acme", NOW));
    }

    static KeyPair ed25519() {
        try {
            return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
