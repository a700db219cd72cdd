package dev.vigil.devstack;

import dev.vigil.schemas.Topic;
import dev.vigil.schemas.TopicCatalog;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
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
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.utils.Exit;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.Feature;
import org.apache.kafka.server.common.MetadataVersion;

/** A real single-node Apache Kafka KRaft broker (combined broker and controller) on loopback, in this JVM. */
final class KafkaBroker implements AutoCloseable {

    private static final int NODE_ID = 1;
    private static final String CONTROLLER_LISTENER = "CONTROLLER";

    private final String bootstrapServers;
    private final KafkaRaftServer server;

    private KafkaBroker(String bootstrapServers, KafkaRaftServer server) {
        this.bootstrapServers = bootstrapServers;
        this.server = server;
    }

    static KafkaBroker start(DevstackConfig config) {
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
                    new KafkaRaftServer(new KafkaConfig(brokerProps(config, logDir), false), Time.SYSTEM);
            server.startup();
            KafkaBroker broker = new KafkaBroker(bootstrap, server);
            broker.createCatalogTopics();
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

    private static Map<String, Object> brokerProps(DevstackConfig config, Path logDir) {
        Map<String, Object> props = new HashMap<>();
        props.put("process.roles", "broker,controller");
        props.put("node.id", String.valueOf(NODE_ID));
        props.put("controller.quorum.voters", NODE_ID + "@127.0.0.1:" + config.controllerPort());
        props.put(
                "listeners",
                "PLAINTEXT://127.0.0.1:" + config.kafkaPort() + "," + CONTROLLER_LISTENER + "://127.0.0.1:"
                        + config.controllerPort());
        props.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + config.kafkaPort());
        props.put("controller.listener.names", CONTROLLER_LISTENER);
        props.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT," + CONTROLLER_LISTENER + ":PLAINTEXT");
        props.put("inter.broker.listener.name", "PLAINTEXT");
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

    private void createCatalogTopics() throws InterruptedException, ExecutionException {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        try (Admin admin = Admin.create(props)) {
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
