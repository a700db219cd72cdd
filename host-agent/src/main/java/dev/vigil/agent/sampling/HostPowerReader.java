package dev.vigil.agent.sampling;

import dev.vigil.schemas.agent.CpuSample;
import dev.vigil.schemas.agent.DiskSample;
import dev.vigil.schemas.agent.EnergyCounter;
import dev.vigil.schemas.agent.GpuSample;
import dev.vigil.schemas.agent.HostPowerSample;
import dev.vigil.schemas.agent.IdleStateResidency;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Reads the host's power and CPU-mode state from Linux sysfs and procfs: per-CPU idle-state residency and frequency
 * (cpuidle, cpufreq), RAPL energy counters (powercap), disk busy time ({@code /proc/diskstats}) and GPU busy
 * percentage where the driver exposes it. A source the host lacks is named in {@code unavailable} on the first
 * sample after start, not reported as an error every tick.
 */
public final class HostPowerReader {

    static final String CPUFREQ = "cpufreq";
    static final String CPUIDLE = "cpuidle";
    static final String RAPL = "rapl";
    static final String GPU = "gpu";
    static final String DISK_SPIN = "disk-spin-state";
    private static final Pattern CPU_DIR = Pattern.compile("cpu[0-9]+");
    private static final Pattern IDLE_STATE = Pattern.compile("state[0-9]+");
    private static final Pattern RAPL_ZONE = Pattern.compile("intel-rapl:[0-9:]+");
    private static final Pattern GPU_CARD = Pattern.compile("card[0-9]+");
    private static final Pattern WHOLE_DISK =
            Pattern.compile("(sd[a-z]+|vd[a-z]+|hd[a-z]+|xvd[a-z]+|nvme[0-9]+n[0-9]+)");

    /** How long the discovered layout (CPUs, idle states, RAPL zones, GPUs) is reused before a rescan. */
    static final Duration RESCAN = Duration.ofMinutes(1);

    private final Path sys;
    private final Path proc;
    private final HostTools tools;
    private boolean unavailableReported;
    private Layout layout;
    private long layoutAt;

    /** Where the sources are on this host; directory listings are the expensive part of a read. */
    private record Layout(List<Path> cpus, Map<Path, List<Path>> idleStates, List<Path> raplZones, List<Path> gpus) {}

    public HostPowerReader(Path sysfsRoot, Path procfsRoot) {
        this(sysfsRoot, procfsRoot, new HostTools(System.getenv("PATH")));
    }

    HostPowerReader(Path sysfsRoot, Path procfsRoot, HostTools tools) {
        this.sys = sysfsRoot;
        this.proc = procfsRoot;
        this.tools = tools;
    }

    public HostPowerSample read() {
        Layout layout = layout();
        TreeSet<String> unavailable = new TreeSet<>(List.of(CPUFREQ, CPUIDLE, RAPL, GPU, DISK_SPIN));
        List<CpuSample> cpus = new ArrayList<>();
        for (Path cpu : layout.cpus()) {
            Long khz = number(cpu.resolve("cpufreq/scaling_cur_freq"));
            if (khz != null) {
                unavailable.remove(CPUFREQ);
            }
            List<IdleStateResidency> states = new ArrayList<>();
            for (Path state : layout.idleStates().get(cpu)) {
                Long time = number(state.resolve("time"));
                if (time != null) {
                    unavailable.remove(CPUIDLE);
                    states.add(IdleStateResidency.newBuilder()
                            .setName(text(
                                    state.resolve("name"), state.getFileName().toString()))
                            .setResidencyMicros(time)
                            .setEntries(orZero(number(state.resolve("usage"))))
                            .build());
                }
            }
            int index = Integer.parseInt(cpu.getFileName().toString().substring(3));
            cpus.add(CpuSample.newBuilder()
                    .setCpu(index)
                    .setFrequencyKhz(khz)
                    .setIdleStates(states)
                    .build());
        }
        List<EnergyCounter> energy = new ArrayList<>();
        for (Path zone : layout.raplZones()) {
            Long microjoules = number(zone.resolve("energy_uj"));
            if (microjoules != null) {
                unavailable.remove(RAPL);
                energy.add(EnergyCounter.newBuilder()
                        .setDomain(text(zone.resolve("name"), zone.getFileName().toString()))
                        .setMicrojoules(microjoules)
                        .build());
            }
        }
        List<GpuSample> gpus = new ArrayList<>();
        for (Path card : layout.gpus()) {
            Long busy = number(card.resolve("device/gpu_busy_percent"));
            if (busy != null) {
                unavailable.remove(GPU);
                gpus.add(GpuSample.newBuilder()
                        .setIndex(Integer.parseInt(card.getFileName().toString().substring(4)))
                        .setUtilizationPercent(busy.doubleValue())
                        .build());
            }
        }
        List<DiskSample> disks = disks();
        tools.refresh(disks.stream()
                .map(DiskSample::getDevice)
                .filter(d -> d.startsWith("sd"))
                .toList());
        if (gpus.isEmpty() && tools.gpuToolAvailable() && !tools.gpus().isEmpty()) {
            gpus = tools.gpus();
            unavailable.remove(GPU);
        }
        if (tools.diskToolsAvailable()) {
            unavailable.remove(DISK_SPIN);
            disks = disks.stream()
                    .map(d -> {
                        HostTools.DiskFacts facts = tools.disk(d.getDevice());
                        // Field by field rather than Avro's deep copy, which loads classes its own way.
                        return DiskSample.newBuilder()
                                .setDevice(d.getDevice())
                                .setIoMillis(d.getIoMillis())
                                .setStartStopCount(facts.startStopCount())
                                .setSpinning(facts.spinning())
                                .build();
                    })
                    .toList();
        }
        List<String> reported = unavailableReported ? List.of() : List.copyOf(unavailable);
        unavailableReported = true;
        return HostPowerSample.newBuilder()
                .setCpus(cpus)
                .setEnergy(energy)
                .setDisks(disks)
                .setGpus(gpus)
                .setUnavailable(reported)
                .build();
    }

    private Layout layout() {
        long now = System.nanoTime();
        if (layout == null || now - layoutAt > RESCAN.toNanos()) {
            List<Path> cpus = children(sys.resolve("devices/system/cpu"), CPU_DIR);
            Map<Path, List<Path>> idle = new HashMap<>();
            for (Path cpu : cpus) {
                idle.put(cpu, children(cpu.resolve("cpuidle"), IDLE_STATE));
            }
            layout = new Layout(
                    cpus,
                    idle,
                    children(sys.resolve("class/powercap"), RAPL_ZONE),
                    children(sys.resolve("class/drm"), GPU_CARD));
            layoutAt = now;
        }
        return layout;
    }

    /** Whole disks from /proc/diskstats with their busy time; spin state needs SMART, which sysfs does not give. */
    private List<DiskSample> disks() {
        List<DiskSample> disks = new ArrayList<>();
        Path stats = proc.resolve("diskstats");
        if (!Files.isReadable(stats)) {
            return disks;
        }
        try {
            for (String line : Files.readAllLines(stats)) {
                String[] f = line.trim().split("\\s+");
                if (f.length >= 13 && WHOLE_DISK.matcher(f[2]).matches()) {
                    disks.add(DiskSample.newBuilder()
                            .setDevice(f[2])
                            .setIoMillis(Long.parseLong(f[12]))
                            .build());
                }
            }
        } catch (IOException | NumberFormatException e) {
            return disks;
        }
        return disks;
    }

    private static List<Path> children(Path dir, Pattern name) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> list = Files.list(dir)) {
            return list.filter(p -> name.matcher(p.getFileName().toString()).matches())
                    .sorted()
                    .toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static Long number(Path file) {
        try {
            return Long.parseLong(Files.readString(file).trim());
        } catch (IOException | NumberFormatException e) {
            return null;
        }
    }

    private static String text(Path file, String fallback) {
        try {
            return Files.readString(file).trim();
        } catch (IOException e) {
            return fallback;
        }
    }

    private static long orZero(Long value) {
        return value == null ? 0 : value;
    }
}
