package dev.vigil.agent.sampling;

import dev.vigil.schemas.agent.GpuSample;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Host facts that only tools expose: NVIDIA GPU load ({@code nvidia-smi}), disk start/stop counts ({@code smartctl})
 * and spin state ({@code hdparm -C}). Tools run at most once per {@link #CADENCE}, each bounded by a timeout, and
 * only when they are on the PATH; results are reused between runs.
 */
final class HostTools {

    static final Duration CADENCE = Duration.ofMinutes(1);
    private static final Duration TIMEOUT = Duration.ofSeconds(5);
    private static final Pattern START_STOP = Pattern.compile("(?m)^\\s*4\\s+Start_Stop_Count\\s+.*?(\\d+)\\s*$");
    private static final Pattern DRIVE_STATE = Pattern.compile("drive state is:\\s*(\\S+)");

    private final Path nvidiaSmi;
    private final Path smartctl;
    private final Path hdparm;
    private long lastRun;
    private List<GpuSample> gpus = List.of();
    private final Map<String, DiskFacts> disks = new HashMap<>();

    /** Finds the tools on {@code searchPath} (a PATH-style list). */
    HostTools(String searchPath) {
        this.nvidiaSmi = onPath(searchPath, "nvidia-smi");
        this.smartctl = onPath(searchPath, "smartctl");
        this.hdparm = onPath(searchPath, "hdparm");
    }

    /** What the tools said about one disk; null fields are unknown. */
    record DiskFacts(Long startStopCount, Boolean spinning) {}

    boolean gpuToolAvailable() {
        return nvidiaSmi != null;
    }

    boolean diskToolsAvailable() {
        return smartctl != null || hdparm != null;
    }

    /** Refreshes when the cadence has passed. */
    void refresh(List<String> diskNames) {
        long now = System.nanoTime();
        if (lastRun != 0 && now - lastRun < CADENCE.toNanos()) {
            return;
        }
        lastRun = now;
        if (nvidiaSmi != null) {
            String out = run(
                    nvidiaSmi.toString(),
                    "--query-gpu=index,utilization.gpu,power.draw,memory.used",
                    "--format=csv,noheader,nounits");
            gpus = out == null ? List.of() : parseNvidiaSmi(out);
        }
        for (String disk : diskNames) {
            Long startStop = null;
            Boolean spinning = null;
            if (smartctl != null) {
                String out = run(smartctl.toString(), "-n", "standby", "-A", "/dev/" + disk);
                startStop = out == null ? null : parseStartStopCount(out);
            }
            if (hdparm != null) {
                String out = run(hdparm.toString(), "-C", "/dev/" + disk);
                spinning = out == null ? null : parseSpinning(out);
            }
            disks.put(disk, new DiskFacts(startStop, spinning));
        }
    }

    List<GpuSample> gpus() {
        return gpus;
    }

    DiskFacts disk(String name) {
        return disks.getOrDefault(name, new DiskFacts(null, null));
    }

    /** {@code index, utilization %, power W, memory MiB} per line; "[N/A]" fields stay unknown. */
    static List<GpuSample> parseNvidiaSmi(String csv) {
        List<GpuSample> gpus = new ArrayList<>();
        for (String line : csv.split("\\R")) {
            String[] f = line.split(",");
            if (f.length < 4) {
                continue;
            }
            try {
                gpus.add(GpuSample.newBuilder()
                        .setIndex(Integer.parseInt(f[0].trim()))
                        .setUtilizationPercent(decimal(f[1]))
                        .setPowerMilliwatts(decimal(f[2]) == null ? null : Math.round(decimal(f[2]) * 1000))
                        .setMemoryUsedBytes(decimal(f[3]) == null ? null : Math.round(decimal(f[3]) * 1024 * 1024))
                        .build());
            } catch (NumberFormatException e) {
                // A line that is not a GPU row (a warning, a header): skip it.
            }
        }
        return gpus;
    }

    /** The raw value of SMART attribute 4 from {@code smartctl -A}. */
    static Long parseStartStopCount(String text) {
        Matcher m = START_STOP.matcher(text);
        return m.find() ? Long.parseLong(m.group(1)) : null;
    }

    /** {@code hdparm -C}: spinning unless the drive reports standby or sleeping. */
    static Boolean parseSpinning(String text) {
        Matcher m = DRIVE_STATE.matcher(text);
        if (!m.find()) {
            return null;
        }
        String state = m.group(1);
        return !(state.startsWith("standby") || state.startsWith("sleeping"));
    }

    private static Double decimal(String field) {
        String value = field.trim();
        if (value.isEmpty() || value.startsWith("[")) {
            return null;
        }
        return Double.parseDouble(value);
    }

    private static String run(String... command) {
        try {
            Process process =
                    new ProcessBuilder(command).redirectErrorStream(true).start();
            byte[] out = process.getInputStream().readAllBytes();
            if (!process.waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                return null;
            }
            return new String(out, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private static Path onPath(String path, String tool) {
        if (path == null || path.isEmpty()) {
            return null;
        }
        for (String dir : path.split(":")) {
            Path candidate = Path.of(dir, tool);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }
}
