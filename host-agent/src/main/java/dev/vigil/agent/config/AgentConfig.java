package dev.vigil.agent.config;

import dev.vigil.agent.capture.CaptureSettings;
import dev.vigil.agent.capture.DumpPolicy;
import dev.vigil.agent.capture.OnCrashAction;
import dev.vigil.agent.capture.TriggerKind;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * The host agent's whole configuration, read from {@code VIGIL_AGENT_*} environment variables over an optional
 * properties file ({@code VIGIL_AGENT_CONFIG_FILE}, keys such as {@code hypervisor.uri}), validated at start-up
 * with messages that name the key and the fix. The module README lists every key.
 *
 * @param kafkaBootstrapServers where agent topics live ({@code KAFKA_BOOTSTRAP_SERVERS}, required)
 * @param kafkaSecurity how the agent proves who it is to Kafka: the client settings named by the other
 *     {@code KAFKA_*} keys ({@code KAFKA_SECURITY_PROTOCOL}, required, and its {@code KAFKA_SSL_*} or
 *     {@code KAFKA_SASL_*} settings), e.g. {@code KAFKA_SSL_KEYSTORE_LOCATION} is {@code ssl.keystore.location}
 * @param hypervisorUri the libvirt connection ({@code HYPERVISOR_URI}, default {@code test:///default})
 * @param hostId this machine's id in events ({@code HOST_ID}, default the host name)
 * @param agentId this agent's id ({@code AGENT_ID}, default {@code <host id>-agent})
 * @param tenant the enterprise or beta programme this host belongs to ({@code TENANT}, default {@code default})
 * @param stateDir spool, feedback inbox and command state ({@code STATE_DIR}, default {@code /var/lib/vigil-agent})
 * @param spoolMaxBytes the spool's bound ({@code SPOOL_MAX_BYTES}, default 256 MiB)
 * @param heartbeatInterval how often the agent says it is alive ({@code HEARTBEAT_INTERVAL}, default 60 s)
 * @param samplePeriod how often VMs and the host are sampled ({@code SAMPLE_PERIOD}, default 5 s)
 * @param hangAfter how long a running VM's vCPU time may stay flat before it counts as hung ({@code HANG_AFTER},
 *     default 60 s)
 * @param frameCheckPeriod how often busy VMs' screens are compared for the frozen-screen hang signal
 *     ({@code FRAME_CHECK_PERIOD}, default 30 s; {@code 0} turns it off)
 * @param deliveryTimeout how long Kafka retries a record before the spool resends it ({@code DELIVERY_TIMEOUT},
 *     default 2 min)
 * @param vendorKeys pinned vendor public keys for signed commands, key id to X.509-encoded Ed25519 key
 *     ({@code VENDOR_KEYS}: {@code id=base64[,id=base64...]}); empty disables commands
 * @param httpPort loopback port of the health and metrics endpoint ({@code HTTP_PORT}, default 9464; 0 disables)
 * @param sysfsRoot where host power data is read ({@code SYSFS_ROOT}, default {@code /sys})
 * @param procfsRoot where disk statistics are read ({@code PROCFS_ROOT}, default {@code /proc})
 * @param capture crash capture and artifact upload (see {@link CaptureSettings} for its keys)
 * @param delivery enrolment, installs and licenses (see {@link DeliverySettings} for its keys)
 */
public record AgentConfig(
        String kafkaBootstrapServers,
        Map<String, String> kafkaSecurity,
        String hypervisorUri,
        String hostId,
        String agentId,
        String tenant,
        Path stateDir,
        long spoolMaxBytes,
        Duration heartbeatInterval,
        Duration samplePeriod,
        Duration hangAfter,
        Duration frameCheckPeriod,
        Duration deliveryTimeout,
        Map<String, byte[]> vendorKeys,
        int httpPort,
        Path sysfsRoot,
        Path procfsRoot,
        CaptureSettings capture,
        DeliverySettings delivery) {

    static final String ENV_PREFIX = "VIGIL_AGENT_";

    private static final Set<String> SECURITY_PROTOCOLS = Set.of("SSL", "SASL_SSL", "PLAINTEXT", "SASL_PLAINTEXT");

    public AgentConfig {
        kafkaSecurity = Map.copyOf(kafkaSecurity);
        vendorKeys = Map.copyOf(vendorKeys);
    }

    /**
     * Settings for a Kafka client of this agent: where the cluster is and how to authenticate to it. An agent that
     * speaks SSL with no key store of its own configured connects with the certificate dispatch's enrolment CA issued
     * this host ({@link #enrolmentKeystore()}), once it has one.
     */
    public Map<String, Object> kafkaClient() {
        Map<String, Object> props = new HashMap<>(kafkaSecurity);
        props.put("bootstrap.servers", kafkaBootstrapServers);
        if (usesEnrolmentCertificate() && Files.exists(enrolmentKeystore())) {
            String password = enrolmentKeystorePassword();
            props.put("ssl.keystore.type", "PKCS12");
            props.put("ssl.keystore.location", enrolmentKeystore().toString());
            props.put("ssl.keystore.password", password);
            props.put("ssl.key.password", password);
        }
        return props;
    }

    /**
     * Whether this agent authenticates to Kafka with the client certificate dispatch issues it at enrolment and renews
     * with its lease: it speaks SSL and its configuration names no key store.
     */
    public boolean usesEnrolmentCertificate() {
        return "SSL".equals(kafkaSecurity.get("security.protocol"))
                && !kafkaSecurity.containsKey("ssl.keystore.location");
    }

    /** Where the client certificate from dispatch's enrolment CA and its key are kept (PKCS#12, owner-only). */
    public Path enrolmentKeystore() {
        return stateDir.resolve("delivery").resolve("kafka-client.p12");
    }

    /** The password of {@link #enrolmentKeystore()}, made at random when the first certificate is kept. */
    public String enrolmentKeystorePassword() {
        Path file = enrolmentKeystore().resolveSibling("kafka-client.password");
        try {
            return Files.readString(file).strip();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Changes when the key store {@link #kafkaClient()} names is replaced by a renewed certificate: Kafka clients made
     * before it still present the old one and must be made again.
     */
    public String kafkaCredentials() {
        if (!usesEnrolmentCertificate()) {
            return "configured";
        }
        try {
            // A renewal moves a new file over the old one: another inode, whatever its time and size.
            var file = Files.readAttributes(enrolmentKeystore(), java.nio.file.attribute.BasicFileAttributes.class);
            return "enrolment@" + file.fileKey() + "/" + file.lastModifiedTime().toMillis() + "/" + file.size();
        } catch (IOException e) {
            return "none";
        }
    }

    /** The vendor's dispatch address, or null when this host takes no deliveries. */
    public String dispatchUrl() {
        return delivery.dispatchUrl();
    }

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
                kafkaSecurity(values),
                optional(values, "HYPERVISOR_URI", "test:///default"),
                hostId,
                optional(values, "AGENT_ID", hostId + "-agent"),
                optional(values, "TENANT", "default"),
                Path.of(optional(values, "STATE_DIR", "/var/lib/vigil-agent")),
                positiveLong(values, "SPOOL_MAX_BYTES", 256L * 1024 * 1024),
                duration(values, "HEARTBEAT_INTERVAL", Duration.ofSeconds(60)),
                duration(values, "SAMPLE_PERIOD", Duration.ofSeconds(5)),
                duration(values, "HANG_AFTER", Duration.ofSeconds(60)),
                "0".equals(optional(values, "FRAME_CHECK_PERIOD", null))
                        ? Duration.ZERO
                        : duration(values, "FRAME_CHECK_PERIOD", Duration.ofSeconds(30)),
                duration(values, "DELIVERY_TIMEOUT", Duration.ofMinutes(2)),
                vendorKeys(values),
                port(values, "HTTP_PORT", 9464),
                Path.of(optional(values, "SYSFS_ROOT", "/sys")),
                Path.of(optional(values, "PROCFS_ROOT", "/proc")),
                capture(values),
                new DeliverySettings(
                        dispatchUrl(values),
                        bool(values, "LAZY_BOOT", true),
                        port(values, "IMAGE_PORT", 9465),
                        optional(values, "PULL_DELAY", "").equals("0")
                                ? Duration.ZERO
                                : duration(values, "PULL_DELAY", Duration.ofSeconds(10)),
                        "0".equals(optional(values, "PULL_RATE", "0")) ? 0 : positiveLong(values, "PULL_RATE", 0),
                        duration(values, "LICENSE_CHECK_PERIOD", Duration.ofSeconds(60)),
                        duration(values, "UPDATE_WINDOW", Duration.ofMinutes(10)),
                        duration(values, "SHUTDOWN_TIMEOUT", Duration.ofSeconds(60)),
                        optional(values, "CONFORMITY_CHECK_PERIOD", "").equals("0")
                                ? Duration.ZERO
                                : duration(values, "CONFORMITY_CHECK_PERIOD", Duration.ofDays(1))));
    }

    /**
     * The {@code KAFKA_*} keys other than the bootstrap address, as Kafka client settings. The protocol must be named:
     * an agent that sends crash data in the clear or without a certificate does so because someone wrote
     * {@code PLAINTEXT}, never by default. Only security settings are taken, so a mistyped key fails here.
     */
    private static Map<String, String> kafkaSecurity(Map<String, String> values) {
        String prefix = ENV_PREFIX + "KAFKA_";
        Map<String, String> settings = new HashMap<>();
        values.forEach((key, value) -> {
            if (!key.startsWith(prefix) || key.equals(prefix + "BOOTSTRAP_SERVERS")) {
                return;
            }
            String name = key.substring(prefix.length());
            if (!name.matches("SECURITY_PROTOCOL|SSL_[A-Z0-9_]+|SASL_[A-Z0-9_]+")) {
                throw new AgentConfigException(key + " is not a Kafka security setting: the agent takes " + prefix
                        + "SECURITY_PROTOCOL and " + prefix + "SSL_* or " + prefix + "SASL_* keys");
            }
            settings.put(name.toLowerCase(Locale.ROOT).replace('_', '.'), value.trim());
        });
        String protocol = settings.get("security.protocol");
        if (protocol == null || protocol.isBlank()) {
            throw new AgentConfigException(prefix + "SECURITY_PROTOCOL is not set: set SSL (with " + prefix
                    + "SSL_TRUSTSTORE_LOCATION, the cluster's CA, and " + prefix
                    + "SSL_KEYSTORE_LOCATION, the agent's certificate, unless dispatch issues it at enrolment)"
                    + " or SASL_SSL; PLAINTEXT only where the cluster is deliberately unauthenticated");
        }
        String upper = protocol.toUpperCase(Locale.ROOT);
        if (!SECURITY_PROTOCOLS.contains(upper)) {
            throw new AgentConfigException(prefix + "SECURITY_PROTOCOL=" + protocol + " is not one of "
                    + SECURITY_PROTOCOLS.stream().sorted().toList());
        }
        settings.put("security.protocol", upper);
        return settings;
    }

    private static String dispatchUrl(Map<String, String> values) {
        String url = optional(values, "DISPATCH_URL", null);
        if (url == null) {
            return null;
        }
        if (!url.matches("https?://[^\\s/]+(/[^\\s]*)?")) {
            throw new AgentConfigException(ENV_PREFIX + "DISPATCH_URL must be the vendor's dispatch address, such as"
                    + " https://dispatch.vendor.example, got '" + url + "'");
        }
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }

    private static CaptureSettings capture(Map<String, String> values) {
        String endpoint = optional(values, "S3_ENDPOINT", null);
        String upload = optional(values, "EVIDENCE_UPLOAD", endpoint == null ? "off" : "store");
        boolean links;
        switch (upload) {
            case "links" -> {
                links = true;
                if (dispatchUrl(values) == null) {
                    throw new AgentConfigException(ENV_PREFIX + "EVIDENCE_UPLOAD=links needs " + ENV_PREFIX
                            + "DISPATCH_URL: dispatch signs the links this host's evidence is stored through");
                }
                if (endpoint != null || optional(values, "S3_ACCESS_KEY", null) != null) {
                    throw new AgentConfigException(ENV_PREFIX + "EVIDENCE_UPLOAD=links stores evidence through"
                            + " dispatch's links: remove " + ENV_PREFIX + "S3_ENDPOINT and the object store's"
                            + " credentials from this host");
                }
            }
            case "store" -> {
                links = false;
                if (endpoint == null) {
                    throw new AgentConfigException(ENV_PREFIX + "EVIDENCE_UPLOAD=store needs " + ENV_PREFIX
                            + "S3_ENDPOINT and the store's credentials; an enrolled host uses links instead");
                }
                required(values, "S3_ACCESS_KEY", "the object store's access key (S3_ENDPOINT is set)");
                required(values, "S3_SECRET_KEY", "the object store's secret key (S3_ENDPOINT is set)");
            }
            case "off" -> links = false;
            default ->
                throw new AgentConfigException(ENV_PREFIX + "EVIDENCE_UPLOAD=" + upload
                        + " is not links (through dispatch, for enrolled hosts), store (with the object store's"
                        + " credentials) or off");
        }
        byte[] key = null;
        String encoded = optional(values, "ARTIFACT_ENCRYPTION_KEY", null);
        if (encoded != null) {
            try {
                key = Base64.getDecoder().decode(encoded);
            } catch (IllegalArgumentException e) {
                key = new byte[0];
            }
            if (key.length != 32) {
                throw new AgentConfigException(ENV_PREFIX
                        + "ARTIFACT_ENCRYPTION_KEY is not a 256-bit key in base64: generate one with"
                        + " `head -c 32 /dev/urandom | base64`");
            }
        }
        Map<TriggerKind, DumpPolicy> policies = new EnumMap<>(TriggerKind.class);
        String policyList = optional(values, "DUMP_POLICY", "");
        for (String entry : policyList.isEmpty() ? new String[0] : policyList.split(",")) {
            String[] pair = entry.split("=", 2);
            var trigger = TriggerKind.fromConfigName(pair[0]);
            var policy = pair.length == 2 ? DumpPolicy.parse(pair[1]) : java.util.Optional.<DumpPolicy>empty();
            if (trigger.isEmpty() || policy.isEmpty()) {
                throw new AgentConfigException(ENV_PREFIX + "DUMP_POLICY entry '" + entry.trim()
                        + "' is not trigger=policy: triggers are crash, hang, watchdog, io-error;"
                        + " policies full, kernel, none");
            }
            policies.put(trigger.get(), policy.get());
        }
        String action = optional(values, "ON_CRASH", "preserve");
        return new CaptureSettings(
                links,
                "off".equals(upload) ? null : endpoint,
                optional(values, "S3_ACCESS_KEY", null),
                optional(values, "S3_SECRET_KEY", null),
                optional(values, "S3_BUCKET", CaptureSettings.DEFAULT_BUCKET),
                key,
                positiveLong(values, "ARTIFACT_MAX_BYTES", 8L << 30),
                duration(values, "CAPTURE_TIMEOUT", Duration.ofMinutes(5)),
                policies,
                OnCrashAction.parse(action)
                        .orElseThrow(() -> new AgentConfigException(
                                ENV_PREFIX + "ON_CRASH=" + action + " is not preserve, restart or relaunch")),
                duration(values, "FLIGHT_RECORDER_WINDOW", Duration.ofMinutes(10)),
                (int) Math.min(positiveLong(values, "CONSOLE_TAIL_BYTES", 256 * 1024), 64L << 20),
                "0".equals(optional(values, "SNAPSHOT_EVERY", null))
                        ? Duration.ZERO
                        : duration(values, "SNAPSHOT_EVERY", Duration.ofHours(6)),
                (int) Math.min(positiveLong(values, "SNAPSHOT_KEEP", 3), 100),
                bool(values, "SNAPSHOT_MEMORY"));
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

    private static boolean bool(Map<String, String> values, String key) {
        return bool(values, key, false);
    }

    private static boolean bool(Map<String, String> values, String key, boolean fallback) {
        String value = optional(values, key, Boolean.toString(fallback));
        if (!value.equalsIgnoreCase("true") && !value.equalsIgnoreCase("false")) {
            throw new AgentConfigException(ENV_PREFIX + key + "=" + value + " is not true or false");
        }
        return Boolean.parseBoolean(value);
    }

    private static long positiveLong(Map<String, String> values, String key, long fallback) {
        String value = optional(values, key, null);
        if (value == null) {
            return fallback;
        }
        try {
            long parsed = Long.parseLong(value);
            if (parsed <= 0) {
                throw new NumberFormatException();
            }
            return parsed;
        } catch (NumberFormatException e) {
            throw new AgentConfigException(ENV_PREFIX + key + "=" + value + " is not a positive whole number of bytes");
        }
    }

    private static int port(Map<String, String> values, String key, int fallback) {
        String value = optional(values, key, null);
        if (value == null) {
            return fallback;
        }
        try {
            int parsed = Integer.parseInt(value);
            if (parsed < 0 || parsed > 65535) {
                throw new NumberFormatException();
            }
            return parsed;
        } catch (NumberFormatException e) {
            throw new AgentConfigException(
                    ENV_PREFIX + key + "=" + value + " is not a TCP port: use 1-65535, or 0 to disable");
        }
    }

    private static Map<String, byte[]> vendorKeys(Map<String, String> values) {
        String value = optional(values, "VENDOR_KEYS", "");
        Map<String, byte[]> keys = new LinkedHashMap<>();
        if (value.isEmpty()) {
            return keys;
        }
        for (String entry : value.split(",")) {
            int eq = entry.indexOf('=');
            if (eq <= 0) {
                throw new AgentConfigException(ENV_PREFIX + "VENDOR_KEYS has an entry without a key id: use id=base64");
            }
            try {
                keys.put(
                        entry.substring(0, eq).trim(),
                        Base64.getDecoder().decode(entry.substring(eq + 1).trim()));
            } catch (IllegalArgumentException e) {
                throw new AgentConfigException(
                        ENV_PREFIX + "VENDOR_KEYS entry "
                                + entry.substring(0, eq).trim()
                                + " is not base64: give the X.509 (SubjectPublicKeyInfo) encoding of the Ed25519 key in base64");
            }
        }
        return keys;
    }

    private static String defaultHostId() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "unknown-host";
        }
    }
}
