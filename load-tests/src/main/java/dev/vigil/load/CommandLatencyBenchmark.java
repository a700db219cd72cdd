package dev.vigil.load;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vigil.agent.Agent;
import dev.vigil.agent.config.AgentConfig;
import dev.vigil.agent.delivery.Enrolment;
import dev.vigil.devstack.Devstack;
import dev.vigil.devstack.DevstackConfig;
import dev.vigil.devstack.Endpoints;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.TopicCatalog;
import dev.vigil.schemas.agent.CommandResult;
import dev.vigil.schemas.agent.CommandStatus;
import java.io.IOException;
import java.net.URLEncoder;
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
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.utils.AppInfoParser;

/**
 * How long an operator's command takes to reach an agent and come back acknowledged, against Kafka's own end-to-end
 * latency on the same broker in the same run.
 *
 * <p>Usage: {@code load-tests/run CommandLatencyBenchmark [agents=10] [commands=2000] [rate-per-s=20]
 * [warm-up=200]}. On one devstack: the packaged dispatch service (signing keys and the staff token key made for the
 * run), and {@code agents} real host agents in this JVM on libvirt's test hypervisor, each enrolled as a user enrols
 * a host (the programme's page, then the agent's redemption), pinning dispatch's command keys and fetching its
 * commands from dispatch with its host token (a long poll). The benchmark issues {@code REPORT} commands round-robin
 * to the agents at a paced rate over the operator API: {@code warm-up} unmeasured, then Kafka's
 * {@code EndToEndLatency} tool (one record at a time, acks=all, records the size of an {@code ACCEPTED} result) on a
 * scratch topic, then {@code commands} measured. Latencies come from dispatch's own timestamps
 * ({@code acknowledgedAt - issuedAt}, one clock); {@code deliveredAt} (the agent's request answered) and the record
 * timestamps on the results topic split them into dispatch, the agent and the way back. Every command must end SUCCEEDED; the run fails otherwise.
 */
public final class CommandLatencyBenchmark {

    private static final Set<String> TERMINAL = Set.of("SUCCEEDED", "FAILED", "REFUSED", "EXPIRED");
    /** How long commands may take to reach a terminal state after the last one was issued. */
    private static final Duration SETTLE = Duration.ofMinutes(2);
    /** The target: issue -> acknowledgement p99 under this. */
    private static final Duration TARGET_P99 = Duration.ofSeconds(1);
    /** The list endpoint's largest page, and its largest offset. */
    private static final int PAGE = 500;

    private static final int MAX_OFFSET = 10_000;
    private static final ObjectMapper JSON = new ObjectMapper();

    private CommandLatencyBenchmark() {}

    public static void main(String[] args) throws Exception {
        int agentCount = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        int commands = args.length > 1 ? Integer.parseInt(args[1]) : 2000;
        int rate = args.length > 2 ? Integer.parseInt(args[2]) : 20;
        int warmUp = args.length > 3 ? Integer.parseInt(args[3]) : 200;
        if (agentCount < 1 || commands < 1 || rate < 1 || warmUp < 0) {
            throw new IllegalArgumentException("agents, commands and rate-per-s are at least 1, warm-up at least 0");
        }
        if ((commands + warmUp) / agentCount > MAX_OFFSET) {
            throw new IllegalArgumentException("at most " + MAX_OFFSET + " commands per agent: the benchmark reads"
                    + " them back through the list endpoint, whose offset stops there");
        }
        Path logs = Files.createTempDirectory("vigil-command-bench-");
        Path secrets = Files.createTempDirectory("vigil-command-bench-keys-");
        List<Path> stateDirs = new ArrayList<>();
        boolean allSucceeded = false;
        try (Devstack stack = Devstack.start(DevstackConfig.forTests())) {
            Endpoints endpoints = stack.endpoints();
            try (DispatchApi api = DispatchApi.launch(endpoints, logs, secrets)) {
                String program = api.openProgram(api.product());
                String pins = api.get("/api/v1/keys").path("agentCommandKeys").asText();
                List<String> hosts = new ArrayList<>();
                List<Agent> agents = new ArrayList<>();
                Tap tap = null;
                try {
                    for (int i = 0; i < agentCount; i++) {
                        String hostId = "bench-host-" + i + "-"
                                + UUID.randomUUID().toString().substring(0, 8);
                        String hostToken = api.redeem(api.enrol(program, "Bench User " + i), hostId)
                                .path("hostToken")
                                .asText();
                        Path stateDir = Files.createTempDirectory("vigil-command-bench-agent-");
                        stateDirs.add(stateDir);
                        new Enrolment(api.product(), "beta", hostToken).save(stateDir);
                        endpoints.recordKeys().enrol(stateDir, "acme", hostId);
                        Agent agent = new Agent(AgentConfig.load(Map.of(
                                "VIGIL_AGENT_CONFIG_FILE",
                                endpoints.agentConfigFile(),
                                "VIGIL_AGENT_HYPERVISOR_URI",
                                "test:///default",
                                "VIGIL_AGENT_STATE_DIR",
                                stateDir.toString(),
                                "VIGIL_AGENT_HTTP_PORT",
                                "0",
                                "VIGIL_AGENT_HOST_ID",
                                hostId,
                                "VIGIL_AGENT_TENANT",
                                "acme",
                                "VIGIL_AGENT_DISPATCH_URL",
                                api.base(),
                                "VIGIL_AGENT_VENDOR_KEYS",
                                pins)));
                        agents.add(agent);
                        agent.start();
                        hosts.add(hostId);
                    }
                    printRunInfo(endpoints, stateDirs.get(0), agentCount, commands, rate, warmUp);
                    tap = new Tap(endpoints);

                    Phase warm = issue(api, hosts, warmUp, rate, 0);
                    Map<String, JsonNode> warmed = awaitTerminal(api, hosts, warm.ids());
                    Map<String, Trace> warmTraces = tap.traces(warm.ids());
                    writeCsv(rows(warm, warmed, warmTraces), logs.resolve("warm-up.csv"));
                    int resultBytes = (int) median(warmTraces.values().stream()
                            .mapToDouble(Trace::resultBytes)
                            .toArray());
                    double[] warmAcks = warmed.values().stream()
                            .mapToDouble(c -> between(instant(c, "issuedAt"), instant(c, "acknowledgedAt")))
                            .filter(v -> !Double.isNaN(v))
                            .sorted()
                            .toArray();
                    System.out.printf(
                            Locale.ROOT,
                            "warm-up: %d commands issued, %d refused by the API, %d succeeded, issue -> acknowledgement"
                                    + " p50 %.0f ms, max %.0f ms; an ACCEPTED result is %d bytes%n",
                            warm.issued().size(),
                            warm.refused().size(),
                            count(warmed, "SUCCEEDED"),
                            warmAcks.length == 0 ? Double.NaN : percentile(warmAcks, 0.5),
                            warmAcks.length == 0 ? Double.NaN : warmAcks[warmAcks.length - 1],
                            resultBytes);

                    printRefused(warm);
                    KafkaLatency kafka = KafkaLatency.measure(endpoints, Math.max(commands, 1000), resultBytes);

                    Phase measured = issue(api, hosts, commands, rate, warmUp);
                    Map<String, JsonNode> done = awaitTerminal(api, hosts, measured.ids());
                    allSucceeded = report(
                                    measured,
                                    done,
                                    tap.traces(measured.ids()),
                                    kafka,
                                    rate,
                                    logs.resolve("commands.csv"))
                            && count(warmed, "SUCCEEDED") == warmUp
                            && warm.refused().isEmpty();
                    System.out.println("dispatch's own timer (every command, warm-up included; Micrometer's"
                            + " sliding window):");
                    api.metrics()
                            .lines()
                            .filter(l -> l.startsWith("vigil_dispatch_commands_acknowledgement_seconds"))
                            .forEach(l -> System.out.println("  " + l));
                } finally {
                    if (tap != null) {
                        tap.close();
                    }
                    for (Agent agent : agents) {
                        agent.close();
                    }
                }
            }
        } finally {
            for (Path dir : stateDirs) {
                Devstack.deleteTree(dir);
            }
            Devstack.deleteTree(secrets);
            System.out.println("dispatch's log and each measured command's moments (commands.csv): " + logs);
        }
        if (!allSucceeded) {
            throw new IllegalStateException("not every command succeeded: see the list above");
        }
    }

    /** Issues {@code count} REPORT commands round-robin, one every {@code 1/rate} s whatever the answers take. */
    private static Phase issue(DispatchApi api, List<String> hosts, int count, int rate, int first) throws Exception {
        long period = TimeUnit.SECONDS.toNanos(1) / rate;
        long start = System.nanoTime();
        long late = 0;
        List<CompletableFuture<DispatchApi.Posted>> pending = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            long due = start + i * period;
            for (long wait = due - System.nanoTime(); wait > 0; wait = due - System.nanoTime()) {
                LockSupport.parkNanos(wait);
            }
            late = Math.max(late, System.nanoTime() - due);
            pending.add(api.issue(hosts.get((first + i) % hosts.size())));
        }
        List<DispatchApi.Posted> issued = new ArrayList<>();
        List<DispatchApi.Posted> refused = new ArrayList<>();
        for (CompletableFuture<DispatchApi.Posted> post : pending) {
            DispatchApi.Posted posted = post.get(2, TimeUnit.MINUTES);
            (posted.status() == 201 ? issued : refused).add(posted);
        }
        return new Phase(issued, refused, late / 1e6, (System.nanoTime() - start) / 1e9);
    }

    /**
     * Reads the phase's commands back through the list endpoint, host by host, until each is in a terminal state or
     * {@link #SETTLE} has passed.
     */
    private static Map<String, JsonNode> awaitTerminal(DispatchApi api, List<String> hosts, Set<String> ids)
            throws Exception {
        long deadline = System.nanoTime() + SETTLE.toNanos();
        while (true) {
            Map<String, JsonNode> seen = new HashMap<>();
            for (String host : hosts) {
                for (int offset = 0; offset <= MAX_OFFSET; offset += PAGE) {
                    JsonNode page = api.get("/api/v1/commands?host=" + URLEncoder.encode(host, StandardCharsets.UTF_8)
                            + "&limit=" + PAGE + "&offset=" + offset);
                    for (JsonNode command : page) {
                        if (ids.contains(command.path("id").asText())) {
                            seen.put(command.path("id").asText(), command);
                        }
                    }
                    if (page.size() < PAGE) {
                        break;
                    }
                }
            }
            boolean settled = ids.stream()
                    .allMatch(id -> seen.containsKey(id)
                            && TERMINAL.contains(seen.get(id).path("state").asText()));
            if (settled || System.nanoTime() > deadline) {
                return seen;
            }
            TimeUnit.MILLISECONDS.sleep(500);
        }
    }

    /** Prints the measured phase's figures; returns whether every command of it succeeded. */
    private static boolean report(
            Phase phase,
            Map<String, JsonNode> commands,
            Map<String, Trace> traces,
            KafkaLatency kafka,
            int rate,
            Path csv)
            throws IOException {
        List<Row> rows = rows(phase, commands, traces);
        writeCsv(rows, csv);
        List<Row> succeeded =
                rows.stream().filter(r -> r.state().equals("SUCCEEDED")).toList();
        System.out.printf(
                Locale.ROOT,
                "%nmeasured: %d REPORT commands at %d/s over %.1f s (the pacer was at most %.1f ms late); %d refused"
                        + " by the API, %d SUCCEEDED%n",
                phase.issued().size() + phase.refused().size(),
                rate,
                phase.seconds(),
                phase.lateMillis(),
                phase.refused().size(),
                succeeded.size());
        System.out.println("| ms | count | p50 | p90 | p99 | max |");
        System.out.println("|---|---|---|---|---|---|");
        double[] ack = values(rows, r -> between(r.times().issuedAt(), r.times().acknowledgedAt()));
        line("issue -> acknowledgement (acknowledgedAt - issuedAt)", ack);
        line("issue -> SUCCEEDED (completedAt - issuedAt)", values(succeeded, Row::completed));
        line("client: POST sent -> 201 received", values(rows, r -> r.posted().millis()));
        line("issue -> delivered (deliveredAt - issuedAt; the agent's request got it)", values(rows, Row::delivered));
        System.out.println("where issue -> acknowledgement goes: dispatch's timestamps, the record timestamps on the"
                + " results topic, and when the benchmark's own consumer of it saw each record (ms, one clock):");
        step(
                rows,
                "  dispatch: issued -> fetched (commit, notification, the agent's waiting request answered)",
                Times::issuedAt,
                Times::deliveredAt);
        step(
                rows,
                "  agent: -> ACCEPTED made (the answer's way, earlier commands, verify, ledger fsync)",
                Times::deliveredAt,
                Times::acceptedMade);
        step(
                rows,
                "  agent: -> ACCEPTED handed to its producer (spool fsync, publisher wake-up)",
                Times::acceptedMade,
                Times::acceptedSent);
        step(
                rows,
                "  Kafka: -> ACCEPTED seen by a consumer (linger, append, fetch)",
                Times::acceptedSent,
                Times::acceptedSeen);
        step(
                rows,
                "  dispatch: -> acknowledgement recorded (its fetch, earlier results, transaction)",
                Times::acceptedSeen,
                Times::acknowledgedAt);
        System.out.printf(
                Locale.ROOT,
                "Kafka EndToEndLatency (%d records of %d bytes, acks=all, one at a time, just before): avg %.2f ms,"
                        + " p50 %d ms, p99 %d ms, p99.9 %d ms%n",
                kafka.messages(),
                kafka.bytes(),
                kafka.averageMillis(),
                kafka.p50(),
                kafka.p99(),
                kafka.p999());
        double p99 = percentile(ack, 0.99);
        System.out.printf(
                Locale.ROOT,
                "issue -> acknowledgement p99 %.1f ms: %s the %d ms target; ratio to Kafka's p99: %s%n",
                p99,
                p99 < TARGET_P99.toMillis() ? "within" : "OVER",
                TARGET_P99.toMillis(),
                kafka.p99() > 0
                        ? String.format(Locale.ROOT, "%.1f", p99 / kafka.p99())
                        : "n/a (Kafka's p99 under 1 ms, its resolution)");
        List<Row> others =
                rows.stream().filter(r -> !r.state().equals("SUCCEEDED")).toList();
        for (Row r : others) {
            System.out.printf(
                    Locale.ROOT,
                    "NOT SUCCEEDED: command %s to %s is %s: %s%n",
                    r.posted().commandId(),
                    r.posted().host(),
                    r.state(),
                    commands.get(r.posted().commandId()));
        }
        printRefused(phase);
        return others.isEmpty() && phase.refused().isEmpty();
    }

    private static void printRefused(Phase phase) {
        for (DispatchApi.Posted p : phase.refused()) {
            System.out.printf(Locale.ROOT, "REFUSED by the API: to %s, %d: %s%n", p.host(), p.status(), p.body());
        }
    }

    /** A phase's commands as dispatch and the topics saw them. */
    private static List<Row> rows(Phase phase, Map<String, JsonNode> commands, Map<String, Trace> traces) {
        List<Row> rows = new ArrayList<>();
        for (DispatchApi.Posted posted : phase.issued()) {
            JsonNode c = commands.get(posted.commandId());
            Instant issued = instant(c, "issuedAt");
            Trace trace = traces.getOrDefault(posted.commandId(), Trace.NONE);
            rows.add(new Row(
                    posted,
                    c == null ? "MISSING" : c.path("state").asText(),
                    between(issued, instant(c, "deliveredAt")),
                    between(issued, instant(c, "completedAt")),
                    trace.between(issued, instant(c, "deliveredAt"), instant(c, "acknowledgedAt"))));
        }
        return rows;
    }

    /** Each measured command's moments, as milliseconds since the epoch, for a closer look at the tail. */
    private static void writeCsv(List<Row> rows, Path csv) throws IOException {
        List<String> lines = new ArrayList<>();
        lines.add("command,host,state,post_ms,issued,delivered,accepted_made,accepted_sent,accepted_seen,acknowledged");
        for (Row r : rows) {
            Times t = r.times();
            StringBuilder line = new StringBuilder()
                    .append(r.posted().commandId())
                    .append(',')
                    .append(r.posted().host())
                    .append(',')
                    .append(r.state())
                    .append(',')
                    .append(String.format(Locale.ROOT, "%.1f", r.posted().millis()));
            for (Instant moment : Arrays.asList(
                    t.issuedAt(),
                    t.deliveredAt(),
                    t.acceptedMade(),
                    t.acceptedSent(),
                    t.acceptedSeen(),
                    t.acknowledgedAt())) {
                line.append(',').append(moment == null ? "" : String.valueOf(moment.toEpochMilli()));
            }
            lines.add(line.toString());
        }
        Files.write(csv, lines);
    }

    /** The time between two moments of each measured command's way. */
    private static void step(List<Row> rows, String what, Function<Times, Instant> from, Function<Times, Instant> to) {
        line(what, values(rows, r -> between(from.apply(r.times()), to.apply(r.times()))));
    }

    private static void line(String what, double[] values) {
        if (values.length == 0) {
            System.out.printf(Locale.ROOT, "| %s | 0 | - | - | - | - |%n", what);
            return;
        }
        System.out.printf(
                Locale.ROOT,
                "| %s | %d | %.1f | %.1f | %.1f | %.1f |%n",
                what,
                values.length,
                percentile(values, 0.50),
                percentile(values, 0.90),
                percentile(values, 0.99),
                values[values.length - 1]);
    }

    /** The rows' values that exist, sorted. */
    private static double[] values(List<Row> rows, ToDoubleFunction<Row> value) {
        return rows.stream()
                .mapToDouble(value)
                .filter(v -> !Double.isNaN(v))
                .sorted()
                .toArray();
    }

    /** Nearest rank of sorted values. */
    private static double percentile(double[] sorted, double q) {
        return sorted[Math.max(0, (int) Math.ceil(q * sorted.length) - 1)];
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted.length == 0 ? 0 : sorted[sorted.length / 2];
    }

    private static Instant instant(JsonNode command, String field) {
        if (command == null
                || command.path(field).isNull()
                || command.path(field).isMissingNode()) {
            return null;
        }
        return Instant.parse(command.path(field).asText());
    }

    private static double between(Instant from, Instant to) {
        return from == null || to == null ? Double.NaN : millis(from, to);
    }

    private static double millis(Instant from, Instant to) {
        return Duration.between(from, to).toNanos() / 1e6;
    }

    private static long count(Map<String, JsonNode> commands, String state) {
        return commands.values().stream()
                .filter(c -> state.equals(c.path("state").asText()))
                .count();
    }

    private static void printRunInfo(
            Endpoints endpoints, Path agentState, int agents, int commands, int rate, int warmUp) throws Exception {
        System.out.printf(
                Locale.ROOT,
                "commit %s; %s %s; %d cores, %s, %s %s, load average %s%n",
                commit(),
                System.getProperty("java.vm.name"),
                System.getProperty("java.runtime.version"),
                Runtime.getRuntime().availableProcessors(),
                memTotal(),
                System.getProperty("os.name"),
                System.getProperty("os.version"),
                firstLine(Path.of("/proc/loadavg")));
        String postgres;
        try (Connection c = DriverManager.getConnection(endpoints.jdbcUrl(), endpoints.jdbcUser(), "");
                Statement s = c.createStatement();
                ResultSet r = s.executeQuery("SELECT current_setting('server_version'), current_setting('fsync'),"
                        + " current_setting('synchronous_commit')")) {
            r.next();
            postgres = "PostgreSQL " + r.getString(1) + " (fsync=" + r.getString(2) + ", synchronous_commit="
                    + r.getString(3) + ")";
        }
        System.out.printf(
                Locale.ROOT,
                "devstack: Kafka %s KRaft broker in this JVM, %s; dispatch packaged (-Xmx512m); %d agents in this JVM on"
                        + " test:///default, spools on %s%n",
                AppInfoParser.getVersion(),
                postgres,
                agents,
                Files.getFileStore(agentState).type());
        System.out.printf(
                Locale.ROOT,
                "REPORT commands round-robin to %d agents at %d/s: %d warm-up, then %d measured%n",
                agents,
                rate,
                warmUp,
                commands);
    }

    private static String commit() {
        try {
            String head = run("git", "rev-parse", "--short", "HEAD");
            return run("git", "status", "--porcelain", "--untracked-files=no").isBlank()
                    ? head
                    : head + " (with uncommitted changes)";
        } catch (IOException | InterruptedException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }

    private static String run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        process.waitFor();
        return output;
    }

    private static String memTotal() throws IOException {
        return Files.readAllLines(Path.of("/proc/meminfo")).stream()
                .filter(l -> l.startsWith("MemTotal:"))
                .map(l -> String.format(
                        Locale.ROOT, "%.0f GiB", Long.parseLong(l.replaceAll("\\D", "")) / 1024.0 / 1024.0))
                .findFirst()
                .orElse("memory unknown");
    }

    private static String firstLine(Path file) throws IOException {
        return Files.readAllLines(file).get(0).strip();
    }

    /** Writes key material readable by this user only. */

    /** A phase's POSTs: answered 201, or not; how late the pacer ran at worst; how long issuing took. */
    private record Phase(
            List<DispatchApi.Posted> issued, List<DispatchApi.Posted> refused, double lateMillis, double seconds) {
        Set<String> ids() {
            Set<String> ids = new HashSet<>();
            issued.forEach(p -> ids.add(p.commandId()));
            return ids;
        }
    }

    /** A measured command: its state, its times from issue in ms (NaN when that never happened), its way. */
    private record Row(DispatchApi.Posted posted, String state, double delivered, double completed, Times times) {}

    /** The moments of a command's way to its agent and back; null where unknown. */
    private record Times(
            Instant issuedAt,
            Instant deliveredAt,
            Instant acceptedMade,
            Instant acceptedSent,
            Instant acceptedSeen,
            Instant acknowledgedAt) {}

    /**
     * A command's acknowledgement as the results topic shows it: when the agent made it (the result's envelope), its
     * publisher sent it (the record's timestamp) and the tap saw it, and the record's size.
     */
    private record Trace(int resultBytes, Instant acceptedMade, Instant acceptedSent, Instant acceptedSeen) {

        static final Trace NONE = new Trace(0, null, null, null);

        boolean complete() {
            return acceptedSeen != null;
        }

        Times between(Instant issuedAt, Instant deliveredAt, Instant acknowledgedAt) {
            return new Times(issuedAt, deliveredAt, acceptedMade, acceptedSent, acceptedSeen, acknowledgedAt);
        }
    }

    /**
     * The benchmark's own consumer of the results topic, reading as any consumer would (no wait when a
     * record is there): what each record says, and when it was seen.
     */
    private static final class Tap implements AutoCloseable {

        private final KafkaConsumer<byte[], byte[]> consumer;
        private final Map<String, Trace> traces = new ConcurrentHashMap<>();
        private final Thread thread = new Thread(this::run, "bench-tap");
        private volatile boolean running = true;

        Tap(Endpoints endpoints) {
            Properties props = new Properties();
            props.putAll(endpoints.kafkaClient());
            consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
            List<TopicPartition> partitions = new ArrayList<>();
            var topic = TopicCatalog.AGENT_COMMAND_RESULTS;
            for (int p = 0; p < topic.partitions(); p++) {
                partitions.add(new TopicPartition(topic.name(), p));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            thread.setDaemon(true);
            thread.start();
        }

        /** The traces of these commands, waiting up to 10 s for the tap to see the last of them. */
        Map<String, Trace> traces(Set<String> ids) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < deadline
                    && !ids.stream()
                            .allMatch(id -> traces.getOrDefault(id, Trace.NONE).complete())) {
                TimeUnit.MILLISECONDS.sleep(100);
            }
            Map<String, Trace> found = new HashMap<>();
            ids.forEach(id -> {
                if (traces.containsKey(id)) {
                    found.put(id, traces.get(id));
                }
            });
            return found;
        }

        private void run() {
            try {
                while (running) {
                    for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                        Instant seen = Instant.now();
                        Instant stamped = Instant.ofEpochMilli(record.timestamp());
                        CommandResult result =
                                EventCodec.of(CommandResult.class).decode(record.value());
                        if (result.getStatus() == CommandStatus.ACCEPTED) {
                            // The first acknowledgement of each (a redelivery repeats a record).
                            traces.putIfAbsent(
                                    result.getCommandId(),
                                    new Trace(
                                            record.value().length,
                                            result.getEnvelope().getOccurredAt(),
                                            stamped,
                                            seen));
                        }
                    }
                }
            } catch (WakeupException e) {
                // Closing.
            } finally {
                consumer.close(Duration.ofSeconds(2));
            }
        }

        @Override
        public void close() throws InterruptedException {
            running = false;
            consumer.wakeup();
            thread.join(5_000);
        }
    }

    /** Kafka's EndToEndLatency: its average (ms) and percentiles (whole ms, as the tool prints them). */
}
