package dev.vigil.load;

import dev.vigil.agent.publish.SpoolPublisher;
import dev.vigil.devstack.Devstack;
import dev.vigil.devstack.DevstackConfig;
import dev.vigil.devstack.Endpoints;
import dev.vigil.devstack.Ports;
import dev.vigil.devstack.ServiceProcess;
import dev.vigil.schemas.Envelopes;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.ObjectKeys;
import dev.vigil.schemas.TopicCatalog;
import dev.vigil.schemas.agent.AgentEvent;
import dev.vigil.schemas.agent.AgentSamples;
import dev.vigil.schemas.agent.AgentStatus;
import dev.vigil.schemas.agent.AgentStatusKind;
import dev.vigil.schemas.agent.ArtifactManifest;
import dev.vigil.schemas.agent.BlockSample;
import dev.vigil.schemas.agent.Lifecycle;
import dev.vigil.schemas.agent.LifecycleState;
import dev.vigil.schemas.agent.NetSample;
import dev.vigil.schemas.agent.VcpuSample;
import dev.vigil.schemas.agent.VmSample;
import dev.vigil.schemas.common.ArtifactKind;
import dev.vigil.schemas.common.Source;
import dev.vigil.schemas.common.VmRef;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.tools.ProducerPerformance;

/**
 * Ingestion's throughput and publish-to-durable latency under mixed agent traffic, against Kafka's own
 * {@code ProducerPerformance} on the same broker in the same run.
 *
 * <p>Usage: {@code load-tests/run IngestionThroughputBenchmark [records] [vms-per-sample-record] [paced-rate]
 * [rounds] [warm-up-rounds] [durable]}. Records are encoded and sealed (as their hosts' agents seal them) before
 * sending starts. {@code durable} runs PostgreSQL with fsync and synchronous_commit on, as production does; without
 * it both are off, as in the test stack. Three phases on one devstack:
 * <ol>
 *   <li>{@code ProducerPerformance} writes {@code records} records of the mix's mean size to a topic with the agent
 *       topics' partitioning, acks=all, three times (the first run in the JVM is cold); it runs once more just
 *       before each measured round of the next phase, and the ratio is the median of the rounds' ratios to their
 *       paired run, since the shared machine's speed drifts between minutes;
 *   <li>the packaged ingestion service runs while a producer sends rounds of {@code records} mixed agent records as
 *       fast as it can: unmeasured warm-up rounds until the JIT has settled (at least {@code warm-up-rounds},
 *       default 5, and then until the compiler threads took at most a tenth of the service's CPU over three
 *       rounds; on 2 cores that takes about 20 rounds of 150,000 records), then {@code rounds} (default 3)
 *       measured ones. A round's rate is its records over the time from the first send until the last record is
 *       durable in PostgreSQL; every event id is counted there. The median round is reported;
 *   <li>a fresh ingestion process takes traffic paced at {@code paced-rate} records/s for 30 s of warm-up and then
 *       60 s; its publish-to-durable p50/p99 are those of the records made durable in those 60 s (its own metric's
 *       histogram, read before and after), beside Kafka's {@code EndToEndLatency} right after as the baseline. A
 *       {@code paced-rate} of 0 skips this phase, e.g. while profiling the saturated rounds.
 * </ol>
 */
public final class IngestionThroughputBenchmark {

    private static final Path APP = Path.of("services/ingestion/target/quarkus-app/quarkus-run.jar");
    // Per 100 records: 88 sample records (one per host per period), 10 events (lifecycle, heartbeats), 2 artifacts.
    private static final int SAMPLES_PER_100 = 88;
    private static final int EVENTS_PER_100 = 10;
    private static final int HOSTS = 200;
    private static final int VMS_PER_HOST_TOTAL = 20;
    private static final Duration SAMPLE_PERIOD = Duration.ofSeconds(5);
    /** The JIT counts as settled once its compiler threads took at most this share of the service's CPU... */
    private static final double SETTLED = 0.10;
    /** ... over this many consecutive warm-up rounds. */
    private static final int SETTLED_ROUNDS = 3;
    /** Warm-up rounds at most, whatever the JIT does. */
    private static final int MAX_WARM_UPS = 40;
    /** Linux's name for HotSpot's compiler threads ({@code C2 CompilerThread0}), cut to 15 characters. */
    private static final String COMPILER_THREADS = "CompilerThre";

    private IngestionThroughputBenchmark() {}

    public static void main(String[] args) throws Exception {
        int records = args.length > 0 ? Integer.parseInt(args[0]) : 300_000;
        int vmsPerSample = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        int pacedRate = args.length > 2 ? Integer.parseInt(args[2]) : 5_000;
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 3;
        int warmups = args.length > 4 ? Integer.parseInt(args[4]) : 5;
        // "durable": PostgreSQL with fsync and synchronous_commit on, as a production database runs.
        boolean durable = args.length > 5 && args[5].equals("durable");
        if (!Files.exists(APP)) {
            throw new IllegalStateException(APP + " is missing: run ./mvnw install -Dquick first");
        }
        Path logs = Files.createTempDirectory("vigil-ingestion-bench-");
        DevstackConfig config = durable ? DevstackConfig.forTests().durablePostgres() : DevstackConfig.forTests();
        System.out.println("PostgreSQL with fsync and synchronous_commit " + (durable ? "on" : "off"));
        try (Devstack stack = Devstack.start(config)) {
            Endpoints endpoints = stack.endpoints();
            Traffic traffic = new Traffic(vmsPerSample);
            int meanSize = traffic.meanRecordBytes();

            // The baseline is as noisy as the service on a shared machine: the median of three runs.
            double[] rawRates = new double[3];
            for (int run = 0; run < rawRates.length; run++) {
                rawRates[run] = producerPerformance(endpoints, records, meanSize, run);
            }
            double rawRate = median(rawRates);

            List<Result> measured = new ArrayList<>();
            Map<String, Supplier<Stream<ProcessHandle>>> parts = new LinkedHashMap<>();
            parts.put("load generator and broker", CpuAccount.self());
            parts.put("ingestion", CpuAccount.children("quarkus-run.jar"));
            parts.put("PostgreSQL", postgresProcesses(endpoints));
            CpuAccount cpu = new CpuAccount(parts);
            int port = Ports.free();
            try (ServiceProcess ingestion =
                    ServiceProcess.start(APP, endpoints, port, Map.of(), logs.resolve("a.log"))) {
                ingestion.awaitReady("http://127.0.0.1:" + port, Duration.ofSeconds(120));
                // Warm-up: the same traffic, unmeasured, until the JIT has settled. A long-running service spends
                // next to nothing compiling; until then its compiler threads compete with it for the 2 cores (they
                // took a quarter to a third of its CPU through the first ten rounds). At least `warmups` rounds,
                // then more until the compiler threads took at most SETTLED of the service's CPU over the last
                // SETTLED_ROUNDS rounds (single rounds swing between 1% and 20% near the end), at most MAX_WARM_UPS.
                boolean settled = false;
                List<Double> compiling = new ArrayList<>();
                for (int round = 1; round <= warmups || (!settled && round <= MAX_WARM_UPS); round++) {
                    Result warm = sendAndAwaitDurable(endpoints, port, traffic, records, 0, cpu);
                    compiling.add(warm.compilerShare());
                    settled = settled(compiling);
                    System.out.printf(
                            Locale.ROOT,
                            "warm-up round %d: %.0f records/s; the JIT compiler's threads took %.0f%% of the"
                                    + " service's CPU%n",
                            round,
                            warm.durableRate(),
                            warm.compilerShare() * 100);
                }
                if (!settled) {
                    System.out.printf(
                            Locale.ROOT,
                            "the JIT had not settled after %d warm-up rounds (its compiler threads took over %.0f%% of"
                                    + " the service's CPU in the last rounds); measuring anyway%n",
                            MAX_WARM_UPS,
                            SETTLED * 100);
                }
                for (int round = 1; round <= rounds; round++) {
                    // The machine's speed drifts from minute to minute (neighbours share its cores): each round
                    // is paired with a baseline run just before it, and the ratio is taken per pair.
                    double paired = producerPerformance(endpoints, records, meanSize, rawRates.length + round);
                    Map<String, Double> before = batchMetrics(port);
                    Result result = sendAndAwaitDurable(endpoints, port, traffic, records, 0, cpu);
                    result = result.withBusy(busyChannels(before, batchMetrics(port)))
                            .withBaseline(paired);
                    System.out.printf(
                            Locale.ROOT,
                            "measured round %d: %.0f records/s; ProducerPerformance just before %.0f, ratio %.3f;"
                                    + " CPU: %s%n",
                            round,
                            result.durableRate(),
                            paired,
                            result.durableRate() / paired,
                            result.cpu());
                    measured.add(result);
                }
            }
            List<Result> byRate = new ArrayList<>(measured);
            byRate.sort(java.util.Comparator.comparingDouble(Result::durableRate));
            Result drain = byRate.get(byRate.size() / 2);
            double pairedRatio = median(measured.stream()
                    .mapToDouble(r -> r.durableRate() / r.baseline())
                    .toArray());
            double pairedBaseline =
                    median(measured.stream().mapToDouble(Result::baseline).toArray());
            String busy = drain.busy();
            String p99 = "not measured (paced-rate 0)";
            if (pacedRate > 0) {
                int pacedPort = Ports.free();
                try (ServiceProcess ingestion =
                        ServiceProcess.start(APP, endpoints, pacedPort, Map.of(), logs.resolve("b.log"))) {
                    ingestion.awaitReady("http://127.0.0.1:" + pacedPort, Duration.ofSeconds(120));
                    sendAndAwaitDurable(endpoints, pacedPort, traffic, pacedRate * 30, pacedRate);
                    String beforeMetrics = metrics(pacedPort);
                    Map<String, TreeMap<Double, Double>> before = histograms(beforeMetrics, DURABLE_BUCKET);
                    Map<String, TreeMap<Double, Double>> stagesBefore = histograms(beforeMetrics, STAGE_BUCKET);
                    sendAndAwaitDurable(endpoints, pacedPort, traffic, pacedRate * 60, pacedRate);
                    String metrics = metrics(pacedPort);
                    // The baseline: Kafka's own send-to-consume time on this machine, measured right after.
                    KafkaLatency kafka = KafkaLatency.measure(endpoints, 3000, meanSize);
                    p99 = phaseQuantiles(before, histograms(metrics, DURABLE_BUCKET))
                            + "\n  where it went, per record (delivery: publish to the batch in a worker's hands;"
                            + " processing: the batch's work in its transaction; commit):"
                            + phaseQuantiles(stagesBefore, histograms(metrics, STAGE_BUCKET))
                            + String.format(
                                    Locale.ROOT,
                                    "%n  baseline, Kafka's EndToEndLatency right after (%d records of %d bytes, acks=all,"
                                            + " one at a time): p50 %d ms, p99 %d ms",
                                    kafka.messages(),
                                    kafka.bytes(),
                                    kafka.p50(),
                                    kafka.p99())
                            + "\n  Micrometer's own p50/p99 (a decaying window of about two minutes, so it still holds"
                            + " part of the warm-up):" + windowQuantiles(metrics);
                }
            }

            System.out.printf(
                    Locale.ROOT,
                    "%nmix per 100 records: %d sample records of %d VMs, %d events, %d artifact manifests;"
                            + " mean record %d bytes%n",
                    SAMPLES_PER_100,
                    vmsPerSample,
                    EVENTS_PER_100,
                    100 - SAMPLES_PER_100 - EVENTS_PER_100,
                    meanSize);
            System.out.printf(Locale.ROOT, "| run | records/s |%n|---|---|%n");
            System.out.printf(
                    Locale.ROOT,
                    "| Kafka ProducerPerformance, %d records of %d bytes, acks=all, median of 3 runs | %.0f |%n",
                    records,
                    meanSize,
                    rawRate);
            System.out.printf(
                    Locale.ROOT,
                    "| Kafka ProducerPerformance, the same, run just before each measured round, median | %.0f |%n",
                    pairedBaseline);
            System.out.printf(
                    Locale.ROOT, "| mixed agent traffic sent by the benchmark's producer | %.0f |%n", drain.sendRate());
            System.out.printf(
                    Locale.ROOT,
                    "| ingestion: first send to last record durable in PostgreSQL, median of %d rounds | %.0f |%n",
                    measured.size(),
                    drain.durableRate());
            System.out.printf(
                    Locale.ROOT,
                    "%nratio ingestion / ProducerPerformance: median of the rounds' ratios to their paired run %.3f,"
                            + " median round to the opening runs' median %.3f; VM samples taken in/s = %.0f;"
                            + " records accounted for in the measured rounds: %d of %d (dead-lettered: %d)%n",
                    pairedRatio,
                    drain.durableRate() / rawRate,
                    drain.durableRate() * SAMPLES_PER_100 / 100.0 * vmsPerSample,
                    measured.stream().mapToLong(Result::durable).sum(),
                    (long) records * measured.size(),
                    drain.deadLettered());
            System.out.printf(
                    Locale.ROOT,
                    "median round, last record durable, seconds after the first send: samples %.1f, events %.1f, artifacts %.1f%n",
                    drain.lastDurableSeconds()[0],
                    drain.lastDurableSeconds()[1],
                    drain.lastDurableSeconds()[2]);
            System.out.printf(Locale.ROOT, "time spent in polled batches during the median round: %s%n", busy);
            System.out.printf(Locale.ROOT, "CPU during the median round: %s%n", drain.cpu());
            System.out.printf(Locale.ROOT, "publish-to-durable at %d records/s for 60 s: %s%n", pacedRate, p99);
        } finally {
            System.out.println("service logs: " + logs);
        }
    }

    /** Runs Kafka's ProducerPerformance in-process and returns its records/s. */
    private static double producerPerformance(Endpoints endpoints, int records, int recordSize, int run)
            throws Exception {
        String topic = "bench.producer-performance-" + run;
        Properties admin = new Properties();
        admin.putAll(endpoints.kafkaClient());
        try (Admin client = Admin.create(admin)) {
            client.createTopics(List.of(new NewTopic(topic, TopicCatalog.AGENT_SAMPLES.partitions(), (short) 1)))
                    .all()
                    .get();
        }
        // Producing to a topic whose partitions were not all writable yet made the idempotent producer resend a
        // partition's first batch after later ones were written: out-of-sequence errors, 84 records lost and a run
        // of 1,247/s. One acknowledged record on every partition first is the signal that each one takes writes.
        Properties probe = new Properties();
        probe.putAll(endpoints.kafkaClient());
        probe.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(probe, new ByteArraySerializer(), new ByteArraySerializer())) {
            List<java.util.concurrent.Future<?>> acks = new ArrayList<>();
            for (int partition = 0; partition < TopicCatalog.AGENT_SAMPLES.partitions(); partition++) {
                acks.add(producer.send(new ProducerRecord<>(topic, partition, null, new byte[0])));
            }
            for (java.util.concurrent.Future<?> ack : acks) {
                ack.get(30, java.util.concurrent.TimeUnit.SECONDS);
            }
        }
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            List<String> args = new ArrayList<>(List.of(
                    "--topic",
                    topic,
                    "--num-records",
                    String.valueOf(records),
                    "--record-size",
                    String.valueOf(recordSize),
                    "--throughput",
                    "-1",
                    "--producer-props",
                    "acks=all",
                    "linger.ms=5",
                    "batch.size=131072"));
            endpoints.kafkaClient().forEach((key, value) -> args.add(key + "=" + value));
            ProducerPerformance.main(args.toArray(String[]::new));
        } finally {
            System.setOut(original);
        }
        String output = captured.toString(StandardCharsets.UTF_8);
        Matcher m =
                Pattern.compile("(\\d+) records sent, ([0-9.]+) records/sec").matcher(output);
        double rate = -1;
        long sent = 0;
        while (m.find()) { // the last match is the summary; earlier ones are 5-second windows
            sent = Long.parseLong(m.group(1));
            rate = Double.parseDouble(m.group(2));
        }
        if (sent < records) {
            throw new IllegalStateException("ProducerPerformance sent " + sent + " of " + records + " records: "
                    + output.lines().reduce((a, b) -> b).orElse(""));
        }
        System.out.println(
                "ProducerPerformance: " + output.lines().reduce((a, b) -> b).orElse(""));
        return rate;
    }

    /**
     * @param lastDurableSeconds per table (samples, events, artifacts): when its last record of the round became
     *     durable, in seconds from the first send; which channel sets the pace
     */
    private record Result(
            double sendRate,
            double durableRate,
            long durable,
            long deadLettered,
            double[] lastDurableSeconds,
            String busy,
            String cpu,
            double compilerShare,
            double baseline) {
        Result withBusy(String channels) {
            return new Result(
                    sendRate,
                    durableRate,
                    durable,
                    deadLettered,
                    lastDurableSeconds,
                    channels,
                    cpu,
                    compilerShare,
                    baseline);
        }

        /** With the records/s of the ProducerPerformance run paired with this round. */
        Result withBaseline(double rate) {
            return new Result(
                    sendRate, durableRate, durable, deadLettered, lastDurableSeconds, busy, cpu, compilerShare, rate);
        }
    }

    /**
     * Whether the JIT compiler's threads took at most {@code SETTLED} of the service's CPU, on average, over the last
     * {@code SETTLED_ROUNDS} rounds; without {@code /proc} to read (NaN shares) it cannot tell, and says yes.
     */
    private static boolean settled(List<Double> compilerShares) {
        if (compilerShares.size() < SETTLED_ROUNDS) {
            return false;
        }
        double mean = compilerShares.subList(compilerShares.size() - SETTLED_ROUNDS, compilerShares.size()).stream()
                .mapToDouble(Double::doubleValue)
                .average()
                .orElseThrow();
        return Double.isNaN(mean) || mean <= SETTLED;
    }

    /** The producer's own average of compressed to uncompressed batch size (1 when it does not compress). */
    private static double compressionRate(KafkaProducer<byte[], byte[]> producer) {
        return producer.metrics().entrySet().stream()
                .filter(e -> e.getKey().name().equals("compression-rate-avg")
                        && e.getKey().group().equals("producer-metrics"))
                .mapToDouble(e -> ((Number) e.getValue().metricValue()).doubleValue())
                .findFirst()
                .orElse(Double.NaN);
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        java.util.Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /**
     * Sends {@code records} mixed records (paced at {@code rate} records/s, or as fast as possible when 0) and waits
     * until every one of them is durable in ingestion's tables.
     */
    private static Result sendAndAwaitDurable(Endpoints endpoints, int port, Traffic traffic, int records, int rate)
            throws Exception {
        return sendAndAwaitDurable(endpoints, port, traffic, records, rate, null);
    }

    /** As above; with a CPU account, also the CPU each part used from the first send until the last commit. */
    private static Result sendAndAwaitDurable(
            Endpoints endpoints, int port, Traffic traffic, int records, int rate, CpuAccount cpu) throws Exception {
        long[] before = durable(endpoints);
        long[] committed = committed(port);
        // Sent the way agents send (idempotent, acks=all, batches compressed with zstd), with the agent's default
        // delivery timeout. One producer stands in for the whole fleet: with an agent's 16 KB batches its request
        // round trips capped it below 30,000 records/s, where a fleet sends over hundreds of connections at once.
        Properties props =
                SpoolPublisher.producerProperties(endpoints.kafkaClient(), "bench-agent-fleet", Duration.ofMinutes(2));
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, "131072");
        AtomicLong failed = new AtomicLong();
        AtomicReference<Exception> firstFailure = new AtomicReference<>();
        // Encoded before the clock starts: the benchmark measures ingestion, not the load generator's Avro.
        // Sealed then too, as each host's agent seals its records (ingestion checks every seal).
        List<ProducerRecord<byte[], byte[]>> encoded = new ArrayList<>(records);
        try (Serializer<byte[]> sealing = endpoints.recordKeys().sealing()) {
            for (int i = 0; i < records; i++) {
                ProducerRecord<byte[], byte[]> record = traffic.next(i);
                sealing.serialize(record.topic(), record.headers(), record.value());
                encoded.add(record);
            }
        }
        Map<String, Double> cpuBefore = cpu == null ? Map.of() : cpu.read();
        Instant startedAt = Instant.now();
        long start = System.nanoTime();
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < records; i++) {
                if (rate > 0) {
                    long due = start + (long) i * 1_000_000_000L / rate;
                    long wait = due - System.nanoTime();
                    if (wait > 0) {
                        LockSupport.parkNanos(wait);
                    }
                }
                producer.send(encoded.get(i), (metadata, e) -> {
                    if (e != null) {
                        failed.incrementAndGet();
                        firstFailure.compareAndSet(null, e);
                    }
                });
            }
            producer.flush();
            if (cpu != null) {
                System.out.printf(
                        Locale.ROOT, "    batches sent compressed to %.2f of their size%n", compressionRate(producer));
            }
        }
        if (failed.get() > 0) {
            throw new IllegalStateException(failed.get() + " sends failed", firstFailure.get());
        }
        double sendSeconds = (System.nanoTime() - start) / 1e9;
        // Completion is read from the service's own count of records in committed batches, twice a second: a scrape
        // is 150 KB of metrics, and counting the growing tables would load PostgreSQL during the round. When the
        // round is done, the time its last record of each kind was taken is read from the rows (the greatest
        // received_at, a few milliseconds before that batch's commit), and the rows are counted: that count and
        // that time are what the round reports.
        long target = sum(committed) + records;
        long lastProgress = System.nanoTime();
        for (long[] seen = committed; sum(seen) < target; ) {
            if (System.nanoTime() - lastProgress > Duration.ofSeconds(60).toNanos()) {
                break;
            }
            Thread.sleep(500);
            long[] now = committed(port);
            if (sum(now) > sum(seen)) {
                lastProgress = System.nanoTime();
            }
            seen = now;
        }
        double[] lastDurable = lastReceived(endpoints, startedAt);
        double seconds = java.util.Arrays.stream(lastDurable).max().orElse(0);
        Map<String, Double> cpuAfter = cpu == null ? Map.of() : cpu.read();
        String used = cpu == null
                ? ""
                : CpuAccount.perThousand(cpuBefore, cpuAfter, records)
                        + "\n    PostgreSQL by process, ms/1k records: "
                        + CpuAccount.postgresKinds(cpuBefore, cpuAfter, records)
                        + "\n    busiest threads of the benchmark's JVM: "
                        + CpuAccount.busiestThreads(cpuBefore, cpuAfter, 6)
                        + "\n    busiest threads of the service: "
                        + CpuAccount.busiestThreads("ingestion", cpuBefore, cpuAfter, 8);
        double compiling =
                cpu == null ? Double.NaN : CpuAccount.threadShare("ingestion", COMPILER_THREADS, cpuBefore, cpuAfter);
        long counted = sum(durable(endpoints)) - sum(before);
        return new Result(
                records / sendSeconds,
                counted / seconds,
                counted,
                deadLettered(endpoints),
                lastDurable,
                "",
                used,
                compiling,
                0);
    }

    /** PostgreSQL's processes: the postmaster (found as a backend's parent, while that backend lives) and children. */
    private static Supplier<Stream<ProcessHandle>> postgresProcesses(Endpoints endpoints) throws Exception {
        try (Connection c = DriverManager.getConnection(endpoints.jdbcUrl(), endpoints.jdbcUser(), "");
                Statement s = c.createStatement();
                ResultSet r = s.executeQuery("SELECT pg_backend_pid()")) {
            r.next();
            return CpuAccount.postgres(r.getLong(1));
        }
    }

    /**
     * Seconds from {@code start} to the newest received_at of sample records, events and artifact manifests (0 for
     * a kind with no row taken since {@code start}).
     */
    private static double[] lastReceived(Endpoints endpoints, Instant start) throws Exception {
        try (Connection c = DriverManager.getConnection(endpoints.jdbcUrl(), endpoints.jdbcUser(), "");
                Statement s = c.createStatement();
                ResultSet r = s.executeQuery("SELECT (SELECT max(received_at) FROM ingestion.sample_batch),"
                        + " (SELECT max(received_at) FROM ingestion.agent_event),"
                        + " (SELECT max(received_at) FROM ingestion.artifact)")) {
            r.next();
            double[] seconds = new double[3];
            for (int t = 0; t < seconds.length; t++) {
                java.sql.Timestamp last = r.getTimestamp(t + 1);
                if (last != null && last.toInstant().isAfter(start)) {
                    seconds[t] = Duration.between(start, last.toInstant()).toNanos() / 1e9;
                }
            }
            return seconds;
        }
    }

    /** Records in committed batches, by kind (samples, events, artifact manifests), from the service's metrics. */
    private static long[] committed(int port) throws IOException, InterruptedException {
        Map<String, Double> values = batchMetrics(port);
        long[] counts = new long[3];
        List<String> topics = List.of(
                TopicCatalog.AGENT_SAMPLES.name(),
                TopicCatalog.AGENT_EVENTS.name(),
                TopicCatalog.AGENT_ARTIFACTS.name());
        for (int t = 0; t < counts.length; t++) {
            counts[t] = Math.round(
                    values.getOrDefault("vigil_ingestion_batch_records_total{topic=\"" + topics.get(t) + "\"}", 0.0));
        }
        return counts;
    }

    private static long sum(long[] counts) {
        long total = 0;
        for (long c : counts) {
            total += c;
        }
        return total;
    }

    /** Records durable in ingestion's tables, one row per event id: sample records, events, artifact manifests. */
    private static long[] durable(Endpoints endpoints) throws Exception {
        try (Connection c = DriverManager.getConnection(endpoints.jdbcUrl(), endpoints.jdbcUser(), "");
                Statement s = c.createStatement()) {
            try (ResultSet r = s.executeQuery("SELECT (SELECT count(*) FROM ingestion.sample_batch),"
                    + " (SELECT count(*) FROM ingestion.agent_event), (SELECT count(*) FROM ingestion.artifact)")) {
                r.next();
                return new long[] {r.getLong(1), r.getLong(2), r.getLong(3)};
            }
        } catch (java.sql.SQLException e) {
            return new long[3]; // The schema is not migrated yet.
        }
    }

    private static long deadLettered(Endpoints endpoints) throws Exception {
        Properties admin = new Properties();
        admin.putAll(endpoints.kafkaClient());
        try (Admin client = Admin.create(admin)) {
            var partitions = client.describeTopics(List.of(TopicCatalog.INGESTION_DEAD_LETTER.name()))
                    .allTopicNames()
                    .get()
                    .get(TopicCatalog.INGESTION_DEAD_LETTER.name())
                    .partitions();
            Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.admin.OffsetSpec> latest =
                    new java.util.HashMap<>();
            partitions.forEach(p -> latest.put(
                    new org.apache.kafka.common.TopicPartition(
                            TopicCatalog.INGESTION_DEAD_LETTER.name(), p.partition()),
                    org.apache.kafka.clients.admin.OffsetSpec.latest()));
            return client.listOffsets(latest).all().get().values().stream()
                    .mapToLong(o -> o.offset())
                    .sum();
        }
    }

    /** The batch timers' sums and counts and the records counted, by metric line name (with its topic tag). */
    private static Map<String, Double> batchMetrics(int port) throws IOException, InterruptedException {
        Map<String, Double> values = new java.util.TreeMap<>();
        metrics(port)
                .lines()
                .filter(l -> l.startsWith("vigil_ingestion_batch_"))
                .forEach(l -> {
                    int space = l.lastIndexOf(' ');
                    values.put(l.substring(0, space), Double.parseDouble(l.substring(space + 1)));
                });
        return values;
    }

    /** Per topic: seconds inside batches, batches, and records per batch, between two scrapes. */
    private static String busyChannels(Map<String, Double> before, Map<String, Double> after) {
        StringBuilder out = new StringBuilder();
        for (String topic : List.of(
                TopicCatalog.AGENT_SAMPLES.name(),
                TopicCatalog.AGENT_EVENTS.name(),
                TopicCatalog.AGENT_ARTIFACTS.name())) {
            String tag = "{topic=\"" + topic + "\"}";
            double seconds = delta(before, after, "vigil_ingestion_batch_seconds_sum" + tag);
            double batches = delta(before, after, "vigil_ingestion_batch_seconds_count" + tag);
            double records = delta(before, after, "vigil_ingestion_batch_records_total" + tag);
            if (batches > 0) {
                out.append(String.format(
                        Locale.ROOT,
                        "%n  %s: %.1f s in %.0f batches of %.0f records on average",
                        topic,
                        seconds,
                        batches,
                        records / batches));
            }
        }
        return out.toString();
    }

    private static double delta(Map<String, Double> before, Map<String, Double> after, String line) {
        return after.getOrDefault(line, 0.0) - before.getOrDefault(line, 0.0);
    }

    private static String metrics(int port) throws IOException, InterruptedException {
        return HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/q/metrics"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
    }

    private static String windowQuantiles(String metrics) {
        StringBuilder out = new StringBuilder();
        metrics.lines()
                .filter(l -> l.startsWith("vigil_ingestion_publish_to_durable_seconds{"))
                .forEach(l -> out.append("\n  ").append(l));
        return out.toString();
    }

    static final String DURABLE_BUCKET = "vigil_ingestion_publish_to_durable_seconds_bucket{";
    static final String STAGE_BUCKET = "vigil_ingestion_publish_to_durable_stage_seconds_bucket{";
    private static final Pattern LE = Pattern.compile("[{,]le=\"([^\"]+)\"");
    private static final Pattern TOPIC = Pattern.compile("[{,]topic=\"([^\"]+)\"");
    private static final Pattern STAGE = Pattern.compile("[{,]stage=\"([^\"]+)\"");

    /**
     * The cumulative histograms (upper bound in seconds to count) of one metric since the start, by topic, or by topic
     * and stage for the stage metric.
     */
    static Map<String, TreeMap<Double, Double>> histograms(String metrics, String bucket) {
        Map<String, TreeMap<Double, Double>> histograms = new TreeMap<>();
        metrics.lines().filter(line -> line.startsWith(bucket)).forEach(line -> {
            int close = line.lastIndexOf('}');
            String labels = line.substring(bucket.length() - 1, close + 1);
            Matcher le = LE.matcher(labels);
            Matcher topic = TOPIC.matcher(labels);
            Matcher stage = STAGE.matcher(labels);
            if (le.find() && topic.find()) {
                double bound = le.group(1).equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le.group(1));
                String[] value = line.substring(close + 1).trim().split("\\s+");
                String key = stage.find() ? topic.group(1) + " " + stage.group(1) : topic.group(1);
                histograms.computeIfAbsent(key, t -> new TreeMap<>()).put(bound, Double.parseDouble(value[0]));
            }
        });
        return histograms;
    }

    /**
     * p50 and p99 of exactly the records made durable between two histograms (the measured phase, nothing of the
     * warm-up), from the difference of the cumulative buckets, interpolated within the bucket that holds each
     * quantile.
     */
    static String phaseQuantiles(
            Map<String, TreeMap<Double, Double>> before, Map<String, TreeMap<Double, Double>> after) {
        StringBuilder out = new StringBuilder();
        after.forEach((topic, counts) -> {
            TreeMap<Double, Double> earlier = before.getOrDefault(topic, new TreeMap<>());
            TreeMap<Double, Double> phase = new TreeMap<>();
            counts.forEach((le, n) -> phase.put(le, n - earlier.getOrDefault(le, 0.0)));
            double total = phase.lastEntry().getValue();
            out.append(String.format(
                    Locale.ROOT,
                    "%n  %s: %.0f records, p50 %.0f ms, p99 %.0f ms",
                    topic,
                    total,
                    quantile(phase, total, 0.5) * 1000,
                    quantile(phase, total, 0.99) * 1000));
        });
        return out.toString();
    }

    private static double quantile(TreeMap<Double, Double> cumulative, double total, double q) {
        double rank = q * total;
        double lower = 0;
        double below = 0;
        for (Map.Entry<Double, Double> bucket : cumulative.entrySet()) {
            if (bucket.getValue() >= rank) {
                if (bucket.getKey().isInfinite()) {
                    return lower;
                }
                double inBucket = bucket.getValue() - below;
                return inBucket <= 0 ? bucket.getKey() : lower + (bucket.getKey() - lower) * (rank - below) / inBucket;
            }
            lower = bucket.getKey();
            below = bucket.getValue();
        }
        return lower;
    }

    /** The mixed agent traffic of a fleet: {@code HOSTS} hosts, each with its VMs. */
    private static final class Traffic {

        private final int vmsPerSample;
        // Simulated time moves on across rounds, so no VM sample repeats an earlier one's time.
        // A host's round of 150,000 records covers about 55 minutes of it: two days back leaves room for about fifty
        // rounds before samples would come from the future (refused as out of range).
        private final Instant start = Instant.now().minus(Duration.ofDays(2));
        private long samplesMade;
        // Each VM's own load, so that a record's VMs carry different counters, as real ones do: identical numbers
        // would compress far better than a fleet's samples and flatter everything downstream of the producer.
        private final Map<String, double[]> loads = new java.util.HashMap<>();
        private final java.util.Random noise = new java.util.Random(7);
        private final List<Source> sources = new ArrayList<>();
        private final List<List<VmRef>> vms = new ArrayList<>();

        Traffic(int vmsPerSample) {
            this.vmsPerSample = vmsPerSample;
            for (int h = 0; h < HOSTS; h++) {
                String host = "bench-host-" + h;
                sources.add(Source.newBuilder()
                        .setHostId(host)
                        .setAgentId(host + "-agent")
                        .setAgentVersion("1.4.0")
                        .build());
                List<VmRef> own = new ArrayList<>();
                for (int v = 0; v < Math.max(vmsPerSample, VMS_PER_HOST_TOTAL); v++) {
                    own.add(VmRef.newBuilder()
                            .setUuid(UUID.randomUUID().toString())
                            .setName(host + "-vm-" + v)
                            .setProduct("AcmeOS")
                            .setRelease("12.0-beta" + (v % 3))
                            .build());
                }
                vms.add(own);
            }
        }

        int meanRecordBytes() {
            long total = 0;
            long made = samplesMade;
            for (int i = 0; i < 100; i++) {
                total += next(i).value().length;
            }
            samplesMade = made;
            return (int) (total / 100);
        }

        /**
         * Record {@code i} of the stream. Sample records go to the hosts in turn, each host's samples
         * {@code SAMPLE_PERIOD} apart in simulated time (starting six hours ago), as a fleet of agents sampling every
         * 5 s would send them.
         */
        ProducerRecord<byte[], byte[]> next(int i) {
            int slot = i % 100;
            int hundred = i / 100;
            int host = (hundred * 100 + slot) % HOSTS;
            Source source = sources.get(host);
            Instant now = Instant.now();
            if (slot < SAMPLES_PER_100) {
                long sample = samplesMade++;
                Instant sampledAt = start.plus(SAMPLE_PERIOD.multipliedBy(sample / HOSTS));
                List<VmSample> rows = new ArrayList<>(vmsPerSample);
                for (int v = 0; v < vmsPerSample; v++) {
                    VmRef vm = vms.get((int) (sample % HOSTS)).get(v);
                    rows.add(sample(vm, load(vm), sample / HOSTS * SAMPLE_PERIOD.toSeconds(), noise));
                }
                source = sources.get((int) (sample % HOSTS));
                AgentSamples samples = AgentSamples.newBuilder()
                        .setEnvelope(Envelopes.create(
                                AgentSamples.class, AgentSamples.getClassSchema(), source, "acme", sampledAt))
                        .setSampledAt(sampledAt)
                        .setPeriodMillis((int) SAMPLE_PERIOD.toMillis())
                        .setVms(rows)
                        .setHost(null)
                        .build();
                return record(
                        TopicCatalog.AGENT_SAMPLES.name(),
                        source.getHostId(),
                        EventCodec.of(AgentSamples.class).encode(samples));
            }
            VmRef vm = vms.get(host).get(i % VMS_PER_HOST_TOTAL);
            if (slot < SAMPLES_PER_100 + EVENTS_PER_100) {
                AgentEvent event = slot % 3 == 0
                        ? event(
                                Lifecycle.newBuilder()
                                        .setState(LifecycleState.STARTED)
                                        .setReason("BOOTED")
                                        .setSettled(true)
                                        .build(),
                                source,
                                vm,
                                now)
                        : event(
                                AgentStatus.newBuilder()
                                        .setStatus(AgentStatusKind.HEARTBEAT)
                                        .setHypervisorUri("qemu:///system")
                                        .setDomainsWatched(VMS_PER_HOST_TOTAL)
                                        .build(),
                                source,
                                null,
                                now);
                String key = event.getVm() == null ? source.getHostId() : vm.getUuid();
                return record(
                        TopicCatalog.AGENT_EVENTS.name(),
                        key,
                        EventCodec.of(AgentEvent.class).encode(event));
            }
            String sha = String.format(Locale.ROOT, "%064x", i);
            ArtifactManifest manifest = ArtifactManifest.newBuilder()
                    .setEnvelope(Envelopes.create(
                            ArtifactManifest.class, ArtifactManifest.getClassSchema(), source, "acme", now))
                    .setVm(vm)
                    .setIncidentId(null)
                    .setKind(ArtifactKind.SCREENSHOT)
                    .setBucket("vigil-artifacts")
                    .setObjectKey(ObjectKeys.evidence("acme", source.getHostId(), sha))
                    .setSha256(sha)
                    .setSizeBytes(4096)
                    .setFormat("png")
                    .build();
            return record(
                    TopicCatalog.AGENT_ARTIFACTS.name(),
                    vm.getUuid(),
                    EventCodec.of(ArtifactManifest.class).encode(manifest));
        }

        /** A VM's steady load: CPU cores busy, disk read and write and network bytes per second. */
        private double[] load(VmRef vm) {
            return loads.computeIfAbsent(vm.getUuid(), id -> {
                java.util.Random random = new java.util.Random(id.hashCode());
                return new double[] {
                    0.05 + random.nextDouble() * 1.5,
                    random.nextDouble() * 4e6,
                    random.nextDouble() * 2e6,
                    random.nextDouble() * 1e7,
                    random.nextDouble() * 5e6
                };
            });
        }

        /** A VM's cumulative counters {@code seconds} into the run, its load with a little jitter. */
        private static VmSample sample(VmRef vm, double[] load, long seconds, java.util.Random noise) {
            double t = seconds + noise.nextDouble();
            long cpu = (long) (load[0] * t * 1e9);
            long read = (long) (load[1] * t);
            long written = (long) (load[2] * t);
            return VmSample.newBuilder()
                    .setVm(vm)
                    .setState("RUNNING")
                    .setCpuTimeNanos(cpu)
                    .setVcpus(List.of(
                            VcpuSample.newBuilder()
                                    .setIndex(0)
                                    .setTimeNanos(cpu / 2 + noise.nextInt(1_000_000))
                                    .build(),
                            VcpuSample.newBuilder()
                                    .setIndex(1)
                                    .setTimeNanos(cpu / 2 - noise.nextInt(1_000_000))
                                    .build()))
                    .setBlocks(List.of(BlockSample.newBuilder()
                            .setDevice("vda")
                            .setReadBytes(read)
                            .setWriteBytes(written)
                            .setReadRequests(read / 4096)
                            .setWriteRequests(written / 8192)
                            .setAllocationBytes(10_737_418_240L + written / 16)
                            .setCapacityBytes(21_474_836_480L)
                            .build()))
                    .setNets(List.of(NetSample.newBuilder()
                            .setDevice("vnet0")
                            .setRxBytes((long) (load[3] * t))
                            .setTxBytes((long) (load[4] * t))
                            .setRxDrops(noise.nextInt(3))
                            .setTxDrops(0)
                            .build()))
                    .setBalloonCurrentKib(4_194_304L)
                    .setBalloonRssKib(2_097_152L - noise.nextInt(65_536))
                    .build();
        }

        private static AgentEvent event(Object payload, Source source, VmRef vm, Instant at) {
            org.apache.avro.specific.SpecificRecord record = (org.apache.avro.specific.SpecificRecord) payload;
            return AgentEvent.newBuilder()
                    .setEnvelope(Envelopes.create(AgentEvent.class, record.getSchema(), source, "acme", at))
                    .setVm(vm)
                    .setPayload(payload)
                    .build();
        }

        private static ProducerRecord<byte[], byte[]> record(String topic, String key, byte[] value) {
            return new ProducerRecord<>(topic, key.getBytes(StandardCharsets.UTF_8), value);
        }
    }
}
