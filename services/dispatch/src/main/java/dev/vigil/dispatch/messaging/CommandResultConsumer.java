package dev.vigil.dispatch.messaging;

import dev.vigil.dispatch.service.CommandService;
import dev.vigil.schemas.DeadLetterReason;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.EventDecodingException;
import dev.vigil.schemas.RecordSeals;
import dev.vigil.schemas.agent.CommandResult;
import dev.vigil.serviceauth.RecordKeys;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.common.annotation.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Agents' command results: acknowledgements and outcomes of dispatch's commands, a polled batch per transaction. A
 * result that does not decode, that is not sealed by the host its envelope names (ADR 0007), or that names a command
 * dispatch never issued to that host, goes to the dead-letter topic with its reason once the batch is stored; a
 * database failure stops the channel so no result is lost.
 */
@ApplicationScoped
public class CommandResultConsumer {

    static final String GROUP = "vigil-dispatch.vigil.agent.command-results.v1";
    private static final Logger LOG = Logger.getLogger(CommandResultConsumer.class);

    private final CommandService commands;
    private final DeadLetterPublisher deadLetter;
    private final MeterRegistry metrics;
    private final RecordSeals.Verifier identity;

    CommandResultConsumer(
            CommandService commands, DeadLetterPublisher deadLetter, MeterRegistry metrics, RecordKeys keys) {
        this.commands = commands;
        this.identity = keys.verifier();
        this.deadLetter = deadLetter;
        this.metrics = metrics;
    }

    @Incoming("command-results")
    @Blocking
    public void consume(ConsumerRecords<byte[], byte[]> batch) {
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>(batch.count());
        batch.forEach(records::add);
        CommandResult[] decoded = new CommandResult[records.size()];
        Refusal[] refusals = new Refusal[records.size()];
        List<CommandResult> results = new ArrayList<>(records.size());
        for (int i = 0; i < records.size(); i++) {
            ConsumerRecord<byte[], byte[]> record = records.get(i);
            try {
                CommandResult result = EventCodec.of(CommandResult.class).decode(record.value());
                String problem = identity.problem(
                        String.valueOf(result.getEnvelope().getTenant()),
                        String.valueOf(result.getEnvelope().getSource().getHostId()),
                        RecordSeals.Seal.of(record.headers()),
                        record.value());
                if (problem != null) {
                    refusals[i] = new Refusal(DeadLetterReason.IDENTITY_MISMATCH, problem);
                    continue;
                }
                decoded[i] = result;
                results.add(result);
            } catch (EventDecodingException e) {
                refusals[i] = new Refusal(e.reason(), e.getMessage());
            } catch (RuntimeException e) {
                refusals[i] = new Refusal(DeadLetterReason.MALFORMED, e.toString());
            }
        }
        boolean[] issued = commands.record(results);
        for (int i = 0, r = 0; i < records.size(); i++) {
            if (decoded[i] != null && !issued[r++]) {
                CommandResult result = decoded[i];
                refusals[i] = new Refusal(
                        DeadLetterReason.UNKNOWN_COMMAND,
                        "no command " + result.getCommandId() + " was issued by dispatch to host "
                                + result.getEnvelope().getSource().getHostId() + " (its result " + result.getStatus()
                                + ")");
            }
            if (refusals[i] != null) {
                refuse(records.get(i), refusals[i]);
            }
        }
    }

    private void refuse(ConsumerRecord<byte[], byte[]> record, Refusal refusal) {
        metrics.counter(
                        "vigil.dispatch.command.results.refused",
                        "reason",
                        refusal.reason().name())
                .increment();
        LOG.warnf(
                "command result at %s-%d@%d refused (%s): %s",
                record.topic(), record.partition(), record.offset(), refusal.reason(), refusal.detail());
        deadLetter.send(record, GROUP, refusal.reason(), refusal.detail());
    }

    /** Why a record goes to the dead-letter topic. */
    private record Refusal(DeadLetterReason reason, String detail) {}
}
