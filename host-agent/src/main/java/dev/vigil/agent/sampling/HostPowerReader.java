package dev.vigil.agent.sampling;

import dev.vigil.schemas.agent.CpuSample;
import dev.vigil.schemas.agent.DiskSample;
import dev.vigil.schemas.agent.EnergyCounter;
import dev.vigil.schemas.agent.GpuSample;
import dev.vigil.schemas.agent.HostPowerSample;
import dev.vigil.schemas.agent.IdleStateResidency;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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
    private static final Pattern WHITESPACE = Pattern.compile("\\s+");
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
    private FileChannel diskstats;
    private ByteBuffer diskstatsBuffer = ByteBuffer.allocate(8192);

    /**
     * The files this host has, found at a rescan: directory listings and probing for files that do not exist (an
     * exception each) are the expensive part of a read, so a tick reads only files that were there.
     */
    private record Layout(List<CpuSource> cpus, List<NamedFile> raplZones, List<IndexedFile> gpus, boolean diskstats) {}

    private record CpuSource(int index, Path frequency, List<IdleSource> idleStates) {}

    private record IdleSource(String name, Path time, Path usage) {}

    private record NamedFile(String name, Path file) {}

    private record IndexedFile(int index, Path file) {}

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
        List<CpuSample> cpus = new ArrayList<>(layout.cpus().size());
        for (CpuSource cpu : layout.cpus()) {
            Long khz = cpu.frequency() == null ? null : number(cpu.frequency());
            if (khz != null) {
                unavailable.remove(CPUFREQ);
            }
            List<IdleStateResidency> states = new ArrayList<>(cpu.idleStates().size());
            for (IdleSource state : cpu.idleStates()) {
                Long time = number(state.time());
                if (time != null) {
                    unavailable.remove(CPUIDLE);
                    states.add(IdleStateResidency.newBuilder()
                            .setName(state.name())
                            .setResidencyMicros(time)
                            .setEntries(state.usage() == null ? 0 : orZero(number(state.usage())))
                            .build());
                }
            }
            cpus.add(CpuSample.newBuilder()
                    .setCpu(cpu.index())
                    .setFrequencyKhz(khz)
                    .setIdleStates(states)
                    .build());
        }
        List<EnergyCounter> energy = new ArrayList<>();
        for (NamedFile zone : layout.raplZones()) {
            Long microjoules = number(zone.file());
            if (microjoules != null) {
                unavailable.remove(RAPL);
                energy.add(EnergyCounter.newBuilder()
                        .setDomain(zone.name())
                        .setMicrojoules(microjoules)
                        .build());
            }
        }
        List<GpuSample> gpus = new ArrayList<>();
        for (IndexedFile card : layout.gpus()) {
            Long busy = number(card.file());
            if (busy != null) {
                unavailable.remove(GPU);
                gpus.add(GpuSample.newBuilder()
                        .setIndex(card.index())
                        .setUtilizationPercent(busy.doubleValue())
                        .build());
            }
        }
        List<DiskSample> disks = layout.diskstats() ? disks() : new ArrayList<>();
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
            List<CpuSource> cpus = new ArrayList<>();
            for (Path cpu : children(sys.resolve("devices/system/cpu"), CPU_DIR)) {
                List<IdleSource> idle = new ArrayList<>();
                for (Path state : children(cpu.resolve("cpuidle"), IDLE_STATE)) {
                    if (Files.isReadable(state.resolve("time"))) {
                        idle.add(new IdleSource(
                                text(state.resolve("name"), state.getFileName().toString()),
                                state.resolve("time"),
                                ifReadable(state.resolve("usage"))));
                    }
                }
                cpus.add(new CpuSource(
                        Integer.parseInt(cpu.getFileName().toString().substring(3)),
                        ifReadable(cpu.resolve("cpufreq/scaling_cur_freq")),
                        List.copyOf(idle)));
            }
            List<NamedFile> rapl = new ArrayList<>();
            for (Path zone : children(sys.resolve("class/powercap"), RAPL_ZONE)) {
                if (Files.isReadable(zone.resolve("energy_uj"))) {
                    rapl.add(new NamedFile(
                            text(zone.resolve("name"), zone.getFileName().toString()), zone.resolve("energy_uj")));
                }
            }
            List<IndexedFile> gpus = new ArrayList<>();
            for (Path card : children(sys.resolve("class/drm"), GPU_CARD)) {
                Path busy = card.resolve("device/gpu_busy_percent");
                if (Files.isReadable(busy)) {
                    gpus.add(new IndexedFile(
                            Integer.parseInt(card.getFileName().toString().substring(4)), busy));
                }
            }
            // A rescan also reopens /proc/diskstats, in case procfs was remounted.
            closeDiskstats();
            layout = new Layout(
                    List.copyOf(cpus),
                    List.copyOf(rapl),
                    List.copyOf(gpus),
                    Files.isReadable(proc.resolve("diskstats")));
            layoutAt = now;
        }
        return layout;
    }

    /** Whole disks from /proc/diskstats with their busy time; spin state needs SMART, which sysfs does not give. */
    private List<DiskSample> disks() {
        List<DiskSample> disks = new ArrayList<>();
        String text = diskstats();
        if (text == null) {
            return disks;
        }
        try {
            for (String line : text.split("\n")) {
                String[] f = WHITESPACE.split(line.trim());
                if (f.length >= 13 && WHOLE_DISK.matcher(f[2]).matches()) {
                    disks.add(DiskSample.newBuilder()
                            .setDevice(f[2])
                            .setIoMillis(Long.parseLong(f[12]))
                            .build());
                }
            }
        } catch (NumberFormatException e) {
            return disks;
        }
        return disks;
    }

    /**
     * /proc/diskstats, read from offset 0 of a file kept open (procfs renders it afresh on each such read): one
     * system call a tick instead of an open, a stat, reads and a close.
     */
    private String diskstats() {
        try {
            if (diskstats == null) {
                diskstats = FileChannel.open(proc.resolve("diskstats"), StandardOpenOption.READ);
            }
            diskstatsBuffer.clear();
            long position = 0;
            for (int n = diskstats.read(diskstatsBuffer, position);
                    n > 0;
                    n = diskstats.read(diskstatsBuffer, position)) {
                position += n;
                if (!diskstatsBuffer.hasRemaining()) {
                    diskstatsBuffer =
                            ByteBuffer.allocate(diskstatsBuffer.capacity() * 2).put(diskstatsBuffer.flip());
                }
            }
            return new String(diskstatsBuffer.array(), 0, diskstatsBuffer.position(), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            closeDiskstats();
            return null;
        }
    }

    private void closeDiskstats() {
        if (diskstats != null) {
            try {
                diskstats.close();
            } catch (IOException e) {
                // Reopened on the next read.
            }
            diskstats = null;
        }
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

    private static Path ifReadable(Path file) {
        return Files.isReadable(file) ? file : null;
    }

    private static long orZero(Long value) {
        return value == null ? 0 : value;
    }
}
