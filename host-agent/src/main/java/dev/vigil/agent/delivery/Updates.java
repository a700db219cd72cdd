package dev.vigil.agent.delivery;

import dev.vigil.agent.capture.ArtifactStage;
import dev.vigil.agent.capture.QemuImg;
import dev.vigil.agent.capture.TriggerKind;
import dev.vigil.agent.config.AgentConfig;
import dev.vigil.agent.hypervisor.VigilConnect;
import dev.vigil.schemas.agent.AgentEvent;
import dev.vigil.schemas.agent.Delivery;
import dev.vigil.schemas.agent.DeliveryStep;
import dev.vigil.schemas.delivery.DomainDefinition;
import dev.vigil.schemas.delivery.ImageFormat;
import dev.vigil.schemas.delivery.ImageManifest;
import dev.vigil.schemas.delivery.License;
import dev.vigil.schemas.delivery.MetadataException;
import dev.vigil.schemas.delivery.ReleaseTarget;
import dev.vigil.schemas.delivery.TrustedMetadata;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.LibvirtException;

/**
 * Moves an installed VM to another release and takes it back when the new one fails.
 *
 * <p>An update downloads and verifies the new master while the VM runs on the old one, then stops the VM and keeps
 * a rollback point: the old definition and the old disk, untouched. The VM comes back on the new master with a copy
 * of the user's overlay rebased onto it (or a fresh overlay when the vendor asks), under the same UUID. For the
 * configured window the agent watches it: a crash, a hang, a watchdog, a pause on a disk error or a failure to run
 * rolls it back to the rollback point on its own, after the crash's evidence is taken; a VM that stays healthy has
 * its update confirmed. The vendor can still roll a confirmed update back until the next one.
 */
public final class Updates {

    private static final System.Logger LOG = System.getLogger(Updates.class.getName());
    /** How often an updated VM's state is looked at while it is watched (events wake the watch sooner). */
    static final Duration CHECK_EVERY = Duration.ofSeconds(2);
    /** How long a rollback waits for the evidence of the crash that caused it. */
    private static final Duration EVIDENCE_WAIT = Duration.ofMinutes(5);
    /** How long a failure seen by looking waits for the hypervisor's event about it (usually milliseconds). */
    private static final Duration INCIDENT_WAIT = Duration.ofSeconds(10);

    private static final int XML_INACTIVE = 2;
    // virDomainState and the reasons within a state that mean the guest failed.
    private static final int STATE_PAUSED = 3;
    private static final int STATE_SHUTOFF = 5;
    private static final int STATE_CRASHED = 6;
    private static final int SHUTOFF_CRASHED = 3;
    private static final int SHUTOFF_FAILED = 6;
    private static final int PAUSED_IOERROR = 5;
    private static final int PAUSED_WATCHDOG = 6;
    private static final int PAUSED_CRASHED = 10;

    private final AgentConfig config;
    private final PrintStream out;
    private final Clock clock;
    private final Installer installer;
    private final Deliveries deliveries;
    private final Map<String, Watch> watches = new ConcurrentHashMap<>();

    Updates(AgentConfig config, PrintStream out, Clock clock, Installer installer, Deliveries deliveries) {
        this.config = config;
        this.out = out;
        this.clock = clock;
        this.installer = installer;
        this.deliveries = deliveries;
    }

    /**
     * Updates the installed VM of {@code product} to {@code release} and starts watching it.
     *
     * @param freshOverlay start the new release on an empty overlay (the user's changes stay in the rollback point)
     *     instead of carrying them over
     */
    public String update(Connect hypervisor, String product, String release, boolean freshOverlay)
            throws DeliveryException {
        if (release == null || release.isBlank()) {
            throw new DeliveryException(DeliveryException.Kind.REFUSED, "UPDATE needs the release (argument release)");
        }
        Enrolment enrolment = Enrolment.load(config.stateDir());
        deliveries.begin(enrolment.product());
        try {
            return update(hypervisor, enrolment, product, release, freshOverlay);
        } finally {
            deliveries.end();
        }
    }

    private String update(Connect hypervisor, Enrolment enrolment, String product, String release, boolean freshOverlay)
            throws DeliveryException {
        Properties current = installed(enrolment, product);
        String vmUuid = current.getProperty("vmUuid");
        String vmName = current.getProperty("vmName");
        String from = current.getProperty("release");
        if (release.equals(from)) {
            return enrolment.product() + " " + release + " is already running as VM " + vmName;
        }
        if (current.getProperty("arriving") != null) {
            throw new DeliveryException(
                    DeliveryException.Kind.REFUSED,
                    "the image of " + enrolment.product() + " " + from + " is still arriving under VM " + vmName
                            + "; the update can come once it is here");
        }
        Watch watched = watches.get(vmUuid);
        if (watched != null) {
            throw new DeliveryException(
                    DeliveryException.Kind.REFUSED,
                    "VM " + vmName + " is still on probation after its update to " + from + " (until " + watched.until
                            + "); a second update waits for it");
        }
        DispatchConnection dispatch = installer.dispatch().withHostToken(enrolment.hostToken());
        TrustStore trust = new TrustStore(config.stateDir(), clock);
        TrustedMetadata trusted = trust.refresh(trust.load(), dispatch, enrolment.product());
        ReleaseTarget target;
        try {
            target = trusted.release(enrolment.product(), release);
        } catch (MetadataException e) {
            throw new DeliveryException(
                    DeliveryException.Kind.REFUSED,
                    enrolment.product() + " has no published release " + release + " (" + e.getMessage() + ")");
        }
        License license = deliveries.guard().admit(trusted, enrolment.product());
        byte[] manifestBytes = TrustStore.ok(dispatch.get(target.getManifest().getPath()), "the image manifest");
        ImageManifest manifest;
        DomainDefinition domain;
        try {
            manifest = trusted.verifyManifest(enrolment.product(), release, manifestBytes);
        } catch (MetadataException e) {
            throw TrustStore.untrusted(e);
        }
        Path images = installer.imageDir(enrolment.product(), release);
        Path master = images.resolve("master." + target.getFormat().name().toLowerCase(Locale.ROOT));
        try {
            Files.createDirectories(images);
            TrustStore.write(images.resolve("manifest.bin"), manifestBytes);
        } catch (IOException e) {
            throw io("cannot keep the manifest of " + release + " in " + images, e);
        }
        // The VM goes on running the old release while the new one arrives.
        new ImageDownload(dispatch, out, deliveries::checkInterrupted)
                .fetch(
                        manifest,
                        master,
                        done -> deliveries
                                .reporting()
                                .report(
                                        vmUuid,
                                        vmName,
                                        Installer.step(
                                                DeliveryStep.DOWNLOADING,
                                                enrolment.product(),
                                                release,
                                                done,
                                                manifest.getSize())));
        try {
            domain = trusted.verifyDomain(
                    TrustStore.ok(
                            dispatch.postJson(
                                    "/api/v1/agent/domains",
                                    Map.of("release", release, "vmUuid", vmUuid, "vmName", vmName)),
                            "the VM's definition"),
                    config.hostId());
        } catch (MetadataException e) {
            throw TrustStore.untrusted(e);
        }
        if (!vmUuid.equals(domain.getVmUuid())) {
            throw new DeliveryException(
                    DeliveryException.Kind.REFUSED,
                    "dispatch defined " + release + " as another VM (" + domain.getVmUuid() + ") than the one it"
                            + " updates (" + vmUuid + "); tell the vendor");
        }
        DomainPolicy.check(domain.getDomainXml());
        Path vmDir = config.stateDir().resolve("vms").resolve(vmUuid);
        Path oldDisk = Path.of(current.getProperty("disk"));
        Path newDisk = vmDir.resolve("disk-" + fileSafe(release) + ".qcow2");
        String xml = DomainPolicy.place(
                domain.getDomainXml(),
                newDisk,
                vmDir.resolve("console.log"),
                Map.of(Installer.LICENSE_ENTRY, Installer.firstBoot(license)));

        // The last moment the vendor's interrupt stops the update without touching the VM.
        deliveries.checkInterrupted();
        Domain vm = lookup(hypervisor, vmUuid, vmName);
        Path point = rollbackPoint(vmUuid);
        try {
            String oldXml = vm.getXMLDesc(XML_INACTIVE);
            stop(vm, config.delivery().shutdownTimeout());
            ArtifactStage.deleteTree(point);
            Files.createDirectories(point);
            TrustStore.write(point.resolve("domain.xml"), oldXml.getBytes(StandardCharsets.UTF_8));
            TrustStore.write(point.resolve("installation.properties"), text(current));
            Files.deleteIfExists(newDisk);
            if (freshOverlay) {
                Installer.overlay(newDisk, master.toString(), target.getFormat(), target.getVirtualSize());
            } else {
                // The user's changes go with the VM: a copy of its overlay, now over the new master.
                Files.copy(oldDisk, newDisk, StandardCopyOption.COPY_ATTRIBUTES);
                QemuImg.run(
                        "rebase",
                        "-u",
                        "-f",
                        "qcow2",
                        "-F",
                        backingFormat(target.getFormat()),
                        "-b",
                        master.toString(),
                        newDisk.toString());
                if (target.getVirtualSize() > virtualSize(current)) {
                    QemuImg.run("resize", "-f", "qcow2", newDisk.toString(), Long.toString(target.getVirtualSize()));
                }
            }
        } catch (LibvirtException e) {
            throw hypervisor("cannot stop VM " + vmName + " for its update", e);
        } catch (IOException e) {
            startQuietly(vm);
            throw io("cannot make the disk of " + release + " for VM " + vmName, e);
        }
        try {
            hypervisor.domainDefineXML(xml).create();
        } catch (LibvirtException e) {
            String why = "the hypervisor refused " + enrolment.product() + " " + release + ": " + e.getMessage();
            restore(hypervisor, vmUuid, why, false);
            throw new DeliveryException(
                    DeliveryException.Kind.HYPERVISOR, why + "; VM " + vmName + " is back on " + from, e);
        }
        Instant until = clock.instant().plus(config.delivery().updateWindow());
        Properties updated = (Properties) current.clone();
        updated.setProperty("release", release);
        updated.setProperty("disk", newDisk.toString());
        updated.setProperty("master", master.toString());
        updated.setProperty("format", target.getFormat().name());
        updated.setProperty("virtualSize", Long.toString(target.getVirtualSize()));
        updated.setProperty("updatedFrom", from);
        updated.setProperty("updatedAt", clock.instant().toString());
        updated.setProperty("probationUntil", until.toString());
        installer.store(updated);
        report(vmUuid, vmName, DeliveryStep.UPDATED, enrolment.product(), release, from, null);
        watch(vmUuid, vmName, until);
        String done = "updated " + enrolment.product() + " from " + from + " to " + release + " on VM " + vmName
                + "; it rolls back by itself if it fails before " + until;
        out.println(done);
        return done;
    }

    /**
     * Takes {@code product}'s VM back to {@code release}, the release its rollback point holds, at the vendor's
     * request ({@code from}: the release it is expected to run now, or null).
     */
    public String rollBack(Connect hypervisor, String product, String release, String from, String why)
            throws DeliveryException {
        Enrolment enrolment = Enrolment.load(config.stateDir());
        Properties current = installed(enrolment, product);
        String vmUuid = current.getProperty("vmUuid");
        String vmName = current.getProperty("vmName");
        String running = current.getProperty("release");
        if (release != null && release.equals(running)) {
            return enrolment.product() + " " + release + " is already running as VM " + vmName;
        }
        if (from != null && !from.equals(running)) {
            throw new DeliveryException(
                    DeliveryException.Kind.REFUSED,
                    "VM " + vmName + " runs " + enrolment.product() + " " + running + ", not " + from);
        }
        Properties previous = previous(vmUuid);
        if (previous == null) {
            throw new DeliveryException(
                    DeliveryException.Kind.REFUSED,
                    "VM " + vmName + " has no release to go back to: it was never updated here");
        }
        if (release != null && !release.equals(previous.getProperty("release"))) {
            throw new DeliveryException(
                    DeliveryException.Kind.REFUSED,
                    "VM " + vmName + " can go back to " + previous.getProperty("release") + " only, not " + release);
        }
        Watch watched = watches.remove(vmUuid);
        if (watched != null) {
            watched.cancel();
        }
        return restore(hypervisor, vmUuid, why, true);
    }

    /** Watches again the updates an earlier process left on probation; returns how many. */
    int resumeWatches() throws DeliveryException {
        int resumed = 0;
        for (Properties p : installer.allRecords()) {
            String until = p.getProperty("probationUntil");
            if (until != null && !watches.containsKey(p.getProperty("vmUuid"))) {
                watch(p.getProperty("vmUuid"), p.getProperty("vmName"), Instant.parse(until));
                resumed++;
            }
        }
        return resumed;
    }

    /** An incident of a VM on probation fails its update at once, without waiting for the next look. */
    void observe(AgentEvent event) {
        if (event.getVm() == null) {
            return;
        }
        Watch watch = watches.get(event.getVm().getUuid());
        if (watch == null) {
            return;
        }
        TriggerKind.of(event)
                .filter(kind -> kind != TriggerKind.INTERRUPT)
                .ifPresent(kind -> watch.fail("a " + kind.configName() + " incident ("
                        + event.getPayload().getClass().getSimpleName() + " "
                        + event.getEnvelope().getEventId() + ")"));
    }

    /** Stops watching VM {@code vmUuid} (an interrupt stops it for good). */
    void forget(String vmUuid) {
        Watch watch = watches.remove(vmUuid);
        if (watch != null) {
            watch.cancel();
        }
    }

    void close() {
        watches.values().forEach(Watch::cancel);
    }

    /**
     * Puts the VM back on its rollback point and deletes the disk it leaves.
     *
     * @param clean whether the VM is asked to shut down first (a vendor's rollback of a healthy VM), or stopped hard
     */
    private String restore(Connect hypervisor, String vmUuid, String why, boolean clean) throws DeliveryException {
        Properties current = installer.recordOfVm(vmUuid);
        Properties previous = previous(vmUuid);
        if (current == null || previous == null) {
            throw new DeliveryException(
                    DeliveryException.Kind.REFUSED, "VM " + vmUuid + " has no rollback point to return to");
        }
        String vmName = current.getProperty("vmName");
        Path point = rollbackPoint(vmUuid);
        try {
            String xml = Files.readString(point.resolve("domain.xml"));
            Domain vm = lookup(hypervisor, vmUuid, vmName);
            if (clean) {
                stop(vm, config.delivery().shutdownTimeout());
            } else if (vm.isActive() == 1) {
                vm.destroy();
            }
            hypervisor.domainDefineXML(xml).create();
            installer.store(previous);
            Path left = Path.of(current.getProperty("disk"));
            if (!left.equals(Path.of(previous.getProperty("disk")))) {
                Files.deleteIfExists(left);
            }
            ArtifactStage.deleteTree(point);
        } catch (IOException e) {
            throw io("cannot return VM " + vmName + " to its rollback point " + point, e);
        } catch (LibvirtException e) {
            throw hypervisor("cannot return VM " + vmName + " to " + previous.getProperty("release"), e);
        }
        report(
                vmUuid,
                vmName,
                DeliveryStep.ROLLED_BACK,
                current.getProperty("product"),
                previous.getProperty("release"),
                current.getProperty("release"),
                why);
        String done = "rolled VM " + vmName + " back from " + current.getProperty("product") + " "
                + current.getProperty("release") + " to " + previous.getProperty("release") + ": " + why;
        out.println(done);
        return done;
    }

    private void watch(String vmUuid, String vmName, Instant until) {
        Watch watch = new Watch(vmUuid, vmName, until);
        watches.put(vmUuid, watch);
        Thread thread = new Thread(watch, "vigil-update-watch-" + vmUuid);
        thread.setDaemon(true);
        thread.start();
    }

    /** The probation of one updated VM. */
    private final class Watch implements Runnable {

        final String vmUuid;
        final String vmName;
        final Instant until;
        private final ReentrantLock lock = new ReentrantLock();
        private final Condition changed = lock.newCondition();
        private String failure;
        private boolean cancelled;

        Watch(String vmUuid, String vmName, Instant until) {
            this.vmUuid = vmUuid;
            this.vmName = vmName;
            this.until = until;
        }

        void fail(String why) {
            lock.lock();
            try {
                if (failure == null) {
                    failure = why;
                }
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }

        void cancel() {
            lock.lock();
            try {
                cancelled = true;
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void run() {
            try {
                while (true) {
                    String why = next();
                    if (why == null && cancelled()) {
                        return;
                    }
                    if (why == null) {
                        why = health(vmUuid);
                        if (why != null) {
                            // The hypervisor's state changed before its event reached the agent: wait for the event,
                            // so that its capture is queued before the rollback changes the VM (a console read
                            // after the rollback would be the next boot's).
                            awaitIncident(INCIDENT_WAIT);
                        }
                    }
                    if (why != null) {
                        watches.remove(vmUuid, this);
                        rollBackAfter(why);
                        return;
                    }
                    if (!clock.instant().isBefore(until)) {
                        watches.remove(vmUuid, this);
                        confirm();
                        return;
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (DeliveryException | RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "the update of VM " + vmName + " could not be settled: " + e);
                out.println("the update of VM " + vmName + " could not be settled: " + e.getMessage());
            } finally {
                watches.remove(vmUuid, this);
            }
        }

        /** Waits for the next look: the failure an event brought, or null when it is time to look. */
        private String next() throws InterruptedException {
            lock.lock();
            try {
                long wait = Math.min(
                        CHECK_EVERY.toMillis(),
                        Math.max(0, Duration.between(clock.instant(), until).toMillis()));
                if (failure == null && !cancelled && wait > 0) {
                    changed.await(wait, TimeUnit.MILLISECONDS);
                }
                return failure;
            } finally {
                lock.unlock();
            }
        }

        /** Waits until an incident of the VM has been observed, or {@code atMost}. */
        private void awaitIncident(Duration atMost) throws InterruptedException {
            lock.lock();
            try {
                long left = atMost.toNanos();
                while (failure == null && !cancelled && left > 0) {
                    left = changed.awaitNanos(left);
                }
            } finally {
                lock.unlock();
            }
        }

        private boolean cancelled() {
            lock.lock();
            try {
                return cancelled;
            } finally {
                lock.unlock();
            }
        }

        private void rollBackAfter(String why) throws DeliveryException {
            out.println("VM " + vmName + " failed on probation after its update: " + why + "; rolling back");
            // The crash's evidence is the vendor's reason to fix the release: it is taken before the disk changes.
            deliveries.reporting().settle(EVIDENCE_WAIT);
            Connect hypervisor = connect();
            try {
                restore(hypervisor, vmUuid, "the updated VM failed within its probation: " + why, false);
            } finally {
                closeQuietly(hypervisor);
            }
        }

        private void confirm() throws DeliveryException {
            Properties p = installer.recordOfVm(vmUuid);
            if (p == null) {
                return;
            }
            p.remove("probationUntil");
            installer.store(p);
            report(
                    vmUuid,
                    vmName,
                    DeliveryStep.UPDATE_CONFIRMED,
                    p.getProperty("product"),
                    p.getProperty("release"),
                    p.getProperty("updatedFrom"),
                    "healthy through its probation until " + until);
            out.println("the update of VM " + vmName + " to " + p.getProperty("release") + " is confirmed: healthy"
                    + " until " + until);
        }
    }

    /** Why the VM is failing, or null while it looks healthy (or cannot be looked at just now). */
    private String health(String vmUuid) {
        VigilConnect hypervisor = null;
        try {
            hypervisor = new VigilConnect(config.hypervisorUri());
            int[] state = hypervisor.state(vmUuid);
            if (state == null) {
                return "the VM is gone";
            }
            int reason = state[1];
            return switch (state[0]) {
                case STATE_CRASHED -> "the guest crashed";
                case STATE_SHUTOFF ->
                    reason == SHUTOFF_CRASHED
                            ? "the guest crashed and stopped"
                            : reason == SHUTOFF_FAILED ? "the VM failed to run" : null;
                case STATE_PAUSED -> {
                    if (reason == PAUSED_CRASHED) {
                        yield "the guest panicked";
                    }
                    if (reason == PAUSED_WATCHDOG) {
                        yield "its watchdog fired";
                    }
                    yield reason == PAUSED_IOERROR && !deliveries.arriving(vmUuid) ? "a disk error paused it" : null;
                }
                default -> null;
            };
        } catch (LibvirtException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot look at VM " + vmUuid + ": " + e.getMessage());
            return null;
        } finally {
            closeQuietly(hypervisor);
        }
    }

    private Connect connect() throws DeliveryException {
        try {
            return new Connect(config.hypervisorUri());
        } catch (LibvirtException e) {
            throw hypervisor("cannot reach the hypervisor at " + config.hypervisorUri(), e);
        }
    }

    private Properties installed(Enrolment enrolment, String product) throws DeliveryException {
        if (product != null && !product.equals(enrolment.product())) {
            throw new DeliveryException(
                    DeliveryException.Kind.REFUSED,
                    "this host is enrolled in " + enrolment.product() + ", not " + product);
        }
        Properties current = installer.recordOf(enrolment.product());
        if (current == null) {
            throw new DeliveryException(
                    DeliveryException.Kind.REFUSED,
                    enrolment.product() + " is not installed on this host: it is installed first (INSTALL)");
        }
        return current;
    }

    /** The installation the rollback point of VM {@code vmUuid} holds, or null. */
    private Properties previous(String vmUuid) throws DeliveryException {
        Path file = rollbackPoint(vmUuid).resolve("installation.properties");
        if (!Files.exists(file)) {
            return null;
        }
        Properties p = new Properties();
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(in);
        } catch (IOException e) {
            throw io("cannot read the rollback point " + file, e);
        }
        return p;
    }

    private Path rollbackPoint(String vmUuid) {
        return config.stateDir().resolve("vms").resolve(vmUuid).resolve("rollback");
    }

    private void report(
            String vmUuid,
            String vmName,
            DeliveryStep step,
            String product,
            String release,
            String previousRelease,
            String detail) {
        deliveries
                .reporting()
                .report(
                        vmUuid,
                        vmName,
                        Delivery.newBuilder()
                                .setStep(step)
                                .setProduct(product)
                                .setRelease(release)
                                .setPreviousRelease(previousRelease)
                                .setDetail(detail)
                                .build());
    }

    /** Asks the VM to shut down and stops it hard when it has not within {@code timeout}. */
    static void stop(Domain vm, Duration timeout) throws LibvirtException {
        if (vm.isActive() != 1) {
            return;
        }
        try {
            vm.shutdown();
        } catch (LibvirtException e) {
            // A paused or crashed guest cannot shut down: it is stopped hard below.
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (vm.isActive() == 1 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (vm.isActive() == 1) {
            vm.destroy();
        }
    }

    private static Domain lookup(Connect hypervisor, String vmUuid, String vmName) throws DeliveryException {
        try {
            return hypervisor.domainLookupByUUIDString(vmUuid);
        } catch (LibvirtException e) {
            throw hypervisor("VM " + vmName + " (" + vmUuid + ") is not defined on this host", e);
        }
    }

    private static void startQuietly(Domain vm) {
        try {
            if (vm.isActive() != 1) {
                vm.create();
            }
        } catch (LibvirtException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot start the VM again: " + e.getMessage());
        }
    }

    private static long virtualSize(Properties p) {
        return Long.parseLong(p.getProperty("virtualSize", "0"));
    }

    private static String backingFormat(ImageFormat format) {
        return format == ImageFormat.QCOW2 ? "qcow2" : "raw";
    }

    /** A release as part of a file name: letters, digits, dot, dash and underscore. */
    static String fileSafe(String release) {
        return release.replaceAll("[^A-Za-z0-9._-]", "_");
    }

    private static byte[] text(Properties p) throws IOException {
        StringWriter text = new StringWriter();
        p.store(text, "The installation a rollback returns to");
        return text.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void closeQuietly(Connect hypervisor) {
        if (hypervisor != null) {
            try {
                hypervisor.close();
            } catch (LibvirtException e) {
                // closing a connection that is gone
            }
        }
    }

    private static DeliveryException io(String what, IOException e) {
        return new DeliveryException(DeliveryException.Kind.IO, what + ": " + e.getMessage(), e);
    }

    private static DeliveryException hypervisor(String what, LibvirtException e) {
        return new DeliveryException(DeliveryException.Kind.HYPERVISOR, what + ": " + e.getMessage(), e);
    }
}
