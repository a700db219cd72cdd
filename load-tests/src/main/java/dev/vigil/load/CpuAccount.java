package dev.vigil.load;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * CPU time taken by each part of a benchmark's stack between two readings, from Linux's {@code /proc}: this JVM
 * (load generator, broker, S3 store), a service process and PostgreSQL's processes. On a shared, noisy machine a
 * part's CPU seconds per record vary far less than wall-clock rates do, so they show where an improvement went. On a
 * machine without {@code /proc} every reading is empty.
 */
final class CpuAccount {

    /** Clock ticks per second for {@code /proc/[pid]/stat}'s times; 100 on every mainstream Linux build. */
    private static final double TICKS = 100.0;

    private static final String THREAD = "this JVM: ";
    /** Prefix of a service process's thread groups: {@code "threads of " + part + ": " + group}. */
    private static final String PART_THREAD = "threads of ";

    private static final String KIND = "PostgreSQL: ";
    /** The postmaster's kind: its own time and that of the children it has reaped. */
    private static final String EXITED = "postmaster and exited children";

    private final Map<String, Supplier<Stream<ProcessHandle>>> parts;

    /** @param parts each part's processes, looked up at every reading (processes come and go) */
    CpuAccount(Map<String, Supplier<Stream<ProcessHandle>>> parts) {
        this.parts = parts;
    }

    /** The processes of a PostgreSQL server: the postmaster that is {@code backendPid}'s parent, and its children. */
    static Supplier<Stream<ProcessHandle>> postgres(long backendPid) {
        Optional<ProcessHandle> postmaster = ProcessHandle.of(backendPid).flatMap(ProcessHandle::parent);
        return () -> postmaster.stream().flatMap(p -> Stream.concat(Stream.of(p), p.children()));
    }

    /** This JVM's child processes whose command line contains {@code marker}. */
    static Supplier<Stream<ProcessHandle>> children(String marker) {
        return () -> ProcessHandle.current()
                .children()
                .filter(p -> p.info().commandLine().orElse("").contains(marker));
    }

    /** This JVM. */
    static Supplier<Stream<ProcessHandle>> self() {
        return () -> Stream.of(ProcessHandle.current());
    }

    /**
     * Seconds of CPU (user and system) each part has used so far, and, under {@code "this JVM: " + group}, this
     * JVM's threads grouped by name with the digits taken out (the broker's request handlers, the producer's
     * network thread, ...). PostgreSQL's processes are also counted by kind under {@code "PostgreSQL: " + kind}
     * (client backends, autovacuum, WAL writer, ...); the postmaster counts the time of children that have exited
     * (short-lived autovacuum workers), which Linux adds to it when it reaps them.
     */
    Map<String, Double> read() {
        Map<String, Double> seconds = new LinkedHashMap<>();
        parts.forEach((name, processes) -> {
            seconds.put(name, 0.0);
            processes.get().forEach(p -> {
                String kind = postgresKind(p);
                double used = used(p.pid(), kind != null && kind.equals(EXITED));
                seconds.merge(name, used, Double::sum);
                if (kind != null) {
                    seconds.merge(KIND + kind, used, Double::sum);
                } else if (p.pid() != ProcessHandle.current().pid()) {
                    threads(p.pid())
                            .forEach((group, s) -> seconds.merge(PART_THREAD + name + ": " + group, s, Double::sum));
                }
            });
        });
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
            long nanos = info == null ? -1 : threads.getThreadCpuTime(info.getThreadId());
            if (nanos > 0) {
                seconds.merge(THREAD + info.getThreadName().replaceAll("[0-9]+", "N"), nanos / 1e9, Double::sum);
            }
        }
        return seconds;
    }

    /** The {@code top} thread groups of this JVM by CPU used between two readings, with their seconds. */
    static String busiestThreads(Map<String, Double> before, Map<String, Double> after, int top) {
        return busiest(THREAD, before, after, top);
    }

    /**
     * The {@code top} thread groups of a part's processes (other than this JVM and PostgreSQL's) by CPU used between
     * two readings, with their seconds; Linux keeps the first 15 characters of a thread's name.
     */
    static String busiestThreads(String part, Map<String, Double> before, Map<String, Double> after, int top) {
        return busiest(PART_THREAD + part + ": ", before, after, top);
    }

    /**
     * The share of a part's CPU between two readings that went to its threads whose name contains {@code marker}
     * (say {@code "CompilerThre"}, the JIT compiler's threads); NaN when the part used none.
     */
    static double threadShare(String part, String marker, Map<String, Double> before, Map<String, Double> after) {
        String prefix = PART_THREAD + part + ": ";
        double matching = after.entrySet().stream()
                .filter(e -> e.getKey().startsWith(prefix) && e.getKey().contains(marker))
                .mapToDouble(e -> e.getValue() - before.getOrDefault(e.getKey(), 0.0))
                .sum();
        double used = after.getOrDefault(part, 0.0) - before.getOrDefault(part, 0.0);
        return used > 0 ? matching / used : Double.NaN;
    }

    private static String busiest(String prefix, Map<String, Double> before, Map<String, Double> after, int top) {
        return after.entrySet().stream()
                .filter(e -> e.getKey().startsWith(prefix))
                .map(e -> Map.entry(
                        e.getKey().substring(prefix.length()), e.getValue() - before.getOrDefault(e.getKey(), 0.0)))
                .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
                .limit(top)
                .map(e -> String.format(Locale.ROOT, "%s %.1f s", e.getKey(), e.getValue()))
                .collect(Collectors.joining("; "));
    }

    /** {@code after - before} per part, in seconds and CPU milliseconds per 1,000 records. */
    static String perThousand(Map<String, Double> before, Map<String, Double> after, long records) {
        StringBuilder out = new StringBuilder();
        double total = 0;
        for (Map.Entry<String, Double> e : after.entrySet()) {
            if (e.getKey().startsWith(THREAD)
                    || e.getKey().startsWith(KIND)
                    || e.getKey().startsWith(PART_THREAD)) {
                continue;
            }
            double used = e.getValue() - before.getOrDefault(e.getKey(), 0.0);
            total += used;
            out.append(String.format(
                    Locale.ROOT, "%s %.1f s (%.0f ms/1k records); ", e.getKey(), used, used * 1e6 / records));
        }
        return out.append(String.format(Locale.ROOT, "total %.1f s (%.0f ms/1k records)", total, total * 1e6 / records))
                .toString();
    }

    /** PostgreSQL's CPU per kind of process between two readings, in CPU milliseconds per 1,000 records. */
    static String postgresKinds(Map<String, Double> before, Map<String, Double> after, long records) {
        return after.entrySet().stream()
                .filter(e -> e.getKey().startsWith(KIND))
                .map(e -> Map.entry(
                        e.getKey().substring(KIND.length()), e.getValue() - before.getOrDefault(e.getKey(), 0.0)))
                .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
                .map(e -> String.format(Locale.ROOT, "%s %.0f", e.getKey(), e.getValue() * 1e6 / records))
                .collect(Collectors.joining("; "));
    }

    /**
     * The kind of a PostgreSQL process from the title it sets ({@code postgres: autovacuum worker vigil},
     * {@code postgres: walwriter}, {@code postgres: postgres vigil 127.0.0.1(41236) idle}); null for a process
     * that is not PostgreSQL's.
     */
    private static String postgresKind(ProcessHandle process) {
        String command;
        try {
            command = Files.readString(Path.of("/proc", Long.toString(process.pid()), "cmdline"))
                    .replace('\0', ' ')
                    .trim();
        } catch (IOException | RuntimeException e) {
            return null;
        }
        if (!command.startsWith("postgres: ")) {
            return command.contains("/postgres") && command.contains(" -D ") ? EXITED : null;
        }
        String title = command.substring("postgres: ".length());
        for (String kind : List.of(
                "autovacuum worker",
                "autovacuum launcher",
                "walwriter",
                "checkpointer",
                "background writer",
                "io worker",
                "logical replication launcher")) {
            if (title.startsWith(kind)) {
                return kind;
            }
        }
        return "client backends";
    }

    /** CPU seconds of a process's threads so far, grouped by name with the digits taken out; empty if unreadable. */
    private static Map<String, Double> threads(long pid) {
        Map<String, Double> groups = new LinkedHashMap<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            tasks.forEach(task -> {
                try {
                    String name = Files.readString(task.resolve("comm")).trim();
                    groups.merge(
                            name.replaceAll("[0-9]+", "N"),
                            ticks(Files.readString(task.resolve("stat")), false) / TICKS,
                            Double::sum);
                } catch (IOException | RuntimeException e) {
                    // the thread has just ended
                }
            });
        } catch (IOException | RuntimeException e) {
            // not Linux, or the process has just exited
        }
        return groups;
    }

    /**
     * CPU seconds (user and system) of a process, with {@code reaped} also those of its children that have exited;
     * 0 when it cannot be read (not Linux, or the process has just exited).
     */
    private static double used(long pid, boolean reaped) {
        try {
            return ticks(Files.readString(Path.of("/proc", Long.toString(pid), "stat")), reaped) / TICKS;
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** utime and stime from a {@code stat} line of {@code /proc}, with {@code reaped} also cutime and cstime. */
    private static long ticks(String stat, boolean reaped) {
        // Fields after the command (in parentheses, and it may hold spaces): utime is the 12th, stime the 13th,
        // cutime and cstime (children waited for) the 14th and 15th.
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
        if (reaped) {
            ticks += Long.parseLong(fields[13]) + Long.parseLong(fields[14]);
        }
        return ticks;
    }
}
