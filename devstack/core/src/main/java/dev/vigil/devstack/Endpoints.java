package dev.vigil.devstack;

import dev.vigil.schemas.KafkaAccess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Where a running stack's components answer, and the credentials to use them. */
public record Endpoints(
        String kafkaBootstrapServers,
        String jdbcUrl,
        String jdbcUser,
        String s3Endpoint,
        String s3AccessKey,
        String s3SecretKey,
        List<String> buckets,
        KafkaTls kafkaTls) {

    /**
     * Configuration for a Quarkus service whose Kafka principal is {@code service} (its application name, such as
     * {@code vigil-ingestion}): the stack's addresses, and a client certificate for that principal.
     */
    public Map<String, String> quarkusProperties(String service) {
        Map<String, String> props = new LinkedHashMap<>();
        props.put("kafka.bootstrap.servers", kafkaBootstrapServers);
        kafkaTls.clientProperties(service).forEach((key, value) -> props.put("kafka." + key, value));
        props.put("quarkus.datasource.jdbc.url", jdbcUrl);
        props.put("quarkus.datasource.username", jdbcUser);
        props.put("vigil.s3.endpoint", s3Endpoint);
        props.put("vigil.s3.access-key", s3AccessKey);
        props.put("vigil.s3.secret-key", s3SecretKey);
        return props;
    }

    /**
     * Kafka client settings (bootstrap and mTLS) as {@code principal}; tests that play any part (an agent, a service)
     * use {@link KafkaTls#ADMIN}, which may do anything.
     */
    public Map<String, Object> kafkaClient(String principal) {
        Map<String, Object> props = new LinkedHashMap<>(kafkaTls.clientProperties(principal));
        props.put("bootstrap.servers", kafkaBootstrapServers);
        return props;
    }

    /** {@link #kafkaClient(String)} as the stack's operator, who may do anything. */
    public Map<String, Object> kafkaClient() {
        return kafkaClient(KafkaTls.ADMIN);
    }

    /**
     * An agent configuration file ({@code VIGIL_AGENT_CONFIG_FILE}) with this stack's Kafka address and the agents'
     * client certificate, as a fleet's {@code /etc/vigil/agent.properties} would have; variables still override it.
     */
    public String agentConfigFile() {
        Path file = kafkaTls.truststore().resolveSibling("agent.properties");
        StringBuilder text = new StringBuilder("kafka.bootstrap.servers=" + kafkaBootstrapServers + "\n");
        kafkaTls.clientProperties(KafkaAccess.AGENT.principal())
                .forEach((key, value) -> text.append("kafka.")
                        .append(key)
                        .append('=')
                        .append(value)
                        .append('\n'));
        try {
            Path partial = Files.createTempFile(file.getParent(), "agent", ".properties");
            Files.writeString(partial, text);
            Files.move(partial, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the agent configuration " + file, e);
        }
        return file.toString();
    }
}
