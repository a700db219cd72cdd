package dev.vigil.agent.delivery;

import dev.vigil.agent.config.AgentConfig;
import dev.vigil.schemas.agent.AgentEvent;
import dev.vigil.schemas.agent.Conformity;
import dev.vigil.schemas.agent.Delivery;
import dev.vigil.schemas.agent.DeliveryStep;
import dev.vigil.schemas.delivery.ImageManifest;
import dev.vigil.schemas.delivery.MetadataException;
import dev.vigil.schemas.delivery.TrustedMetadata;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.DomainInfo;
import org.libvirt.LibvirtException;

/**
 * What one agent process does for deliveries: installs, and the images still arriving under running VMs (their
 * loopback {@link ImageServer}, started on first use, and one background pull each). The running agent resumes the
 * pulls an earlier process left unfinished; {@code vigil-agent enroll} and {@code install} wait for theirs.
 */
public final class Deliveries implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(Deliveries.class.getName());
    /** How long an interrupted VM stays paused for its state to be taken before it is stopped regardless. */
    private static final Duration INTERRUPT_EVIDENCE_WAIT = Duration.ofMinutes(2);

    private final AgentConfig config;
    private final PrintStream out;
    private final Installer installer;
    private final LicenseGuard guard;
    private final Updates updates;
    private final Clock clock;
    private volatile Reporting reporting = Reporting.NONE;
    private final Object flight = new Object();
    private String inFlight;
    private String cancelled;
    private final List<Thread> threads = new ArrayList<>();
    private final List<ImageStream> streams = new ArrayList<>();
    private ImageServer server;
    private ScheduledExecutorService guarding;
    private volatile boolean noEnrolmentCa;

    public Deliveries(AgentConfig config, PrintStream out, Duration backoff, Clock clock) {
        this.config = config;
        this.out = out;
        this.installer = new Installer(config, out, backoff, clock, this);
        this.guard = new LicenseGuard(config, out, clock, installer);
        this.updates = new Updates(config, out, clock, installer, this);
        this.clock = clock;
    }

    /**
     * Marks an install or an update of {@code product} as running, so that an interrupt can stop it; one at a time
     * (a second waits).
     */
    void begin(String product) throws DeliveryException {
        synchronized (flight) {
            while (inFlight != null) {
                try {
                    flight.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new DeliveryException(DeliveryException.Kind.REFUSED, "the agent is stopping");
                }
            }
            inFlight = product;
            cancelled = null;
        }
    }

    /** Ends what {@link #begin} started. */
    void end() {
        synchronized (flight) {
            inFlight = null;
            cancelled = null;
            flight.notifyAll();
        }
    }

    /** Throws when the vendor interrupted the install or update running now; called between its steps and chunks. */
    void checkInterrupted() throws DeliveryException {
        String why;
        synchronized (flight) {
            why = cancelled;
        }
        if (why != null) {
            throw new DeliveryException(DeliveryException.Kind.REFUSED, "interrupted by the vendor: " + why);
        }
    }

    /** Stops the install or update of {@code product} that is running, if one is, and waits for it to end. */
    private boolean stopInFlight(String product, String why) {
        synchronized (flight) {
            if (inFlight == null || !inFlight.equals(product)) {
                return false;
            }
            cancelled = why;
            long deadline = System.nanoTime() + INTERRUPT_EVIDENCE_WAIT.toNanos();
            while (inFlight != null && System.nanoTime() < deadline) {
                try {
                    flight.wait(1_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            return true;
        }
    }

    /** Updates and rollbacks of installed VMs. */
    public Updates updates() {
        return updates;
    }

    /** Where installs, updates, rollbacks, interrupts and conformity checks are reported (the agent's events). */
    public void reportTo(Reporting reporting) {
        this.reporting = reporting;
    }

    Reporting reporting() {
        return reporting;
    }

    /** Shows deliveries an agent event: an incident of a VM on probation after an update rolls it back. */
    public void observe(AgentEvent event) {
        updates.observe(event);
    }

    public Installer installer() {
        return installer;
    }

    /** The licenses of installed products, enforced. */
    public LicenseGuard guard() {
        return guard;
    }

    /** The loopback image server, started on first use. */
    synchronized ImageServer server() throws DeliveryException {
        if (server == null) {
            server = ImageServer.start(config.delivery().imagePort());
        }
        return server;
    }

    /** Runs a background pull on its own thread. */
    synchronized void start(ImageStream stream) {
        Thread thread = new Thread(stream, "vigil-image-pull-" + stream.job().vmUuid());
        thread.setDaemon(true);
        streams.add(stream);
        threads.add(thread);
        thread.start();
    }

    /** Picks up the images earlier processes left arriving and the updates they left on probation; returns how many. */
    public int resume() {
        try {
            return installer.resumeStreams() + updates.resumeWatches();
        } catch (DeliveryException e) {
            LOG.log(System.Logger.Level.ERROR, "cannot resume the images still arriving: " + e.getMessage());
            out.println("cannot resume the images still arriving: " + e.getMessage());
            return 0;
        }
    }

    /**
     * Enforces the licenses of installed products every {@code period} on a thread of its own (a renewal may wait on
     * the network), and once at once.
     */
    public synchronized void guardLicenses(Duration period) {
        if (guarding != null) {
            return;
        }
        guarding = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "vigil-license-guard");
            thread.setDaemon(true);
            return thread;
        });
        guarding.scheduleWithFixedDelay(this::enforceLicenses, 0, period.toMillis(), TimeUnit.MILLISECONDS);
        guarding.scheduleWithFixedDelay(this::renewKafkaCertificate, 0, period.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Asks dispatch for this host's next Kafka certificate when it holds none or half of the one it holds has passed
     * (with the lease renewals: a revoked host gets no more). The publisher reconnects with the new one.
     */
    private void renewKafkaCertificate() {
        if (!config.usesEnrolmentCertificate() || noEnrolmentCa) {
            return;
        }
        KafkaCertificate.Validity kept = KafkaCertificate.kept(config);
        if (kept != null && !kept.due(clock.instant())) {
            return;
        }
        try {
            Enrolment enrolment = Enrolment.load(config.stateDir());
            KafkaCertificate.Validity issued =
                    KafkaCertificate.request(config, installer.dispatch().withHostToken(enrolment.hostToken()));
            if (issued == null) {
                noEnrolmentCa = true;
                LOG.log(
                        System.Logger.Level.WARNING,
                        "dispatch issues no Kafka certificates: give the agent one with"
                                + " VIGIL_AGENT_KAFKA_SSL_KEYSTORE_LOCATION");
                return;
            }
            LOG.log(
                    System.Logger.Level.INFO,
                    "this host has a new Kafka certificate from dispatch, valid until " + issued.notAfter());
        } catch (DeliveryException e) {
            if (e.kind() == DeliveryException.Kind.NOT_CONFIGURED) {
                return;
            }
            LOG.log(
                    System.Logger.Level.WARNING,
                    "cannot renew this host's Kafka certificate (" + e.getMessage() + "); "
                            + (kept == null
                                    ? "records stay in the spool until it has one"
                                    : "the one it holds is valid until " + kept.notAfter()));
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot renew this host's Kafka certificate: " + e);
        }
    }

    /**
     * Compares every installed VM's image with its manifest every {@code period} (the first time one period from
     * now, so that a start is not slowed by hashing), on the thread that guards licenses.
     */
    public synchronized void checkConformityEvery(Duration period) {
        if (period.isZero() || guarding == null) {
            return;
        }
        guarding.scheduleWithFixedDelay(
                () -> {
                    try {
                        checkConformity(null);
                    } catch (DeliveryException | RuntimeException e) {
                        LOG.log(System.Logger.Level.WARNING, "the conformity check did not finish: " + e.getMessage());
                    }
                },
                period.toMillis(),
                period.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    private void enforceLicenses() {
        try {
            if (installer.installations().isEmpty()) {
                return;
            }
            Connect hypervisor = new Connect(config.hypervisorUri());
            try {
                guard.enforce(hypervisor, Instant.now());
            } finally {
                hypervisor.close();
            }
        } catch (DeliveryException | LibvirtException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "the license check did not finish: " + e.getMessage());
        }
    }

    /**
     * Stops a VM the vendor delivered, at once, for the vendor's remote helper: the VM is paused, its pull and its
     * probation end, its state is taken as an incident (as the collection policy says) and it is stopped, and it stays
     * off until someone starts it again.
     *
     * @param vmUuid the VM, or null for the installation of {@code product} (null: the enrolled product)
     */
    public String interrupt(Connect hypervisor, String vmUuid, String product, String why) throws DeliveryException {
        String reason = why == null || why.isBlank() ? "the vendor interrupted it" : why;
        String enrolled = Enrolment.load(config.stateDir()).product();
        Properties record = vmUuid != null ? installer.recordOfVm(vmUuid) : null;
        String target = record != null ? record.getProperty("product") : product != null ? product : enrolled;
        // An install or update of the product stops first: between two chunks, or before it touches the VM.
        boolean stopped = stopInFlight(target, reason);
        if (record == null) {
            record = vmUuid != null ? installer.recordOfVm(vmUuid) : installer.recordOf(target);
        }
        if (record == null && stopped) {
            String done = "stopped the installation of " + target + " before its VM started: " + reason;
            out.println(done);
            return done;
        }
        if (record == null) {
            throw new DeliveryException(
                    DeliveryException.Kind.REFUSED,
                    (vmUuid != null ? "VM " + vmUuid : product) + " was not installed from the vendor's releases on"
                            + " this host: the vendor cannot interrupt it");
        }
        String uuid = record.getProperty("vmUuid");
        String name = record.getProperty("vmName");
        long started = System.nanoTime();
        try {
            Domain vm = hypervisor.domainLookupByUUIDString(uuid);
            if (vm.isActive() == 1 && vm.getInfo().state == DomainInfo.DomainState.VIR_DOMAIN_RUNNING) {
                vm.suspend();
            }
            long held = (System.nanoTime() - started) / 1_000_000;
            stopPull(uuid);
            updates.forget(uuid);
            String incident = reporting.report(
                    uuid,
                    name,
                    Delivery.newBuilder()
                            .setStep(DeliveryStep.INTERRUPTED)
                            .setProduct(record.getProperty("product"))
                            .setRelease(record.getProperty("release"))
                            .setDetail(reason)
                            .build());
            // The incident's capture runs on the event; the VM stays paused until it has its state.
            reporting.settle(INTERRUPT_EVIDENCE_WAIT);
            if (vm.isActive() == 1) {
                vm.destroy();
            }
            vm.setAutostart(false);
            record.setProperty("interruptedAt", clock.instant().toString());
            record.setProperty("interruptedBecause", reason);
            installer.store(record);
            String done = "interrupted VM " + name + " (" + record.getProperty("product") + " "
                    + record.getProperty("release") + "): paused in " + held + " ms"
                    + (incident == null ? "" : ", its state taken as incident " + incident)
                    + ", stopped; it stays off until it is started again";
            out.println(done);
            return done;
        } catch (LibvirtException e) {
            throw new DeliveryException(
                    DeliveryException.Kind.HYPERVISOR, "cannot interrupt VM " + name + ": " + e.getMessage(), e);
        }
    }

    /**
     * Compares the image chain of each installed VM (of {@code vmUuid} only, when given) with its release's signed
     * manifest, reports each finding as an event, and returns them.
     */
    public List<Conformity> checkConformity(String vmUuid) throws DeliveryException {
        List<Conformity> found = new ArrayList<>();
        TrustedMetadata trusted = null;
        for (Properties p : installer.allRecords()) {
            if (vmUuid != null && !vmUuid.equals(p.getProperty("vmUuid"))) {
                continue;
            }
            if (trusted == null) {
                trusted = new TrustStore(config.stateDir(), clock).load();
            }
            Path master = Path.of(p.getProperty("master"));
            Path manifestFile = master.resolveSibling("manifest.bin");
            ImageManifest manifest;
            try {
                manifest = trusted.verifyManifest(
                        p.getProperty("product"), p.getProperty("release"), Files.readAllBytes(manifestFile));
            } catch (MetadataException e) {
                throw TrustStore.untrusted(e);
            } catch (IOException e) {
                throw new DeliveryException(
                        DeliveryException.Kind.IO,
                        "cannot read the manifest " + manifestFile + ": " + e.getMessage(),
                        e);
            }
            Conformity conformity;
            try {
                conformity = p.getProperty("arriving") != null
                        ? ConformityCheck.arriving(manifest)
                        : ConformityCheck.check(manifest, master, Path.of(p.getProperty("disk")));
            } catch (IOException e) {
                throw new DeliveryException(
                        DeliveryException.Kind.IO,
                        "cannot compare " + master + " with its manifest: " + e.getMessage(),
                        e);
            }
            reporting.report(p.getProperty("vmUuid"), p.getProperty("vmName"), conformity);
            out.println("conformity of VM " + p.getProperty("vmName") + ": " + conformity.getVerdict() + ": "
                    + conformity.getDetail());
            found.add(conformity);
        }
        if (vmUuid != null && found.isEmpty()) {
            throw new DeliveryException(
                    DeliveryException.Kind.REFUSED, "VM " + vmUuid + " was not installed from the vendor's releases");
        }
        return found;
    }

    /** Stops the background pull under VM {@code vmUuid}, if one runs; a later start resumes it. */
    synchronized void stopPull(String vmUuid) {
        for (ImageStream stream : streams) {
            if (stream.job().vmUuid().equals(vmUuid)) {
                stream.stop();
            }
        }
    }

    /** Waits for every background pull to end; returns the failures, if any. */
    public List<String> await() throws InterruptedException {
        List<Thread> running;
        synchronized (this) {
            running = List.copyOf(threads);
        }
        for (Thread thread : running) {
            thread.join();
        }
        synchronized (this) {
            return streams.stream()
                    .filter(s -> s.failure() != null)
                    .map(ImageStream::failure)
                    .toList();
        }
    }

    /** Bytes this process fetched from the vendor for images arriving under running VMs. */
    public synchronized long fetchedBytes() {
        return streams.stream().mapToLong(s -> s.store().fetched()).sum();
    }

    /**
     * True while the image of VM {@code vmUuid} is arriving: a disk error of that VM is a read waiting for a chunk
     * (the VM pauses and resumes when the chunk is here), not an incident.
     */
    public synchronized boolean arriving(String vmUuid) {
        for (int i = 0; i < streams.size(); i++) {
            if (streams.get(i).job().vmUuid().equals(vmUuid) && threads.get(i).isAlive()) {
                return true;
            }
        }
        return false;
    }

    /** True while an image is still arriving. */
    public synchronized boolean pulling() {
        return threads.stream().anyMatch(Thread::isAlive);
    }

    @Override
    public void close() throws InterruptedException {
        List<Thread> running;
        updates.close();
        synchronized (this) {
            if (guarding != null) {
                guarding.shutdownNow();
            }
            streams.forEach(ImageStream::stop);
            running = List.copyOf(threads);
        }
        for (Thread thread : running) {
            thread.join(10_000);
        }
        synchronized (this) {
            if (server != null) {
                server.close();
            }
        }
    }
}
