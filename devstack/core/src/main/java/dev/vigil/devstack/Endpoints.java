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
import java.util.Set;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Where a running stack's components answer, and the credentials to use them: the Kafka PKI, and the record-key
 * secret that binds agents' records to their hosts ({@link RecordKeySecret}).
 */
public record Endpoints(
        String kafkaBootstrapServers,
        String jdbcUrl,
        String jdbcUser,
        String s3Endpoint,
        String s3AccessKey,
        String s3SecretKey,
        List<String> buckets,
        KafkaTls kafkaTls,
        RecordKeySecret recordKeys) {

    /** The services that hold the record-key secret: dispatch issues hosts' keys, ingestion checks seals. */
    private static final Set<String> RECORD_KEY_HOLDERS = Set.of("vigil-dispatch", "vigil-ingestion");

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
        if (RECORD_KEY_HOLDERS.contains(service)) {
            props.put("vigil.identity.record-key.secret", recordKeys.base64());
        }
        if (service.equals("vigil-dispatch")) {
            // Dispatch's enrolment CA signs enrolled agents' client certificates; the broker trusts it via the stack's.
            props.put(
                    "vigil.dispatch.agent-certificates.keystore",
                    kafkaTls.issuingCa("vigil-enrolment").toString());
            props.put("vigil.dispatch.agent-certificates.password", kafkaTls.password());
        }
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
     * A producer that plays agents: acks from all in-sync replicas, and each record to an agent topic sealed with the
     * record key of the host its envelope names, as that host's agent would seal it ({@link RecordKeySecret#sealing()}).
     *
     * @param settings producer settings beside the stack's
     */
    public KafkaProducer<byte[], byte[]> agentProducer(Map<String, Object> settings) {
        Map<String, Object> props = new LinkedHashMap<>(kafkaClient());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.putAll(settings);
        return new KafkaProducer<>(props, new ByteArraySerializer(), recordKeys.sealing());
    }

    /** {@link #agentProducer(Map)} with the stack's settings alone. */
    public KafkaProducer<byte[], byte[]> agentProducer() {
        return agentProducer(Map.of());
    }

    /**
     * An agent configuration file ({@code VIGIL_AGENT_CONFIG_FILE}) with this stack's Kafka address and the agents'
     * client certificate, as a fleet's {@code /etc/vigil/agent.properties} would have; variables still override it.
     */
    public String agentConfigFile() {
        return agentConfigFile("agent.properties", kafkaTls.clientProperties(KafkaAccess.AGENT.principal()));
    }

    /**
     * An agent configuration file that trusts this stack's broker and names no client certificate: the agent
     * connects with the one dispatch's enrolment CA gives it when it enrols.
     */
    public String enrolledAgentConfigFile() {
        return agentConfigFile("enrolled-agent.properties", kafkaTls.trustProperties());
    }

    private String agentConfigFile(String name, Map<String, String> tls) {
        Path file = kafkaTls.truststore().resolveSibling(name);
        StringBuilder text = new StringBuilder("kafka.bootstrap.servers=" + kafkaBootstrapServers + "\n");
        tls.forEach((key, value) ->
                text.append("kafka.").append(key).append('=').append(value).append('\n'));
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
