package dev.vigil.ingestion.service;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/** The service's Kafka settings ({@code kafka.*}: bootstrap, TLS, SASL), for a Kafka client of our own. */
final class KafkaClientSettings {

    /** Kafka client settings that belong to Quarkus' connector, not to a client. */
    private static final Set<String> NOT_CLIENT_SETTINGS = Set.of("health-enabled", "health-readiness-enabled");

    private KafkaClientSettings() {}

    /** A mutable copy of the client settings among {@code kafka} (Quarkus' {@code default-kafka-broker}). */
    static Map<String, Object> of(Map<String, Object> kafka) {
        Map<String, Object> settings = new HashMap<>();
        kafka.forEach((key, value) -> {
            if (!NOT_CLIENT_SETTINGS.contains(key)) {
                settings.put(key, value);
            }
        });
        return settings;
    }
}
