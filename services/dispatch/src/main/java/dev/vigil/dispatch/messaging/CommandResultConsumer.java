package dev.vigil.dispatch.messaging;

import dev.vigil.dispatch.service.CommandService;
import dev.vigil.schemas.DeadLetterReason;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.EventDecodingException;
import dev.vigil.schemas.agent.CommandResult;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.common.annotation.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Agents' command results: acknowledgements and outcomes of dispatch's commands. A result that does not decode, or
 * that names a command dispatch never issued, goes to the dead-letter topic with its reason; a database failure
 * stops the channel so no result is lost.
 */
@ApplicationScoped
public class CommandResultConsumer {

    static final String GROUP = "vigil-dispatch.vigil.agent.command-results.v1";
    private static final Logger LOG = Logger.getLogger(CommandResultConsumer.class);

    private final CommandService commands;
    private final DeadLetterPublisher deadLetter;
    private final MeterRegistry metrics;

    CommandResultConsumer(CommandService commands, DeadLetterPublisher deadLetter, MeterRegistry metrics) {
        this.commands = commands;
        this.deadLetter = deadLetter;
        this.metrics = metrics;
    }

    @Incoming("command-results")
    @Blocking
    public void consume(ConsumerRecord<byte[], byte[]> record) {
        CommandResult result;
        try {
            result = EventCodec.of(CommandResult.class).decode(record.value());
        } catch (EventDecodingException e) {
            refuse(record, e.reason(), e.getMessage());
            return;
        } catch (RuntimeException e) {
            refuse(record, DeadLetterReason.MALFORMED, e.toString());
            return;
        }
        if (!commands.record(result)) {
            refuse(
                    record,
                    DeadLetterReason.UNKNOWN_COMMAND,
                    "no command " + result.getCommandId() + " was issued by dispatch (result " + result.getStatus()
                            + " from host " + result.getEnvelope().getSource().getHostId() + ")");
        }
    }

    private void refuse(ConsumerRecord<byte[], byte[]> record, DeadLetterReason reason, String detail) {
        metrics.counter("vigil.dispatch.command.results.refused", "reason", reason.name())
                .increment();
        LOG.warnf(
                "command result at %s-%d@%d refused (%s): %s",
                record.topic(), record.partition(), record.offset(), reason, detail);
        deadLetter.send(record, GROUP, reason, detail);
    }
}
