package dev.vigil.agent.delivery;

import dev.vigil.agent.config.AgentConfig;
import java.io.PrintStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.libvirt.Connect;
import org.libvirt.LibvirtException;

/**
 * What one agent process does for deliveries: installs, and the images still arriving under running VMs (their
 * loopback {@link ImageServer}, started on first use, and one background pull each). The running agent resumes the
 * pulls an earlier process left unfinished; {@code vigil-agent enroll} and {@code install} wait for theirs.
 */
public final class Deliveries implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(Deliveries.class.getName());

    private final AgentConfig config;
    private final PrintStream out;
    private final Installer installer;
    private final LicenseGuard guard;
    private final List<Thread> threads = new ArrayList<>();
    private final List<ImageStream> streams = new ArrayList<>();
    private ImageServer server;
    private ScheduledExecutorService guarding;

    public Deliveries(AgentConfig config, PrintStream out, Duration backoff, Clock clock) {
        this.config = config;
        this.out = out;
        this.installer = new Installer(config, out, backoff, clock, this);
        this.guard = new LicenseGuard(config, out, clock, installer);
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

    /** Picks up the images earlier processes left arriving; returns how many. */
    public int resume() {
        try {
            return installer.resumeStreams();
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
