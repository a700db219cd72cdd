package dev.vigil.devstack;

import dev.vigil.schemas.KafkaAccess;
import dev.vigil.schemas.Topic;
import dev.vigil.schemas.TopicCatalog;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.utils.Exit;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.Feature;
import org.apache.kafka.server.common.MetadataVersion;

/** A real single-node Apache Kafka KRaft broker (combined broker and controller) on loopback, in this JVM. */
final class KafkaBroker implements AutoCloseable {

    private static final int NODE_ID = 1;
    private static final String CONTROLLER_LISTENER = "CONTROLLER";
    private static final String CLIENT_LISTENER = "CLIENT";

    private final String bootstrapServers;
    private final KafkaRaftServer server;
    private final KafkaTls tls;

    private KafkaBroker(String bootstrapServers, KafkaRaftServer server, KafkaTls tls) {
        this.bootstrapServers = bootstrapServers;
        this.server = server;
        this.tls = tls;
    }

    /**
     * Starts the broker with one mTLS listener for clients: only certificates of {@code tls}'s CA get in, and each
     * principal may do what {@link KafkaAccess} grants it, nothing else.
     */
    static KafkaBroker start(DevstackConfig config, KafkaTls tls) {
        Ports.requireFree(config.kafkaPort(), "Kafka", "VIGIL_DEVSTACK_KAFKA_PORT");
        Ports.requireFree(config.controllerPort(), "the Kafka controller", "VIGIL_DEVSTACK_CONTROLLER_PORT");
        // In-process, a fatal broker error would halt the whole JVM (and a test run with it): fail loudly instead.
        Exit.setHaltProcedure((code, message) -> {
            throw new DevstackException("Kafka broker requested halt(" + code + "): " + message);
        });
        Exit.setExitProcedure((code, message) -> {
            throw new DevstackException("Kafka broker requested exit(" + code + "): " + message);
        });
        Path logDir = config.workDir().resolve("kafka");
        String bootstrap = "127.0.0.1:" + config.kafkaPort();
        try {
            Files.createDirectories(logDir);
            format(logDir);
            KafkaRaftServer server =
                    new KafkaRaftServer(new KafkaConfig(brokerProps(config, logDir, tls), false), Time.SYSTEM);
            server.startup();
            KafkaBroker broker = new KafkaBroker(bootstrap, server, tls);
            broker.createCatalogTopics();
            broker.grantAccess();
            return broker;
        } catch (DevstackException e) {
            throw e;
        } catch (Exception e) {
            throw new DevstackException("Kafka broker failed to start on " + bootstrap + ": " + e.getMessage(), e);
        }
    }

    String bootstrapServers() {
        return bootstrapServers;
    }

    @Override
    public void close() {
        server.shutdown();
        server.awaitShutdown();
    }

    private static void format(Path logDir) throws Exception {
        if (Files.exists(logDir.resolve("meta.properties"))) {
            // A kept work dir: reuse its cluster id and metadata log.
            return;
        }
        new Formatter()
                .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
                .setClusterId(Uuid.randomUuid().toString())
                .setNodeId(NODE_ID)
                .addDirectory(logDir.toString())
                .setMetadataLogDirectory(logDir.toString())
                .setReleaseVersion(MetadataVersion.latestProduction())
                .setSupportedFeatures(Feature.PRODUCTION_FEATURES)
                .setControllerListenerName(CONTROLLER_LISTENER)
                .run();
    }

    private static Map<String, Object> brokerProps(DevstackConfig config, Path logDir, KafkaTls tls) {
        Map<String, Object> props = new HashMap<>();
        props.put("process.roles", "broker,controller");
        props.put("node.id", String.valueOf(NODE_ID));
        props.put("controller.quorum.voters", NODE_ID + "@127.0.0.1:" + config.controllerPort());
        props.put(
                "listeners",
                CLIENT_LISTENER + "://127.0.0.1:" + config.kafkaPort() + "," + CONTROLLER_LISTENER + "://127.0.0.1:"
                        + config.controllerPort());
        props.put("advertised.listeners", CLIENT_LISTENER + "://127.0.0.1:" + config.kafkaPort());
        props.put("controller.listener.names", CONTROLLER_LISTENER);
        // Both listeners are TLS with client certificates: the controller's too, so no port of the stack takes a
        // connection that has not shown a certificate of the stack's CA.
        props.put("listener.security.protocol.map", CLIENT_LISTENER + ":SSL," + CONTROLLER_LISTENER + ":SSL");
        props.put("inter.broker.listener.name", CLIENT_LISTENER);
        props.put("ssl.keystore.type", "PKCS12");
        props.put("ssl.keystore.location", tls.keystore(KafkaTls.BROKER).toString());
        props.put("ssl.keystore.password", tls.password());
        props.put("ssl.key.password", tls.password());
        props.put("ssl.truststore.type", "PKCS12");
        props.put("ssl.truststore.location", tls.truststore().toString());
        props.put("ssl.truststore.password", tls.password());
        props.put("ssl.client.auth", "required");
        props.put("ssl.principal.mapping.rules", "RULE:^CN=([^,]+)(,.*)?$/$1/,DEFAULT");
        props.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
        props.put("super.users", "User:" + KafkaTls.BROKER + ";User:" + KafkaTls.ADMIN);
        props.put("allow.everyone.if.no.acl.found", "false");
        props.put("log.dirs", logDir.toString());
        props.put("metadata.log.dir", logDir.toString());
        props.put("auto.create.topics.enable", "false");
        props.put("offsets.topic.replication.factor", "1");
        props.put("offsets.topic.num.partitions", "4");
        props.put("transaction.state.log.replication.factor", "1");
        props.put("transaction.state.log.min.isr", "1");
        props.put("transaction.state.log.num.partitions", "4");
        props.put("share.coordinator.state.topic.replication.factor", "1");
        props.put("share.coordinator.state.topic.min.isr", "1");
        props.put("group.initial.rebalance.delay.ms", "0");
        props.put("num.network.threads", "2");
        props.put("num.io.threads", "2");
        props.put("log.cleaner.dedupe.buffer.size", String.valueOf(2 * 1024 * 1024));
        return props;
    }

    private Admin admin() {
        Properties props = new Properties();
        props.putAll(tls.clientProperties(KafkaTls.ADMIN));
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        return Admin.create(props);
    }

    /** Creates each principal's ACLs from {@link KafkaAccess} and waits until the broker enforces them. */
    private void grantAccess() throws InterruptedException, ExecutionException {
        List<AclBinding> bindings = new ArrayList<>();
        for (KafkaAccess.Grant grant : KafkaAccess.all()) {
            String principal = "User:" + grant.principal();
            for (Topic topic : grant.reads()) {
                bindings.add(
                        allow(principal, ResourceType.TOPIC, topic.name(), PatternType.LITERAL, AclOperation.READ));
            }
            for (Topic topic : grant.writes()) {
                bindings.add(
                        allow(principal, ResourceType.TOPIC, topic.name(), PatternType.LITERAL, AclOperation.WRITE));
            }
            if (grant.groupPrefix() != null) {
                bindings.add(allow(
                        principal, ResourceType.GROUP, grant.groupPrefix(), PatternType.PREFIXED, AclOperation.READ));
            }
        }
        try (Admin admin = admin()) {
            admin.createAcls(bindings).all().get();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (admin.describeAcls(AclBindingFilter.ANY).values().get().size() < bindings.size()) {
                if (System.nanoTime() > deadline) {
                    throw new DevstackException("the broker did not apply Vigil's ACLs within 30 s");
                }
                TimeUnit.MILLISECONDS.sleep(20);
            }
        }
    }

    private static AclBinding allow(
            String principal, ResourceType type, String name, PatternType pattern, AclOperation operation) {
        return new AclBinding(
                new ResourcePattern(type, name, pattern),
                new AccessControlEntry(principal, "*", operation, AclPermissionType.ALLOW));
    }

    private void createCatalogTopics() throws InterruptedException, ExecutionException {
        try (Admin admin = admin()) {
            Set<String> existing = admin.listTopics().names().get();
            List<NewTopic> missing = TopicCatalog.all().stream()
                    .filter(t -> !existing.contains(t.name()))
                    .map(KafkaBroker::newTopic)
                    .collect(Collectors.toList());
            if (!missing.isEmpty()) {
                admin.createTopics(missing).all().get();
            }
            // Metadata propagates asynchronously: wait until every topic has a leader before handing out the stack.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (true) {
                boolean ready;
                try {
                    var described = admin.describeTopics(
                                    TopicCatalog.all().stream().map(Topic::name).toList())
                            .allTopicNames()
                            .get();
                    ready = described.values().stream()
                            .flatMap(d -> d.partitions().stream())
                            .allMatch(p -> p.leader() != null && !p.leader().isEmpty());
                } catch (ExecutionException e) {
                    // A topic just created can be unknown to the broker's metadata for a moment: ask again.
                    if (!(e.getCause() instanceof org.apache.kafka.common.errors.RetriableException)) {
                        throw e;
                    }
                    ready = false;
                }
                if (ready) {
                    return;
                }
                if (System.nanoTime() > deadline) {
                    throw new DevstackException("catalog topics got no leader within 30 s");
                }
                TimeUnit.MILLISECONDS.sleep(50);
            }
        }
    }

    private static NewTopic newTopic(Topic topic) {
        return new NewTopic(topic.name(), topic.partitions(), (short) 1)
                .configs(Map.of(
                        TopicConfig.RETENTION_MS_CONFIG,
                                String.valueOf(topic.retention().toMillis()),
                        TopicConfig.CLEANUP_POLICY_CONFIG, topic.cleanupPolicy().kafkaName()));
    }
}
