package dev.vigil.serviceauth;

import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.Locale;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Refuses to start a service whose Kafka clients would connect without TLS and authentication, unless its operator
 * said so ({@code vigil.kafka.allow-plaintext=true}). Crash data, feedback and commands cross Kafka: plaintext is a
 * decision someone writes down, never what a forgotten {@code KAFKA_SECURITY_PROTOCOL} gives.
 */
@ApplicationScoped
public class KafkaTransportCheck {

    @ConfigProperty(name = "kafka.bootstrap.servers")
    Optional<String> bootstrapServers;

    @ConfigProperty(name = "kafka.security.protocol")
    Optional<String> securityProtocol;

    /** Plaintext or unauthenticated Kafka for a cluster that is deliberately so (a laptop, a sealed network). */
    @ConfigProperty(name = "vigil.kafka.allow-plaintext", defaultValue = "false")
    boolean allowPlaintext;

    void onStart(@Observes StartupEvent event) {
        problem(bootstrapServers, securityProtocol, allowPlaintext).ifPresent(message -> {
            throw new IllegalStateException(message);
        });
    }

    /** Why these settings may not start, or empty when they may. */
    static Optional<String> problem(Optional<String> bootstrap, Optional<String> protocol, boolean allowPlaintext) {
        if (bootstrap.isEmpty() || bootstrap.get().isBlank() || allowPlaintext) {
            return Optional.empty();
        }
        String named = protocol.map(p -> p.trim().toUpperCase(Locale.ROOT)).orElse("PLAINTEXT");
        if (named.equals("SSL") || named.equals("SASL_SSL")) {
            return Optional.empty();
        }
        return Optional.of("Kafka at " + bootstrap.get() + " would be used over " + named
                + (protocol.isEmpty() ? " (kafka.security.protocol is not set)" : "")
                + ": set KAFKA_SECURITY_PROTOCOL=SSL with the service's certificate (KAFKA_SSL_KEYSTORE_LOCATION, "
                + "KAFKA_SSL_TRUSTSTORE_LOCATION and their passwords) or SASL_SSL, or, for a cluster that is "
                + "deliberately unauthenticated, VIGIL_KAFKA_ALLOW_PLAINTEXT=true");
    }
}
