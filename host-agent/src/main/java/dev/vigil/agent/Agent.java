package dev.vigil.agent;

import dev.vigil.agent.capture.ArtifactStage;
import dev.vigil.agent.capture.ArtifactUploader;
import dev.vigil.agent.capture.CaptureService;
import dev.vigil.agent.capture.CaptureSettings;
import dev.vigil.agent.capture.FlightRecorder;
import dev.vigil.agent.capture.RollingSnapshots;
import dev.vigil.agent.command.CommandService;
import dev.vigil.agent.config.AgentConfig;
import dev.vigil.agent.delivery.Deliveries;
import dev.vigil.agent.delivery.LoggedOutput;
import dev.vigil.agent.delivery.RecordKeyFile;
import dev.vigil.agent.delivery.Reporting;
import dev.vigil.agent.feedback.FeedbackInbox;
import dev.vigil.agent.health.AgentHttpServer;
import dev.vigil.agent.hypervisor.DomainImageLabels;
import dev.vigil.agent.hypervisor.DomainLifecycleChange;
import dev.vigil.agent.hypervisor.DomainWatcher;
import dev.vigil.agent.hypervisor.HypervisorEvent;
import dev.vigil.agent.hypervisor.KnownDomains;
import dev.vigil.agent.hypervisor.LibvirtEventLoop;
import dev.vigil.agent.hypervisor.NativeDomainEvents;
import dev.vigil.agent.hypervisor.VigilConnect;
import dev.vigil.agent.mapping.AgentEventMapper;
import dev.vigil.agent.publish.SpoolPublisher;
import dev.vigil.agent.sampling.Sampler;
import dev.vigil.agent.spool.EventCapture;
import dev.vigil.agent.spool.Lane;
import dev.vigil.agent.spool.Spool;
import dev.vigil.schemas.TopicCatalog;
import dev.vigil.schemas.agent.AgentEvent;
import dev.vigil.schemas.agent.AgentStatusKind;
import dev.vigil.schemas.agent.ConnectionState;
import dev.vigil.schemas.agent.IoError;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.avro.specific.SpecificRecord;
import org.libvirt.LibvirtException;

/**
 * The host agent: captures what the hypervisor reports about its domains into a durable spool, samples them,
 * executes signed commands, and drains the spool to Kafka.
 */
public final class Agent implements AutoCloseable {

    static final long SPOOL_SEGMENT_BYTES = 8L * 1024 * 1024;
    private static final System.Logger LOG = System.getLogger(Agent.class.getName());
    private static final HypervisorEvent STOP = new DomainLifecycleChange("", "", "", "", null, false);
    private static final Duration SUPERVISION_PERIOD = Duration.ofSeconds(2);
    // Evidence is fsynced on every append; samples (the sheddable class) are group-synced this often, and on
    // segment roll and stop: a power loss may cost up to this much of samples, never evidence.
    private static final Duration SAMPLES_SYNC_PERIOD = Duration.ofSeconds(10);

    private final AgentConfig config;
    private final DomainImageLabels images;
    private final AgentEventMapper mapper;
    private final AgentMetrics metrics = new AgentMetrics();
    private final BlockingQueue<HypervisorEvent> hypervisorEvents = new LinkedBlockingQueue<>();
    private final AtomicInteger domainsSeen = new AtomicInteger();
    private final ScheduledExecutorService scheduler;
    private final Thread dispatcher;
    private Spool spool;
    private EventCapture capture;
    private SpoolPublisher publisher;
    private LibvirtEventLoop eventLoop;
    private volatile DomainWatcher watcher;
    /** The domains reported so far, kept across restarts to tell what disappeared meanwhile. */
    private volatile KnownDomains known;

    private volatile NativeDomainEvents nativeEvents;
    private volatile boolean connectionLost;
    private Sampler sampler;
    private CommandService commands;
    private volatile Deliveries deliveries;
    private FeedbackInbox inbox;
    private AgentHttpServer http;
    private FlightRecorder recorder;
    private ArtifactStage artifactStage;
    private ArtifactUploader uploader;
    private CaptureService captures;
    private RollingSnapshots snapshots;

    public Agent(AgentConfig config) {
        this.config = config;
        this.images = new DomainImageLabels(() -> watcher);
        this.mapper = new AgentEventMapper(config.hostId(), config.agentId(), version(), config.tenant(), images);
        // One thread: sampling and reconnection never overlap, so no native call uses a connection being closed.
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "vigil-agent-scheduler"));
        this.dispatcher = daemon(this::dispatch, "vigil-agent-dispatch");
    }

    /** Opens the spool, connects to the hypervisor, reports what exists, and starts every loop. */
    public void start() throws LibvirtException, IOException {
        spool = Spool.open(spoolDir(config), config.spoolMaxBytes(), SPOOL_SEGMENT_BYTES);
        capture = new EventCapture(spool);
        RecordKeyFile recordKey = new RecordKeyFile(config.stateDir(), config.tenant(), config.hostId());
        if (recordKey.check() == null) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    "this host is not enrolled: its records go unsealed, and an ingestion that checks identity refuses"
                            + " them until it is (vigil-agent enroll TOKEN)");
        }
        publisher = new SpoolPublisher(
                spool,
                config::kafkaClient,
                config::kafkaCredentials,
                config.agentId(),
                config.deliveryTimeout(),
                recordKey);
        publisher.start();
        metrics.bind(spool, publisher);
        if (config.capture().enabled()) {
            startCapture();
        } else {
            LOG.log(
                    System.Logger.Level.WARNING,
                    "no object store configured (VIGIL_AGENT_S3_ENDPOINT): crashes are" + " reported without evidence");
        }
        eventLoop = LibvirtEventLoop.start();
        connect();
        var discovered = watcher.discover();
        domainsSeen.set(discovered.size());
        captureEvent(mapper.agentStatus(AgentStatusKind.STARTED, config.hypervisorUri(), discovered.size()));
        known = KnownDomains.load(config.stateDir().resolve("known-domains"));
        var vanished = known.reconcile(discovered, Instant.now());
        for (var gone : vanished) {
            LOG.log(
                    System.Logger.Level.INFO,
                    "VM " + gone.vmName() + " (" + gone.vmUuid() + ") disappeared while the agent was away");
        }
        vanished.forEach(hypervisorEvents::offer);
        discovered.forEach(hypervisorEvents::offer);
        dispatcher.start();
        if (captures != null) {
            // Captures the agent was stopped in: taken up again now that the hypervisor answers.
            captures.resumePending();
            // Crashes that happened while no agent watched: a preserved crashed VM is still evidence.
            for (DomainLifecycleChange found : discovered) {
                if (captures.uncapturedCrash(found)) {
                    LOG.log(
                            System.Logger.Level.WARNING,
                            "VM " + found.vmName() + " crashed while no agent watched it: capturing it now");
                    captureEvent(mapper.crashFoundAtStart(found));
                }
            }
        }
        sampler = new Sampler(config, mapper, capture, metrics, () -> watcher);
        schedule(sampler::sampleOnce, config.samplePeriod());
        schedule(this::heartbeat, config.heartbeatInterval());
        schedule(this::supervise, SUPERVISION_PERIOD);
        schedule(this::syncSamples, SAMPLES_SYNC_PERIOD);
        if (snapshots != null && !config.capture().snapshotEvery().isZero()) {
            schedule(snapshots::round, config.capture().snapshotEvery());
        }
        if (config.dispatchUrl() != null) {
            deliveries = new Deliveries(config, LoggedOutput.to(LOG), Duration.ofSeconds(5), Clock.systemUTC());
            deliveries.reportTo(new Reporting() {
                @Override
                public String report(String vmUuid, String vmName, SpecificRecord payload) {
                    AgentEvent event = mapper.delivery(vmUuid, vmName, payload);
                    captureEvent(event);
                    return event.getEnvelope().getEventId();
                }

                @Override
                public void settle(Duration atMost) {
                    if (captures != null) {
                        captures.settle(atMost);
                    }
                }
            });
            // Images still arriving under running VMs: their reads come to this process now.
            deliveries.resume();
            deliveries.guardLicenses(config.delivery().licenseCheck());
            deliveries.checkConformityEvery(config.delivery().conformityCheck());
        }
        commands = CommandService.start(config, mapper, capture, metrics, () -> watcher, this::reportAll, deliveries);
        inbox = FeedbackInbox.start(
                inboxDir(config),
                blobsDir(config),
                capture,
                artifactStage,
                uploader == null ? () -> {} : uploader::wake,
                metrics);
        http = AgentHttpServer.start(config.httpPort(), this, metrics);
        LOG.log(
                System.Logger.Level.INFO,
                "agent " + config.agentId() + " watching " + config.hypervisorUri() + " (domains: " + discovered.size()
                        + ") spooling in " + spoolDir(config) + ", publishing to " + config.kafkaBootstrapServers()
                        + " over "
                        + config.kafkaSecurity().get("security.protocol")
                        + (config.usesEnrolmentCertificate() ? " with the certificate dispatch issues this host" : ""));
    }

    /** A VM paused on a read of its arriving image waits for a chunk; capturing it as an incident would be noise. */
    private boolean waitingForImage(AgentEvent event) {
        Deliveries arriving = deliveries;
        if (!(event.getPayload() instanceof IoError) || event.getVm() == null || arriving == null) {
            return false;
        }
        if (!arriving.arriving(event.getVm().getUuid())) {
            return false;
        }
        LOG.log(
                System.Logger.Level.INFO,
                "VM " + event.getVm().getName() + " paused on a read of its arriving image: not an incident; it goes"
                        + " on once the chunk is here");
        return true;
    }

    private void startCapture() throws IOException {
        CaptureSettings settings = config.capture();
        recorder = new FlightRecorder(settings.flightRecorderWindow());
        artifactStage = new ArtifactStage(config.stateDir().resolve("artifacts"), settings.maxBytes());
        uploader = new ArtifactUploader(
                artifactStage,
                settings,
                config.stateDir(),
                config.dispatchUrl(),
                capture,
                mapper.source(),
                mapper.tenant());
        captures = new CaptureService(
                settings,
                () -> watcher,
                artifactStage,
                uploader::wake,
                recorder,
                config.stateDir().resolve("collection-policy.properties"),
                config.stateDir().resolve("snapshots"),
                Clock.systemUTC());
        capture.observe(record -> {
            recorder.record(record);
            if (record instanceof AgentEvent event && !waitingForImage(event)) {
                captures.onEvent(event);
                Deliveries watching = deliveries;
                if (watching != null) {
                    // After the capture is queued: a rollback waits for it before the disk changes.
                    watching.observe(event);
                }
            }
        });
        snapshots = new RollingSnapshots(
                () -> watcher,
                config.stateDir().resolve("snapshots"),
                settings.snapshotKeep(),
                settings.snapshotMemory(),
                Clock.systemUTC());
        metrics.bind(captures, uploader, artifactStage, snapshots);
        uploader.start();
    }

    /** Where the spool lives under a state directory. */
    public static Path spoolDir(AgentConfig config) {
        return config.stateDir().resolve("spool");
    }

    /** Where {@code vigil-agent feedback} drops records for the running agent. */
    public static Path inboxDir(AgentConfig config) {
        return config.stateDir().resolve("inbox");
    }

    /** Where {@code vigil-agent feedback} keeps screenshots, by content, until the agent stages them for upload. */
    public static Path blobsDir(AgentConfig config) {
        return config.stateDir().resolve("blobs");
    }

    public SpoolPublisher publisher() {
        return publisher;
    }

    public Spool spool() {
        return spool;
    }

    public AgentMetrics metrics() {
        return metrics;
    }

    /** True while the hypervisor connection is up. */
    public boolean hypervisorConnected() {
        return !connectionLost;
    }

    /** Captures the current state of every domain (the on-demand report). */
    public int reportAll() {
        try {
            var discovered = watcher.discover();
            known.reconcile(discovered, Instant.now()).forEach(hypervisorEvents::offer);
            discovered.forEach(hypervisorEvents::offer);
            return discovered.size();
        } catch (LibvirtException e) {
            LOG.log(System.Logger.Level.WARNING, "report failed: " + e.getMessage());
            return -1;
        }
    }

    /** Drops the hypervisor connection as a network or daemon failure would; supervision reconnects. */
    void dropHypervisorConnection() {
        if (nativeEvents != null) {
            nativeEvents.close();
            nativeEvents = null;
        }
        watcher.close();
    }

    /** Captures what is queued, says it is stopping, and closes every loop; unpublished events stay spooled. */
    @Override
    public void close() {
        // No interrupts: an interrupted thread inside a FileChannel write closes the spool's channel.
        scheduler.shutdown();
        try {
            if (!scheduler.awaitTermination(10, TimeUnit.SECONDS)) {
                LOG.log(System.Logger.Level.WARNING, "a periodic task did not finish within 10 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closeQuietly(http);
        closeQuietly(inbox);
        closeQuietly(commands);
        closeQuietly(deliveries);
        closeQuietly(captures);
        if (nativeEvents != null) {
            nativeEvents.close();
        }
        if (watcher != null) {
            watcher.close();
        }
        if (dispatcher.isAlive()) {
            hypervisorEvents.offer(STOP);
            try {
                dispatcher.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (capture != null) {
            captureEvent(mapper.agentStatus(AgentStatusKind.STOPPING, config.hypervisorUri(), domainsSeen.get()));
        }
        closeQuietly(uploader);
        if (publisher != null) {
            awaitDrained(Duration.ofSeconds(5));
            publisher.close();
        }
        if (spool != null) {
            try {
                spool.sync();
                spool.close();
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "closing the spool: " + e.getMessage());
            }
        }
        if (eventLoop != null) {
            eventLoop.close();
        }
        LOG.log(System.Logger.Level.INFO, "agent " + config.agentId() + " stopped");
    }

    private void connect() throws LibvirtException {
        // A dead connection is released before a new one replaces it.
        if (nativeEvents != null) {
            nativeEvents.close();
            nativeEvents = null;
        }
        if (watcher != null) {
            watcher.close();
        }
        watcher = DomainWatcher.open(config.hypervisorUri(), hypervisorEvents);
        VigilConnect connection = watcher.connection();
        nativeEvents = NativeDomainEvents.register(connection, hypervisorEvents);
    }

    private void supervise() {
        boolean alive;
        try {
            alive = watcher.connection().isAlive();
        } catch (LibvirtException | RuntimeException e) {
            alive = false;
        }
        if (alive) {
            return;
        }
        if (!connectionLost) {
            connectionLost = true;
            LOG.log(System.Logger.Level.WARNING, "lost the connection to " + config.hypervisorUri() + "; reconnecting");
            captureEvent(mapper.connection(ConnectionState.LOST, config.hypervisorUri(), "connection not alive"));
        }
        try {
            connect();
            connectionLost = false;
            LOG.log(System.Logger.Level.INFO, "reconnected to " + config.hypervisorUri());
            captureEvent(mapper.connection(ConnectionState.RESTORED, config.hypervisorUri(), null));
            reportAll();
        } catch (LibvirtException | RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "reconnect failed: " + e.getMessage());
        }
    }

    private void syncSamples() {
        try {
            spool.sync();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "syncing spooled samples: " + e.getMessage());
        }
    }

    private void heartbeat() {
        captureEvent(mapper.agentStatus(AgentStatusKind.HEARTBEAT, config.hypervisorUri(), domainsSeen.get()));
    }

    private void dispatch() {
        while (true) {
            try {
                HypervisorEvent event = hypervisorEvents.take();
                if (event == STOP) {
                    return;
                }
                if (event instanceof DomainLifecycleChange change) {
                    if (redefines(change)) {
                        images.forget(change.vmUuid());
                    }
                    if (!change.discovered()) {
                        known.record(change);
                    }
                }
                mapper.fromHypervisor(event).forEach(this::captureEvent);
                if (event instanceof DomainLifecycleChange change && "UNDEFINED".equals(change.state())) {
                    images.forget(change.vmUuid());
                    if (recorder != null) {
                        recorder.forget(change.vmUuid());
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "could not capture a hypervisor event: " + e);
            }
        }
    }

    /** A (re)definition or a fresh report may carry new image metadata. */
    private static boolean redefines(DomainLifecycleChange change) {
        return change.discovered() || "DEFINED".equals(change.state());
    }

    private void captureEvent(AgentEvent event) {
        try {
            capture.capture(Lane.EVIDENCE, TopicCatalog.AGENT_EVENTS, mapper.key(event), event);
            metrics.captured(Lane.EVIDENCE);
        } catch (IOException e) {
            // The disk refused the write: nothing else can keep it, so say so loudly with the event id.
            metrics.captureFailed();
            LOG.log(
                    System.Logger.Level.ERROR,
                    "could not spool event " + event.getEnvelope().getEventId() + ": " + e.getMessage());
        }
    }

    private void awaitDrained(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline && publisher.connected() && !spool.drained()) {
            try {
                TimeUnit.MILLISECONDS.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void schedule(Runnable task, Duration period) {
        long millis = period.toMillis();
        scheduler.scheduleAtFixedRate(
                () -> {
                    try {
                        task.run();
                    } catch (RuntimeException | LinkageError e) {
                        // Never let one failure cancel a periodic task for good.
                        LOG.log(System.Logger.Level.ERROR, "periodic task failed: " + e);
                    }
                },
                millis,
                millis,
                TimeUnit.MILLISECONDS);
    }

    private static void closeQuietly(AutoCloseable closeable) {
        if (closeable == null) {
            return;
        }
        try {
            closeable.close();
        } catch (Exception e) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    "closing " + closeable.getClass().getSimpleName() + ": " + e);
        }
    }

    private static Thread daemon(Runnable body, String name) {
        Thread thread = new Thread(body, name);
        thread.setDaemon(true);
        return thread;
    }

    static String version() {
        String version = Agent.class.getPackage().getImplementationVersion();
        return version == null ? "dev" : version;
    }
}
