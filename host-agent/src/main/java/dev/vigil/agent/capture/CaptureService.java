package dev.vigil.agent.capture;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vigil.agent.hypervisor.DomainLifecycleChange;
import dev.vigil.agent.hypervisor.DomainWatcher;
import dev.vigil.agent.hypervisor.DomainXml;
import dev.vigil.agent.hypervisor.Screenshots;
import dev.vigil.agent.hypervisor.TrustedSnapshots;
import dev.vigil.agent.hypervisor.VigilConnect;
import dev.vigil.agent.hypervisor.VigilConnect.DumpFormat;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.agent.AgentEvent;
import dev.vigil.schemas.common.ArtifactKind;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.libvirt.Domain;
import org.libvirt.DomainInfo.DomainState;
import org.libvirt.LibvirtException;

/**
 * Captures the evidence of a crash, hang, watchdog expiry or I/O-error pause, off the libvirt event thread: a
 * snapshot of the disks as the failure left them, a screenshot, the tail of the console file, the domain XML, a
 * memory dump under the trigger's {@link DumpPolicy}, the disks' delta against the vendor's master image
 * ({@link DiskDelta}, from the overlays the snapshot froze), a reference to the VM's snapshots, and the flight recorder
 * with this capture's own report (what each step did, how long it took, what failed). A running VM (a hang) is
 * paused while this happens. Then the configured {@link OnCrashAction} applies.
 *
 * <p>Each capture is bounded by {@link CaptureSettings#timeout()} (a memory dump still running at the deadline is
 * aborted) and by {@link CaptureSettings#maxBytes()} of staged artifacts (a dump that would not fit is skipped).
 * What was captured is staged durably and uploaded by {@link ArtifactUploader}; every manifest names the kinds this
 * capture staged. A second trigger of the same kind for the same VM within {@link #COALESCE_WINDOW} (a guest panic
 * reported both by QEMU and by libvirt's lifecycle) is part of the same incident and captures nothing more.
 */
public final class CaptureService implements AutoCloseable {

    public static final Duration COALESCE_WINDOW = Duration.ofSeconds(30);
    /** How many times a capture is started before it is given up (each start ended with the agent stopping). */
    static final int MAX_ATTEMPTS = 3;

    private static final EventCodec<AgentEvent> TRIGGER_CODEC = EventCodec.of(AgentEvent.class);
    static final String FAILURE_SNAPSHOT_PREFIX = "failure-";
    private static final System.Logger LOG = System.getLogger(CaptureService.class.getName());
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final DateTimeFormatter SNAPSHOT_TIME = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'");
    private static final int SNAPSHOT_DISK_ONLY = 16;
    private static final int SNAPSHOT_ATOMIC = 128;

    private final CaptureSettings settings;
    private final Supplier<DomainWatcher> watcher;
    private final ArtifactStage stage;
    private final Runnable staged;
    private final FlightRecorder recorder;
    private final Path policyFile;
    private final Path snapshotDir;
    private final Clock clock;
    private final ExecutorService worker;
    private final ExecutorService dumper;
    private final SnapshotRelaunch relaunch;
    private final Map<String, Instant> lastTrigger = new ConcurrentHashMap<>();
    private final AtomicLong captures = new AtomicLong();
    private final AtomicLong failedSteps = new AtomicLong();

    /**
     * @param staged called after a capture's artifacts are staged (wakes the uploader)
     * @param policyFile the collection policy a signed command set, overriding the configured dump policies
     * @param snapshotDir where external snapshot overlays are created
     */
    public CaptureService(
            CaptureSettings settings,
            Supplier<DomainWatcher> watcher,
            ArtifactStage stage,
            Runnable staged,
            FlightRecorder recorder,
            Path policyFile,
            Path snapshotDir,
            Clock clock) {
        this.settings = settings;
        this.watcher = watcher;
        this.stage = stage;
        this.staged = staged;
        this.recorder = recorder;
        this.policyFile = policyFile;
        this.snapshotDir = snapshotDir;
        this.clock = clock;
        this.worker = Executors.newSingleThreadExecutor(r -> daemon(r, "vigil-agent-capture"));
        this.dumper = Executors.newCachedThreadPool(r -> daemon(r, "vigil-agent-memory-dump"));
        this.relaunch = new SnapshotRelaunch(snapshotDir, clock);
    }

    /** Starts a capture if {@code event} is a trigger; returns at once. */
    public void onEvent(AgentEvent event) {
        Optional<TriggerKind> kind = TriggerKind.of(event);
        if (kind.isEmpty()) {
            return;
        }
        String vmUuid = event.getVm().getUuid();
        Instant at = event.getEnvelope().getOccurredAt();
        String key = vmUuid + "/" + kind.get();
        Instant previous = lastTrigger.get(key);
        if (previous != null && Duration.between(previous, at).abs().compareTo(COALESCE_WINDOW) <= 0) {
            LOG.log(
                    System.Logger.Level.DEBUG,
                    "coalescing " + kind.get() + " " + event.getEnvelope().getEventId() + " into the capture of "
                            + vmUuid + " at " + previous);
            return;
        }
        lastTrigger.put(key, at);
        worker.execute(() -> {
            try {
                capture(event, kind.get(), Attempt.FIRST);
            } catch (RuntimeException e) {
                LOG.log(
                        System.Logger.Level.ERROR,
                        "capture of " + event.getEnvelope().getEventId() + " failed: " + e);
            }
        });
    }

    /**
     * Takes up the captures the agent was stopped in (a crash, a {@code kill -9}, a power cut): each is run again from
     * what survived, the VM preserved in its failed state and the failure snapshot already taken, and its report says
     * which attempt it is and what could not be recovered. A capture interrupted {@link #MAX_ATTEMPTS} times is not
     * tried again; its report alone is staged, so the incident still closes with the reason. Call once the hypervisor
     * connection is up.
     */
    public void resumePending() {
        List<ArtifactStage.Intent> intents;
        try {
            intents = stage.intents();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.ERROR, "cannot read the captures in progress when the agent stopped: " + e);
            return;
        }
        for (ArtifactStage.Intent intent : intents) {
            AgentEvent trigger;
            try {
                trigger = TRIGGER_CODEC.decode(intent.trigger());
            } catch (RuntimeException e) {
                LOG.log(
                        System.Logger.Level.ERROR,
                        "capture intent " + intent.incidentId() + " holds no readable trigger: " + e);
                try {
                    stage.clearIntent(intent.incidentId());
                } catch (IOException ignored) {
                    // logged above; the file stays for the operator
                }
                continue;
            }
            Optional<TriggerKind> kind = TriggerKind.of(trigger);
            if (kind.isEmpty()) {
                continue;
            }
            Attempt attempt = new Attempt(intent.attempt() + 1, intent.firstStartedAt(), intent.paused());
            LOG.log(
                    System.Logger.Level.WARNING,
                    "the agent stopped during the capture of incident " + intent.incidentId() + " of "
                            + trigger.getVm().getName() + ": "
                            + (attempt.number() > MAX_ATTEMPTS
                                    ? "abandoned after " + MAX_ATTEMPTS + " attempts, its report alone is staged"
                                    : "taking it up again (attempt " + attempt.number() + ")"));
            lastTrigger.put(
                    trigger.getVm().getUuid() + "/" + kind.get(),
                    trigger.getEnvelope().getOccurredAt());
            worker.execute(() -> {
                try {
                    capture(trigger, kind.get(), attempt);
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.ERROR, "resumed capture of " + intent.incidentId() + " failed: " + e);
                }
            });
        }
    }

    /**
     * Whether a VM found at start is a crash nobody captured: crashed and preserved, no capture of it in progress,
     * and no failure snapshot (every capture takes one first). A crash the agent captured before it restarted, or
     * one an operator already dealt with, is left alone.
     */
    public boolean uncapturedCrash(DomainLifecycleChange found) {
        if (!"CRASHED".equals(found.state())) {
            return false;
        }
        try {
            for (ArtifactStage.Intent intent : stage.intents()) {
                if (found.vmUuid()
                        .equals(TRIGGER_CODEC.decode(intent.trigger()).getVm().getUuid())) {
                    return false;
                }
            }
            Domain domain = watcher.get().connection().domainLookupByUUIDString(found.vmUuid());
            for (String name : domain.snapshotListNames()) {
                if (name.startsWith(FAILURE_SNAPSHOT_PREFIX)) {
                    return false;
                }
            }
            return true;
        } catch (IOException | LibvirtException | RuntimeException e) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    "cannot tell whether crashed VM " + found.vmName() + " was captured; leaving it: " + e);
            return false;
        }
    }

    /**
     * Returns once every capture started so far has ended (its evidence staged), or after {@code atMost}: a VM's disk
     * and state may then change without taking the evidence with them.
     */
    public void settle(Duration atMost) {
        try {
            worker.submit(() -> {}).get(atMost.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException | RejectedExecutionException e) {
            LOG.log(System.Logger.Level.WARNING, "captures still running after " + atMost + ": " + e);
        }
    }

    public long captureCount() {
        return captures.get();
    }

    public long failedStepCount() {
        return failedSteps.get();
    }

    /** The dump policy for a trigger: a signed collection policy command's, else the configured one. */
    DumpPolicy policyFor(TriggerKind kind) {
        if (Files.exists(policyFile)) {
            Properties policy = new Properties();
            try (InputStream in = Files.newInputStream(policyFile)) {
                policy.load(in);
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "unreadable collection policy " + policyFile + ": " + e);
            }
            String value = policy.getProperty("dump." + kind.configName(), policy.getProperty("dump"));
            if (value != null) {
                Optional<DumpPolicy> parsed = DumpPolicy.parse(value);
                if (parsed.isPresent()) {
                    return parsed.get();
                }
                LOG.log(
                        System.Logger.Level.WARNING,
                        "collection policy dump=" + value + " is not full, kernel or none");
            }
        }
        return settings.dumpPolicies().get(kind);
    }

    /** One step of a capture, as its report tells it. */
    private record Step(String name, String outcome, long millis, String detail) {}

    /** What a capture produced: the blob in the work directory and how to describe it. */
    private record Captured(ArtifactKind kind, Path blob, String format, boolean partial) {}

    /** Which run of a capture this is: the first, or one taken up after the agent stopped during an earlier one. */
    private record Attempt(int number, String firstStartedAt, boolean pausedEarlier) {
        static final Attempt FIRST = new Attempt(1, null, false);

        boolean resumed() {
            return number > 1;
        }
    }

    private void capture(AgentEvent trigger, TriggerKind kind, Attempt attempt) {
        captures.incrementAndGet();
        String incidentId = trigger.getEnvelope().getEventId();
        String vmUuid = trigger.getVm().getUuid();
        Instant started = clock.instant();
        Instant deadline = started.plus(settings.timeout());
        List<Step> steps = new ArrayList<>();
        Map<ArtifactKind, Captured> captured = new LinkedHashMap<>();
        Path work;
        String firstStartedAt = attempt.firstStartedAt() == null ? started.toString() : attempt.firstStartedAt();
        byte[] encodedTrigger = TRIGGER_CODEC.encode(trigger);
        try {
            stage.recordIntent(new ArtifactStage.Intent(
                    incidentId, attempt.number(), firstStartedAt, encodedTrigger, attempt.pausedEarlier()));
            work = stage.newWorkDir(incidentId);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.ERROR, "cannot capture incident " + incidentId + " of " + vmUuid + ": " + e);
            return;
        }
        if (attempt.number() > MAX_ATTEMPTS) {
            steps.add(new Step(
                    "capture",
                    "abandoned",
                    0,
                    "the agent stopped during each of " + MAX_ATTEMPTS
                            + " attempts; nothing more is taken so that a capture cannot stop the agent forever"));
            stageReport(trigger, kind, attempt, started, steps, captured, work);
            return;
        }
        VigilConnect connection;
        Domain domain;
        try {
            connection = watcher.get().connection();
            domain = connection.domainLookupByUUIDString(vmUuid);
        } catch (LibvirtException | RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "cannot capture incident " + incidentId + " of " + vmUuid + ": " + e);
            failedSteps.incrementAndGet();
            steps.add(new Step("domain", "failed", 0, "the VM cannot be found: " + e.getMessage()));
            stageReport(trigger, kind, attempt, started, steps, captured, work);
            return;
        }
        String xml = run(steps, "domain-xml", deadline, () -> {
            String text = domain.getXMLDesc(0);
            Path blob = write(work.resolve("domain.xml"), text.getBytes(StandardCharsets.UTF_8));
            captured.put(ArtifactKind.DOMAIN_XML, new Captured(ArtifactKind.DOMAIN_XML, blob, "xml", false));
            return text;
        });
        DomainXml definition = xml == null ? null : DomainXml.parse(xml).orElse(null);
        Boolean pausedNow = run(steps, "hold", deadline, () -> hold(domain));
        // A hung VM an interrupted attempt paused is still this capture's to resume at the end.
        boolean heldByUs = Boolean.TRUE.equals(pausedNow) || attempt.pausedEarlier();
        if (Boolean.TRUE.equals(pausedNow)) {
            try {
                stage.recordIntent(
                        new ArtifactStage.Intent(incidentId, attempt.number(), firstStartedAt, encodedTrigger, true));
            } catch (IOException e) {
                LOG.log(
                        System.Logger.Level.WARNING,
                        "cannot note that incident " + incidentId + " paused its VM: " + e);
            }
        }
        String failureSnapshot = run(steps, "failure-snapshot", deadline, () -> {
            // Taken up again: the snapshot the interrupted attempt took froze the disks as the failure left them.
            Optional<String> earlier = attempt.resumed() ? failureSnapshotOf(domain, incidentId) : Optional.empty();
            return earlier.isPresent() ? earlier.get() : failureSnapshot(domain, definition, incidentId);
        });
        run(steps, "screenshot", deadline, () -> {
            Path blob = write(work.resolve("screen.png"), Screenshots.capture(connection, domain));
            captured.put(ArtifactKind.SCREENSHOT, new Captured(ArtifactKind.SCREENSHOT, blob, "png", false));
            return blob;
        });
        run(steps, "console", deadline, () -> {
            Path console = definition == null ? null : definition.consoleFile().orElse(null);
            if (console == null) {
                throw new IOException("the domain has no file-backed serial console");
            }
            Path blob = write(work.resolve("console.txt"), tail(console, settings.consoleTailBytes()));
            captured.put(ArtifactKind.CONSOLE_TEXT, new Captured(ArtifactKind.CONSOLE_TEXT, blob, "text/plain", false));
            return blob;
        });
        DumpPolicy policy = policyFor(kind);
        if (policy == DumpPolicy.NONE) {
            steps.add(new Step("memory-dump", "skipped", 0, "policy none for " + kind.configName()));
        } else {
            run(steps, "memory-dump", deadline, () -> {
                Captured dump = dumpMemory(connection, domain, definition, policy, work, deadline);
                captured.put(ArtifactKind.MEMORY_DUMP, dump);
                return dump;
            });
        }
        List<DiskDelta.Disk> overlays = new ArrayList<>();
        if (definition != null) {
            for (DomainXml.Disk disk : definition.disks()) {
                if ("qcow2".equals(disk.format())) {
                    overlays.add(new DiskDelta.Disk(disk.target(), disk.file()));
                }
            }
        }
        if (overlays.isEmpty()) {
            steps.add(new Step("disk-delta", "skipped", 0, "no disk runs on a qcow2 overlay of a master image"));
        } else if (failureSnapshot == null) {
            steps.add(new Step("disk-delta", "skipped", 0, "without a failure snapshot the overlays are still live"));
            failedSteps.incrementAndGet();
        } else {
            run(steps, "disk-delta", deadline, () -> {
                Path blob = work.resolve("disk.delta");
                DiskDelta.Stats stats = DiskDelta.write(overlays, blob, stage.maxBytes() - stage.bytes());
                captured.put(
                        ArtifactKind.DISK_DELTA, new Captured(ArtifactKind.DISK_DELTA, blob, DiskDelta.FORMAT, false));
                return stats;
            });
        }
        run(steps, "snapshot-ref", deadline, () -> {
            Path blob = write(work.resolve("snapshots.json"), snapshotRef(domain, failureSnapshot));
            captured.put(ArtifactKind.SNAPSHOT_REF, new Captured(ArtifactKind.SNAPSHOT_REF, blob, "json", false));
            return blob;
        });
        if (kind == TriggerKind.INTERRUPT) {
            steps.add(new Step("on-crash-action", "skipped", 0, "the interrupt stops the VM once this ends"));
        } else {
            run(steps, "on-crash-action", null, () -> afterCapture(domain, heldByUs));
        }

        stageReport(trigger, kind, attempt, started, steps, captured, work);
    }

    /**
     * Stages what was captured and, last, the flight recorder whose trailer is this capture's own report; then forgets
     * the capture's intent.
     */
    private void stageReport(
            AgentEvent trigger,
            TriggerKind kind,
            Attempt attempt,
            Instant started,
            List<Step> steps,
            Map<ArtifactKind, Captured> captured,
            Path work) {
        String incidentId = trigger.getEnvelope().getEventId();
        String vmUuid = trigger.getVm().getUuid();
        DumpPolicy policy = policyFor(kind);
        try {
            List<String> plan = new ArrayList<>();
            captured.keySet().forEach(k -> plan.add(k.name()));
            plan.add(ArtifactKind.FLIGHT_RECORDER.name());
            byte[] history = recorder.dump(
                    vmUuid,
                    trigger.getEnvelope().getOccurredAt(),
                    report(trigger, kind, policy, attempt, started, steps, plan));
            Path blob = write(work.resolve("flight-recorder.ndjson"), history);
            captured.put(
                    ArtifactKind.FLIGHT_RECORDER,
                    new Captured(ArtifactKind.FLIGHT_RECORDER, blob, "application/x-ndjson", false));
            for (Captured c : captured.values()) {
                stage.commit(
                        new StagedArtifact(
                                incidentId,
                                c.kind().name(),
                                c.format(),
                                c.partial(),
                                plan,
                                vmUuid,
                                trigger.getVm().getName(),
                                trigger.getVm().getProduct(),
                                trigger.getVm().getRelease(),
                                trigger.getEnvelope().getOccurredAt().toEpochMilli(),
                                StagedArtifact.Announcement.MANIFEST),
                        c.blob());
            }
            stage.clearIntent(incidentId);
            ArtifactStage.deleteTree(work);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.ERROR, "could not stage the evidence of incident " + incidentId + ": " + e);
            return;
        }
        staged.run();
        LOG.log(
                System.Logger.Level.INFO,
                "captured " + kind.configName() + " incident " + incidentId + " of "
                        + trigger.getVm().getName() + (attempt.resumed() ? " (attempt " + attempt.number() + ")" : "")
                        + " in " + Duration.between(started, clock.instant()).toMillis() + " ms: "
                        + captured.keySet());
    }

    @FunctionalInterface
    private interface StepBody<T> {
        T run() throws Exception;
    }

    /** Runs one step, recording its outcome; a failure or the deadline skips only this step. */
    private <T> T run(List<Step> steps, String name, Instant deadline, StepBody<T> body) {
        long start = System.nanoTime();
        if (deadline != null && !clock.instant().isBefore(deadline)) {
            steps.add(new Step(name, "skipped", 0, "capture deadline passed"));
            failedSteps.incrementAndGet();
            return null;
        }
        try {
            T result = body.run();
            steps.add(new Step(
                    name,
                    "ok",
                    (System.nanoTime() - start) / 1_000_000,
                    result instanceof DiskDelta.Stats stats ? stats.toString() : null));
            return result;
        } catch (Exception e) {
            failedSteps.incrementAndGet();
            String detail = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            steps.add(new Step(name, "failed", (System.nanoTime() - start) / 1_000_000, detail));
            LOG.log(System.Logger.Level.WARNING, "capture step " + name + " failed: " + detail);
            return null;
        }
    }

    /** Pauses a VM still running (a hung guest) so its screen, memory and disks agree; true if this paused it. */
    private static boolean hold(Domain domain) throws LibvirtException {
        if (domain.getInfo().state == DomainState.VIR_DOMAIN_RUNNING) {
            domain.suspend();
            return true;
        }
        return false;
    }

    /**
     * An external disk-only snapshot of every file-backed disk, taken before anything else touches the VM: the
     * files the VM ran on stay exactly as the failure left them, and the VM continues on new overlays.
     */
    private String failureSnapshot(Domain domain, DomainXml definition, String incidentId) throws Exception {
        if (definition == null || definition.disks().isEmpty()) {
            throw new IOException("the domain has no file-backed disks to snapshot");
        }
        String name =
                FAILURE_SNAPSHOT_PREFIX + SNAPSHOT_TIME.format(clock.instant().atZone(ZoneOffset.UTC)) + "-"
                        + incidentId.substring(0, Math.min(8, incidentId.length()));
        Path dir = Files.createDirectories(snapshotDir.resolve(domain.getUUIDString()));
        StringBuilder xml = new StringBuilder("<domainsnapshot><name>")
                .append(name)
                .append("</name><description>Vigil: the disks as incident ")
                .append(escape(incidentId))
                .append(" left them</description><disks>");
        for (DomainXml.Disk disk : definition.disks()) {
            xml.append("<disk name='")
                    .append(escape(disk.target()))
                    .append("' snapshot='external'><driver type='qcow2'/><source file='")
                    .append(escape(
                            dir.resolve(name + "-" + disk.target() + ".qcow2").toString()))
                    .append("'/></disk>");
        }
        xml.append("</disks></domainsnapshot>");
        domain.snapshotCreateXML(xml.toString(), SNAPSHOT_DISK_ONLY | SNAPSHOT_ATOMIC);
        return name;
    }

    /** The failure snapshot an earlier attempt of this incident's capture took, if the VM still has it. */
    private static Optional<String> failureSnapshotOf(Domain domain, String incidentId) throws LibvirtException {
        String suffix = "-" + incidentId.substring(0, Math.min(8, incidentId.length()));
        for (String name : domain.snapshotListNames()) {
            if (name.startsWith(FAILURE_SNAPSHOT_PREFIX) && name.endsWith(suffix)) {
                return Optional.of(name);
            }
        }
        return Optional.empty();
    }

    private byte[] snapshotRef(Domain domain, String failureSnapshot) throws Exception {
        ObjectNode ref = JSON.createObjectNode();
        ref.put("vm", domain.getUUIDString());
        ref.put("failureSnapshot", failureSnapshot);
        ref.put("lastTrusted", TrustedSnapshots.last(domain).orElse(null));
        ArrayNode all = ref.putArray("snapshots");
        for (String name : domain.snapshotListNames()) {
            all.add(name);
        }
        return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(ref);
    }

    private Captured dumpMemory(
            VigilConnect connection,
            Domain domain,
            DomainXml definition,
            DumpPolicy policy,
            Path work,
            Instant deadline)
            throws Exception {
        long memoryBytes = domain.getInfo().maxMem * 1024L;
        long free = stage.maxBytes() - stage.bytes();
        if (memoryBytes > free) {
            throw new IOException("a dump of " + memoryBytes + " bytes would not fit in ARTIFACT_MAX_BYTES (" + free
                    + " bytes free)");
        }
        List<DumpFormat> formats = new ArrayList<>();
        if (policy == DumpPolicy.KERNEL) {
            formats.add(definition != null && definition.windowsGuest() ? DumpFormat.WIN_DMP : DumpFormat.KDUMP_ZLIB);
        }
        formats.add(DumpFormat.ELF);
        String vmUuid = domain.getUUIDString();
        List<String> failures = new ArrayList<>();
        for (DumpFormat format : formats) {
            Path target = work.resolve("memory." + format.name().toLowerCase());
            Path raw = target;
            Future<?> dump = dumper.submit(() -> {
                connection.dumpMemory(vmUuid, target, format);
                return null;
            });
            try {
                dump.get(Math.max(1, Duration.between(clock.instant(), deadline).toMillis()), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                domain.abortJob();
                Files.deleteIfExists(raw);
                throw new IOException("the " + format.format() + " dump did not finish before the capture deadline");
            } catch (java.util.concurrent.ExecutionException e) {
                failures.add(format.format() + ": " + e.getCause().getMessage());
                Files.deleteIfExists(raw);
                continue;
            }
            if (format == DumpFormat.KDUMP_ZLIB && KdumpFlattened.isFlattened(raw)) {
                Path regular = work.resolve("memory.kdump");
                KdumpFlattened.unflatten(raw, regular, 2 * memoryBytes + (64L << 20));
                Files.delete(raw);
                raw = regular;
            }
            return new Captured(ArtifactKind.MEMORY_DUMP, raw, format.format(), false);
        }
        throw new IOException("no memory dump format worked: " + String.join("; ", failures));
    }

    private String afterCapture(Domain domain, boolean heldByUs) throws LibvirtException, IOException {
        switch (settings.onCrash()) {
            case RESTART -> {
                if (domain.isActive() == 1) {
                    domain.destroy();
                }
                domain.create();
                return "restarted";
            }
            case RELAUNCH -> {
                String trusted = TrustedSnapshots.last(domain)
                        .orElseThrow(() -> new IllegalStateException("no trusted (vigil-) snapshot to relaunch from"));
                return relaunch.revert(domain, trusted, true);
            }
            default -> {
                if (heldByUs) {
                    domain.resume();
                    return "resumed";
                }
                return "preserved";
            }
        }
    }

    private String report(
            AgentEvent trigger,
            TriggerKind kind,
            DumpPolicy policy,
            Attempt attempt,
            Instant started,
            List<Step> steps,
            List<String> plan)
            throws IOException {
        ObjectNode report = JSON.createObjectNode();
        ObjectNode capture = report.putObject("capture");
        capture.put("incidentId", trigger.getEnvelope().getEventId());
        capture.put("attempt", attempt.number());
        if (attempt.resumed()) {
            ObjectNode resumed = capture.putObject("resumed");
            resumed.put("firstStartedAt", attempt.firstStartedAt());
            resumed.put(
                    "why",
                    "the agent stopped during an earlier attempt; this one took the evidence again from what"
                            + " survived (the VM as the failure left it, the failure snapshot already taken)");
            ArrayNode lost = resumed.putArray("notRecovered");
            steps.stream()
                    .filter(step ->
                            !step.outcome().equals("ok") && !step.outcome().equals("skipped"))
                    .forEach(step -> lost.add(step.name() + ": " + step.detail()));
            resumed.put("flightRecorder", "holds only what the agent saw since it restarted");
        }
        capture.put("trigger", kind.configName());
        capture.put("dumpPolicy", policy.name().toLowerCase());
        capture.put("onCrash", settings.onCrash().name().toLowerCase());
        capture.put("startedAt", started.toString());
        capture.put("tookMillis", Duration.between(started, clock.instant()).toMillis());
        ArrayNode stepList = capture.putArray("steps");
        for (Step step : steps) {
            ObjectNode s = stepList.addObject();
            s.put("step", step.name());
            s.put("outcome", step.outcome());
            s.put("millis", step.millis());
            if (step.detail() != null) {
                s.put("detail", step.detail());
            }
        }
        ArrayNode planned = capture.putArray("artifacts");
        plan.forEach(planned::add);
        return JSON.writeValueAsString(report);
    }

    /** The last {@code maxBytes} of a file, starting at a line boundary when one is near. */
    static byte[] tail(Path file, int maxBytes) throws IOException {
        try (RandomAccessFile in = new RandomAccessFile(file.toFile(), "r")) {
            long length = in.length();
            long from = Math.max(0, length - maxBytes);
            byte[] bytes = new byte[(int) (length - from)];
            in.seek(from);
            in.readFully(bytes);
            if (from > 0) {
                for (int i = 0; i < Math.min(bytes.length, 4096); i++) {
                    if (bytes[i] == '\n') {
                        return java.util.Arrays.copyOfRange(bytes, i + 1, bytes.length);
                    }
                }
            }
            return bytes;
        }
    }

    private static Path write(Path file, byte[] bytes) throws IOException {
        return Files.write(file, bytes);
    }

    private static String escape(String text) {
        return text.replace("&", "&amp;")
                .replace("<", "&lt;")
                .replace(">", "&gt;")
                .replace("'", "&apos;");
    }

    private static Thread daemon(Runnable body, String name) {
        Thread thread = new Thread(body, name);
        thread.setDaemon(true);
        return thread;
    }

    @Override
    public void close() {
        worker.shutdown();
        try {
            if (!worker.awaitTermination(30, TimeUnit.SECONDS)) {
                LOG.log(System.Logger.Level.WARNING, "a capture was still running at stop; it resumes nothing");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        dumper.shutdownNow();
    }
}
