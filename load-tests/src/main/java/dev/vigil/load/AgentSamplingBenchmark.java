package dev.vigil.load;

import dev.vigil.devstack.Devstack;
import dev.vigil.devstack.DevstackConfig;
import dev.vigil.devstack.Endpoints;
import dev.vigil.devstack.Ports;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The agent's cost of sampling N VMs once a second, measured against a baseline in the same run: the packaged
 * agent runs as a child process on libvirt's test hypervisor loaded with N running domains, publishing to the
 * devstack's real Kafka, first with sampling effectively off and then at the period under test. CPU comes from
 * {@code /proc/<pid>/stat} over a window after warm-up; memory is the process's resident set.
 *
 * <p>Usage: {@code java -cp ... dev.vigil.load.AgentSamplingBenchmark [vms=50] [period=PT1S] [window-seconds=120]
 * [warm-up-seconds=60] [jvm options...]}; without JVM options it uses those of
 * {@code deploy/systemd/vigil-agent.service}.
 */
public final class AgentSamplingBenchmark {

    private static final Path AGENT_JAR = Path.of("host-agent/target/vigil-host-agent.jar");
    private static final Path AGENT_UNIT = Path.of("deploy/systemd/vigil-agent.service");

    private AgentSamplingBenchmark() {}

    public static void main(String[] args) throws Exception {
        int vms = args.length > 0 ? Integer.parseInt(args[0]) : 50;
        Duration period = args.length > 1 ? Duration.parse(args[1]) : Duration.ofSeconds(1);
        int window = args.length > 2 ? Integer.parseInt(args[2]) : 120;
        Duration warmUp = Duration.ofSeconds(args.length > 3 ? Integer.parseInt(args[3]) : 60);
        List<String> jvmOptions = args.length > 4 ? List.of(args).subList(4, args.length) : unitJvmOptions();
        if (!Files.exists(AGENT_JAR)) {
            throw new IllegalStateException(
                    AGENT_JAR + " is missing: run ./mvnw install -Dquick first (from the repository root)");
        }
        long ticksPerSecond = ticksPerSecond();
        Path work = Files.createTempDirectory("vigil-bench-");
        Path node = writeNode(work.resolve("node.xml"), vms);
        try (Devstack stack = Devstack.start(DevstackConfig.forTests())) {
            Endpoints endpoints = stack.endpoints();
            Result baseline = run(
                    "baseline (sampling off)",
                    endpoints,
                    node,
                    Duration.ofHours(1),
                    window,
                    warmUp,
                    work,
                    jvmOptions,
                    ticksPerSecond);
            Result sampling = run(
                    "sampling every " + period,
                    endpoints,
                    node,
                    period,
                    window,
                    warmUp,
                    work,
                    jvmOptions,
                    ticksPerSecond);
            double cost = sampling.cpuPercent - baseline.cpuPercent;
            System.out.printf(
                    Locale.ROOT,
                    "%n| run | CPU (%% of one core) | RSS (MiB) | sampling ticks | mean tick (ms) |%n|---|---|---|---|---|%n");
            for (Result r : List.of(baseline, sampling)) {
                System.out.printf(
                        Locale.ROOT,
                        "| %s | %.3f | %.1f | %d | %.2f |%n",
                        r.label,
                        r.cpuPercent,
                        r.rssKib / 1024.0,
                        r.ticks,
                        r.meanTickMillis);
            }
            System.out.printf(
                    Locale.ROOT,
                    "%nsampling %d VMs every %s costs %.3f%% of one core (target < 0.5%%; the idle agent, the baseline, < 0.3%%); JVM options %s; warm-up %d s, window %d s%n",
                    vms,
                    period,
                    cost,
                    jvmOptions,
                    warmUp.toSeconds(),
                    window);
        } finally {
            deleteQuietly(work);
        }
    }

    private record Result(String label, double cpuPercent, long rssKib, long ticks, double meanTickMillis) {}

    private static Result run(
            String label,
            Endpoints endpoints,
            Path node,
            Duration period,
            int window,
            Duration warmUp,
            Path work,
            List<String> jvmOptions,
            long ticksPerSecond)
            throws Exception {
        int httpPort = Ports.free();
        Path state = Files.createTempDirectory(work, "agent-");
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.add("-jar");
        command.add(AGENT_JAR.toString());
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(
                        state.resolve("agent.log").toFile()));
        builder.environment().put("VIGIL_AGENT_CONFIG_FILE", endpoints.agentConfigFile());
        builder.environment().put("VIGIL_AGENT_HYPERVISOR_URI", "test://" + node.toAbsolutePath());
        builder.environment().put("VIGIL_AGENT_STATE_DIR", state.toString());
        builder.environment().put("VIGIL_AGENT_HTTP_PORT", String.valueOf(httpPort));
        builder.environment().put("VIGIL_AGENT_HOST_ID", "bench-" + label.replaceAll("[^a-z0-9]+", "-"));
        builder.environment().put("VIGIL_AGENT_SAMPLE_PERIOD", period.toString());
        // A pinned vendor key, as on every real host. Commands come from dispatch over HTTPS, which this benchmark
        // does not run, so the command fetcher stays off (idle, it makes one long-poll request every 25 s).
        builder.environment().put("VIGIL_AGENT_VENDOR_KEYS", "bench=" + vendorKey());
        Process agent = builder.start();
        try {
            TimeUnit.MILLISECONDS.sleep(warmUp.toMillis());
            if (!agent.isAlive()) {
                throw new IllegalStateException("agent exited: see " + state.resolve("agent.log"));
            }
            // The benchmark's own reads of /metrics stay outside the window.
            double[] tickBefore = tickStats(httpPort);
            long cpuBefore = cpuTicks(agent.pid());
            Map<String, Long> threadsBefore = threadTicks(agent.pid());
            long started = System.nanoTime();
            TimeUnit.SECONDS.sleep(window);
            long cpuAfter = cpuTicks(agent.pid());
            Map<String, Long> threadsAfter = threadTicks(agent.pid());
            double elapsed = (System.nanoTime() - started) / 1e9;
            double[] tickAfter = tickStats(httpPort);
            long rss = rssKib(agent.pid());
            String top = threadsAfter.entrySet().stream()
                    .map(e -> Map.entry(e.getKey(), e.getValue() - threadsBefore.getOrDefault(e.getKey(), 0L)))
                    .filter(e -> e.getValue() > 0)
                    .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                    .limit(6)
                    .map(e -> String.format(
                            Locale.ROOT, "%s %.3f%%", e.getKey(), 100.0 * e.getValue() / ticksPerSecond / elapsed))
                    .collect(Collectors.joining(", "));
            System.out.println("  by thread: " + top);
            double cpuPercent = 100.0 * (cpuAfter - cpuBefore) / ticksPerSecond / elapsed;
            long ticks = Math.round(tickAfter[0] - tickBefore[0]);
            double mean = ticks == 0 ? 0 : 1000.0 * (tickAfter[1] - tickBefore[1]) / ticks;
            System.out.printf(
                    Locale.ROOT,
                    "%s: cpu %.3f%%, rss %d KiB, %d ticks, mean tick %.2f ms%n",
                    label,
                    cpuPercent,
                    rss,
                    ticks,
                    mean);
            return new Result(label, cpuPercent, rss, ticks, mean);
        } finally {
            agent.destroy();
            agent.waitFor(15, TimeUnit.SECONDS);
        }
    }

    /** The JVM options of the agent's systemd unit: what runs on a real host. */
    private static List<String> unitJvmOptions() throws IOException {
        for (String line : Files.readAllLines(AGENT_UNIT)) {
            if (line.startsWith("ExecStart=")) {
                List<String> words =
                        List.of(line.substring("ExecStart=".length()).trim().split("\\s+"));
                return words.subList(1, words.indexOf("-jar"));
            }
        }
        throw new IllegalStateException(AGENT_UNIT + " has no ExecStart line");
    }

    /** A fresh Ed25519 public key in the form {@code VIGIL_AGENT_VENDOR_KEYS} takes (X.509, base64). */
    private static String vendorKey() throws Exception {
        return Base64.getEncoder()
                .encodeToString(KeyPairGenerator.getInstance("Ed25519")
                        .generateKeyPair()
                        .getPublic()
                        .getEncoded());
    }

    /** A libvirt test-driver node file with {@code count} running domains. */
    static Path writeNode(Path file, int count) throws IOException {
        StringBuilder xml = new StringBuilder("<node>\n");
        for (int i = 0; i < count; i++) {
            xml.append(String.format(
                    Locale.ROOT,
                    "  <domain type='test'><name>bench-%03d</name><memory>1048576</memory><vcpu>2</vcpu>"
                            + "<os><type>hvm</type></os></domain>%n",
                    i));
        }
        xml.append("</node>\n");
        Files.writeString(file, xml);
        return file;
    }

    private static long cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        // utime and stime are fields 14 and 15 of /proc/<pid>/stat; after the command name they are at 11 and 12.
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    }

    /** CPU ticks per thread name (threads of one name summed), from /proc/<pid>/task/<tid>/stat. */
    private static Map<String, Long> threadTicks(long pid) throws IOException {
        Map<String, Long> byName = new TreeMap<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc", String.valueOf(pid), "task"))) {
            for (Path task : tasks.toList()) {
                try {
                    String stat = Files.readString(task.resolve("stat"));
                    String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
                            .replaceAll("[0-9]+$", "");
                    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    byName.merge(name, Long.parseLong(fields[11]) + Long.parseLong(fields[12]), Long::sum);
                } catch (IOException e) {
                    // The thread ended between listing and reading.
                }
            }
        }
        return byName;
    }

    private static long rssKib(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }

    /** {count, sum seconds} of the agent's sampling timer, from its /metrics. */
    private static double[] tickStats(int port) throws Exception {
        String metrics = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
        return new double[] {
            value(metrics, "vigil_agent_sampling_duration_seconds_count"),
            value(metrics, "vigil_agent_sampling_duration_seconds_sum")
        };
    }

    private static double value(String metrics, String series) {
        Matcher m = Pattern.compile("^" + series + "(\\{[^}]*\\})? ([0-9.eE+-]+)$", Pattern.MULTILINE)
                .matcher(metrics);
        return m.find() ? Double.parseDouble(m.group(2)) : 0;
    }

    private static long ticksPerSecond() throws Exception {
        Process getconf = new ProcessBuilder("getconf", "CLK_TCK").start();
        String out = new String(getconf.getInputStream().readAllBytes()).trim();
        getconf.waitFor();
        return out.isEmpty() ? 100 : Long.parseLong(out);
    }

    private static void deleteQuietly(Path dir) {
        try {
            Devstack.deleteTree(dir);
        } catch (RuntimeException e) {
            System.err.println("could not delete " + dir + ": " + e.getMessage());
        }
    }
}
