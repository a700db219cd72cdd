package dev.vigil.agent.command;

import dev.vigil.schemas.CommandSignatures;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.EventDecodingException;
import dev.vigil.schemas.agent.CommandBody;
import dev.vigil.schemas.agent.RefusalReason;
import dev.vigil.schemas.agent.SignedCommand;
import java.io.IOException;
import java.security.PublicKey;
import java.time.Clock;
import java.util.Map;

/**
 * Decides whether a signed command may run on this host: a pinned vendor key signed exactly these bytes, the
 * command targets this host, has not expired, and is newer than everything accepted before.
 */
final class CommandVerifier {

    private final Map<String, PublicKey> vendorKeys;
    private final String hostId;
    private final Clock clock;
    private final CommandLedger ledger;

    CommandVerifier(Map<String, PublicKey> vendorKeys, String hostId, Clock clock, CommandLedger ledger) {
        this.vendorKeys = Map.copyOf(vendorKeys);
        this.hostId = hostId;
        this.clock = clock;
        this.ledger = ledger;
    }

    /** A verified body, or why the command is refused (with the command id when the body could be read). */
    record Verdict(CommandBody body, RefusalReason refusal, String commandId, String message) {

        static Verdict refuse(RefusalReason reason, String commandId, String message) {
            return new Verdict(null, reason, commandId, message);
        }
    }

    /** Verifies and, when accepted, records the command in the ledger before it runs. */
    Verdict verify(SignedCommand command) throws IOException {
        byte[] body = CommandSignatures.bytes(command.getBody());
        byte[] signature = CommandSignatures.bytes(command.getSignature());
        String commandId = peekCommandId(body);
        if (signature.length == 0) {
            return Verdict.refuse(RefusalReason.UNSIGNED, commandId, "the command carries no signature");
        }
        PublicKey key = vendorKeys.get(command.getKeyId());
        if (key == null) {
            return Verdict.refuse(
                    RefusalReason.UNKNOWN_KEY,
                    commandId,
                    "key '" + command.getKeyId() + "' is not pinned on this host");
        }
        if (!CommandSignatures.verify(body, signature, key)) {
            return Verdict.refuse(
                    RefusalReason.BAD_SIGNATURE,
                    commandId,
                    "the signature does not match the command under key '" + command.getKeyId() + "'");
        }
        CommandBody decoded;
        try {
            decoded = EventCodec.of(CommandBody.class).decode(body);
        } catch (EventDecodingException e) {
            return Verdict.refuse(RefusalReason.MALFORMED, commandId, "the signed body does not decode: " + e.reason());
        }
        if (!hostId.equals(decoded.getTargetHostId())) {
            return Verdict.refuse(
                    RefusalReason.WRONG_HOST,
                    decoded.getCommandId(),
                    "the command is for host " + decoded.getTargetHostId() + ", not " + hostId);
        }
        if (!clock.instant().isBefore(decoded.getExpiresAt())) {
            return Verdict.refuse(
                    RefusalReason.EXPIRED, decoded.getCommandId(), "the command expired at " + decoded.getExpiresAt());
        }
        if (ledger.seen(decoded.getCommandId())) {
            return Verdict.refuse(
                    RefusalReason.REPLAYED,
                    decoded.getCommandId(),
                    "command " + decoded.getCommandId() + " already ran");
        }
        if (decoded.getSequence() <= ledger.lastSequence()) {
            return Verdict.refuse(
                    RefusalReason.OUT_OF_SEQUENCE,
                    decoded.getCommandId(),
                    "sequence " + decoded.getSequence() + " is not after the last accepted " + ledger.lastSequence());
        }
        ledger.accept(decoded.getCommandId(), decoded.getSequence());
        return new Verdict(decoded, null, decoded.getCommandId(), "verified");
    }

    /** The command id for the result, best effort: an unsigned or forged body may still name one. */
    private static String peekCommandId(byte[] body) {
        try {
            return EventCodec.of(CommandBody.class).decode(body).getCommandId();
        } catch (EventDecodingException e) {
            return "unreadable";
        }
    }
}
