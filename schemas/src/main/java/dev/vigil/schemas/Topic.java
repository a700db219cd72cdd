package dev.vigil.schemas;

import java.time.Duration;
import org.apache.avro.specific.SpecificRecord;

/**
 * One Kafka topic of the Vigil contract: its name, what keys it, how it is sized and kept, and the Avro
 * record its values hold ({@code null} for topics that carry foreign bytes, such as the dead-letter topic).
 */
public record Topic(
        String name,
        String key,
        int partitions,
        Duration retention,
        CleanupPolicy cleanupPolicy,
        Class<? extends SpecificRecord> valueType) {

    public Topic {
        if (!name.matches("vigil\\.[a-z-]+\\.[a-z-]+\\.v[0-9]+")) {
            throw new IllegalArgumentException("topic name must follow vigil.<domain>.<event>.v<major>: " + name);
        }
        if (partitions < 1) {
            throw new IllegalArgumentException("partitions must be positive for " + name);
        }
    }

    /** The major version in the topic name, e.g. 1 for {@code vigil.agent.events.v1}. */
    public int majorVersion() {
        return Integer.parseInt(name.substring(name.lastIndexOf(".v") + 2));
    }
}
