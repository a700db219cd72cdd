package dev.vigil.schemas;

/** Kafka log cleanup policy of a topic. */
public enum CleanupPolicy {
    DELETE("delete"),
    COMPACT("compact");

    private final String kafkaName;

    CleanupPolicy(String kafkaName) {
        this.kafkaName = kafkaName;
    }

    /** The value of the topic-level {@code cleanup.policy} config. */
    public String kafkaName() {
        return kafkaName;
    }
}
