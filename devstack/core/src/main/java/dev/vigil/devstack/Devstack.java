package dev.vigil.devstack;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The embedded real stack: an Apache Kafka KRaft broker, PostgreSQL and an S3 store on loopback, with the topic
 * catalog's topics and Vigil's buckets created. Tests share one per JVM ({@link #shared()}); the local run starts
 * one on fixed ports with kept data.
 */
public final class Devstack implements AutoCloseable {

    private static Devstack shared;

    private final DevstackConfig config;
    private final KafkaTls kafkaTls;
    private final Endpoints endpoints;
    private final Map<String, Duration> startupTimes;
    private KafkaBroker kafka;
    private PostgresServer postgres;
    private ObjectStore objectStore;

    private Devstack(
            DevstackConfig config,
            KafkaTls kafkaTls,
            KafkaBroker kafka,
            PostgresServer postgres,
            ObjectStore objectStore,
            Map<String, Duration> startupTimes) {
        this.config = config;
        this.kafkaTls = kafkaTls;
        this.kafka = kafka;
        this.postgres = postgres;
        this.objectStore = objectStore;
        this.startupTimes = Map.copyOf(startupTimes);
        // Fixed for the stack's life: a component stopped and started again answers on the same port with the same
        // credentials, so clients configured before an outage find it after.
        this.endpoints = new Endpoints(
                "127.0.0.1:" + config.kafkaPort(),
                postgres.jdbcUrl(),
                PostgresServer.USER,
                objectStore.endpoint(),
                objectStore.accessKey(),
                objectStore.secretKey(),
                config.buckets(),
                kafkaTls,
                RecordKeySecret.open(config.workDir()));
    }

    /** Starts every component; on failure stops what already started and throws {@link DevstackException}. */
    public static Devstack start(DevstackConfig config) {
        List<AutoCloseable> started = new ArrayList<>();
        Map<String, Duration> times = new LinkedHashMap<>();
        try {
            long t0 = System.nanoTime();
            PostgresServer postgres = PostgresServer.start(config);
            started.add(postgres);
            long t1 = System.nanoTime();
            ObjectStore objectStore = ObjectStore.start(config);
            started.add(objectStore);
            long t2 = System.nanoTime();
            KafkaTls kafkaTls = KafkaTls.open(config.workDir().resolve("kafka-tls"));
            KafkaBroker kafka = KafkaBroker.start(config, kafkaTls);
            started.add(kafka);
            long t3 = System.nanoTime();
            times.put("postgresql", Duration.ofNanos(t1 - t0));
            times.put("s3", Duration.ofNanos(t2 - t1));
            times.put("kafka", Duration.ofNanos(t3 - t2));
            return new Devstack(config, kafkaTls, kafka, postgres, objectStore, times);
        } catch (RuntimeException e) {
            closeAll(started);
            throw e;
        }
    }

    /** The stack shared by every test in this JVM: started on first use, stopped when the JVM exits. */
    public static synchronized Devstack shared() {
        if (shared == null) {
            Devstack stack = start(DevstackConfig.forTests());
            Runtime.getRuntime().addShutdownHook(new Thread(stack::close, "vigil-devstack-stop"));
            shared = stack;
        }
        return shared;
    }

    public Endpoints endpoints() {
        return endpoints;
    }

    /** Stops only the broker (its data stays), as an outage would; {@link #startKafka()} brings it back. */
    public synchronized void stopKafka() {
        if (kafka != null) {
            kafka.close();
            kafka = null;
        }
    }

    /** Starts the broker again on the same port with the data it had. */
    public synchronized void startKafka() {
        if (kafka == null) {
            kafka = KafkaBroker.start(config, kafkaTls);
        }
    }

    /**
     * Crashes PostgreSQL: SIGKILL to the postmaster and all its processes, no checkpoint, no shutdown.
     * {@link #startPostgres()} starts it again on the same port and data, which it recovers from its write-ahead log;
     * with {@link DevstackConfig#durablePostgres()} no acknowledged commit is lost.
     */
    public synchronized void killPostgres() {
        if (postgres != null) {
            postgres.kill();
            postgres = null;
        }
    }

    /** Starts PostgreSQL again on the same port with the data it had. */
    public synchronized void startPostgres() {
        if (postgres == null) {
            postgres = PostgresServer.start(config);
        }
    }

    /** Stops the object store (its objects stay), as an outage would; {@link #startObjectStore()} brings it back. */
    public synchronized void stopObjectStore() {
        if (objectStore != null) {
            try {
                objectStore.close();
            } catch (Exception e) {
                throw new DevstackException("the S3 store did not stop: " + e.getMessage(), e);
            }
            objectStore = null;
        }
    }

    /** Starts the object store again on the same port with the objects and credentials it had. */
    public synchronized void startObjectStore() {
        if (objectStore == null) {
            objectStore = ObjectStore.start(config);
        }
    }

    /** How long each component took to start, in start order. */
    public Map<String, Duration> startupTimes() {
        return startupTimes;
    }

    public DevstackConfig config() {
        return config;
    }

    /** Stops every component (Kafka first, so no client is left talking to a dead store) and wipes test data. */
    @Override
    public synchronized void close() {
        List<AutoCloseable> running = new ArrayList<>();
        for (AutoCloseable component : new AutoCloseable[] {objectStore, postgres, kafka}) {
            if (component != null) {
                running.add(component);
            }
        }
        closeAll(running);
        if (!config.keepData()) {
            deleteTree(config.workDir());
        }
    }

    /** Deletes a work directory: the local run's "wipe". */
    public static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.delete(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                    Files.delete(dir);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new DevstackException("cannot delete " + root + ": " + e.getMessage(), e);
        }
    }

    private static void closeAll(List<AutoCloseable> components) {
        // Reverse start order.
        for (int i = components.size() - 1; i >= 0; i--) {
            try {
                components.get(i).close();
            } catch (Exception e) {
                System.err.println(
                        "devstack: stopping " + components.get(i).getClass().getSimpleName() + " failed: " + e);
            }
        }
    }
}
