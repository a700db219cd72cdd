package dev.vigil.dispatch.messaging;

import dev.vigil.schemas.CloudEventHeaders;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.agent.SignedCommand;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Message;

/** Publishes signed commands to {@code vigil.agent.commands.v1}, keyed by host, awaiting the broker's ack. */
@ApplicationScoped
public class CommandPublisher {

    private final MutinyEmitter<byte[]> commands;

    CommandPublisher(@Channel("agent-commands") MutinyEmitter<byte[]> commands) {
        this.commands = commands;
    }

    /** Sends one signed command; returns once the broker has it, or throws. */
    public void publish(String hostId, byte[] signedCommand) {
        SignedCommand command = EventCodec.of(SignedCommand.class).decode(signedCommand);
        RecordHeaders headers = new RecordHeaders();
        CloudEventHeaders.write(headers, command.getEnvelope());
        OutgoingKafkaRecordMetadata<byte[]> metadata = OutgoingKafkaRecordMetadata.<byte[]>builder()
                .withKey(hostId.getBytes(StandardCharsets.UTF_8))
                .withHeaders(headers)
                .build();
        commands.sendMessageAndAwait(Message.of(signedCommand).addMetadata(metadata));
    }
}
