package dev.vigil.agent.config;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * The host agent's whole configuration, read from {@code VIGIL_AGENT_*} environment variables over an optional
 * properties file ({@code VIGIL_AGENT_CONFIG_FILE}, keys such as {@code hypervisor.uri}), validated at start-up.
 *
 * @param kafkaBootstrapServers where agent topics live ({@code VIGIL_AGENT_KAFKA_BOOTSTRAP_SERVERS}, required)
 * @param hypervisorUri the libvirt connection ({@code VIGIL_AGENT_HYPERVISOR_URI}, default {@code test:///default})
 * @param hostId this machine's id in events ({@code VIGIL_AGENT_HOST_ID}, default the host name)
 * @param agentId this agent's id ({@code VIGIL_AGENT_AGENT_ID}, default {@code <host id>-agent})
 * @param tenant the enterprise or beta programme this host belongs to ({@code VIGIL_AGENT_TENANT})
 * @param heartbeatInterval how often the agent says it is alive ({@code VIGIL_AGENT_HEARTBEAT_INTERVAL}, ISO-8601
 *     or seconds, default 60 s)
 */
public record AgentConfig(
        String kafkaBootstrapServers,
        String hypervisorUri,
        String hostId,
        String agentId,
        String tenant,
        Duration heartbeatInterval) {

    static final String ENV_PREFIX = "VIGIL_AGENT_";

    /** Reads the process environment (and the file it names). */
    public static AgentConfig fromEnvironment() {
        return load(System.getenv());
    }

    public static AgentConfig load(Map<String, String> env) {
        Map<String, String> values = new HashMap<>();
        String file = env.get(ENV_PREFIX + "CONFIG_FILE");
        if (file != null && !file.isBlank()) {
            values.putAll(readFile(Path.of(file)));
        }
        env.forEach((key, value) -> {
            if (key.startsWith(ENV_PREFIX)) {
                values.put(key, value);
            }
        });
        String hostId = optional(values, "HOST_ID", defaultHostId());
        return new AgentConfig(
                required(values, "KAFKA_BOOTSTRAP_SERVERS", "the Kafka cluster agents publish to, e.g. broker:9092"),
                optional(values, "HYPERVISOR_URI", "test:///default"),
                hostId,
                optional(values, "AGENT_ID", hostId + "-agent"),
                optional(values, "TENANT", "default"),
                duration(values, "HEARTBEAT_INTERVAL", Duration.ofSeconds(60)));
    }

    private static Map<String, String> readFile(Path path) {
        Properties props = new Properties();
        try (InputStream in = Files.newInputStream(path)) {
            props.load(in);
        } catch (IOException e) {
            throw new AgentConfigException(ENV_PREFIX + "CONFIG_FILE=" + path + " cannot be read (" + e.getMessage()
                    + "): point it at a readable properties file or unset it");
        }
        Map<String, String> values = new HashMap<>();
        // File keys are the variable names without the prefix, dotted and lower case: hypervisor.uri.
        props.forEach((k, v) -> values.put(
                ENV_PREFIX
                        + k.toString()
                                .trim()
                                .replace('.', '_')
                                .replace('-', '_')
                                .toUpperCase(Locale.ROOT),
                v.toString().trim()));
        return values;
    }

    private static String required(Map<String, String> values, String key, String what) {
        String value = values.get(ENV_PREFIX + key);
        if (value == null || value.isBlank()) {
            throw new AgentConfigException(ENV_PREFIX + key + " is not set: set it to " + what);
        }
        return value.trim();
    }

    private static String optional(Map<String, String> values, String key, String fallback) {
        String value = values.get(ENV_PREFIX + key);
        return value == null || value.isBlank() ? fallback : value.trim();
    }

    private static Duration duration(Map<String, String> values, String key, Duration fallback) {
        String value = optional(values, key, null);
        if (value == null) {
            return fallback;
        }
        try {
            Duration parsed =
                    value.matches("[0-9]+") ? Duration.ofSeconds(Long.parseLong(value)) : Duration.parse(value);
            if (parsed.isNegative() || parsed.isZero()) {
                throw new IllegalArgumentException();
            }
            return parsed;
        } catch (RuntimeException e) {
            throw new AgentConfigException(ENV_PREFIX + key + "=" + value
                    + " is not a positive duration: use seconds (30) or ISO-8601 (PT30S)");
        }
    }

    private static String defaultHostId() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "unknown-host";
        }
    }
}
