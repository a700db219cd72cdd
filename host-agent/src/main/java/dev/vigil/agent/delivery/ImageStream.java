package dev.vigil.agent.delivery;

import dev.vigil.agent.capture.QemuImg;
import dev.vigil.agent.config.DeliverySettings;
import dev.vigil.agent.hypervisor.VigilConnect;
import dev.vigil.schemas.delivery.ImageFormat;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.LibvirtException;
import org.libvirt.TypedParameter;
import org.libvirt.TypedUlongParameter;

/**
 * Finishes the image of a VM that started from a partly downloaded one. While the VM runs, the chunks it has not
 * read are pulled in the background (after a delay that lets its boot reads go first, giving way to reads it waits
 * for, within an optional rate); when every chunk is there and the whole image matches its signed hash, the VM's
 * disk is moved under the running guest onto the local master with libvirt's shallow block copy (only the user's
 * own writes are copied; the pivot is atomic), and the image is no longer served. A network outage makes the pull
 * wait and retry; a VM that paused on a read that failed meanwhile is resumed once data flows again.
 */
final class ImageStream implements Runnable {

    private static final System.Logger LOG = System.getLogger(ImageStream.class.getName());
    private static final Duration MAX_BACKOFF = Duration.ofMinutes(1);

    /** What the stream was started for; {@code disk} is the overlay whose backing is the served image. */
    record Job(
            String product,
            String release,
            String vmUuid,
            String name,
            Path disk,
            Path master,
            ImageFormat format,
            long virtualSize) {}

    private final Job job;
    private final LongConsumer tenths;
    private final ChunkStore store;
    private final ImageServer server;
    private final String hypervisorUri;
    private final DeliverySettings settings;
    private final PrintStream out;
    private final Consumer<Path> switched;
    private volatile boolean stopped;
    private volatile Path result;
    private volatile String failure;

    /** @param switched told the VM's new disk once the VM no longer reads through the server */
    ImageStream(
            Job job,
            ChunkStore store,
            ImageServer server,
            String hypervisorUri,
            DeliverySettings settings,
            PrintStream out,
            LongConsumer tenths,
            Consumer<Path> switched) {
        this.tenths = tenths;
        this.job = job;
        this.store = store;
        this.server = server;
        this.hypervisorUri = hypervisorUri;
        this.settings = settings;
        this.out = out;
        this.switched = switched;
    }

    Job job() {
        return job;
    }

    ChunkStore store() {
        return store;
    }

    /** The VM's disk on the local master, once switched; null before. */
    Path result() {
        return result;
    }

    /** Why the stream stopped without finishing, or null. */
    String failure() {
        return failure;
    }

    /** Stops pulling; the image stays served until {@link ImageServer#withdraw}, and a later run resumes. */
    void stop() {
        stopped = true;
    }

    @Override
    public void run() {
        try {
            // A VM left paused on a read while no process served its image goes on now that one does.
            resumeIfPausedOnIoError();
            pause(settings.pullDelay());
            pull();
            if (stopped) {
                return;
            }
            store.finish();
            Path disk = switchToLocal();
            server.withdraw(job.name());
            result = disk;
            switched.accept(disk);
            out.println(job.product() + " " + job.release() + ": the whole image is here and verified; VM "
                    + job.vmUuid() + " now runs from " + disk);
        } catch (DeliveryException e) {
            failure = e.getMessage();
            LOG.log(System.Logger.Level.ERROR, job.product() + " " + job.release() + ": " + e.getMessage());
            out.println(job.product() + " " + job.release() + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            failure = "the image's pull stopped: " + e;
            LOG.log(System.Logger.Level.ERROR, job.product() + " " + job.release() + ": " + failure, e);
            out.println(job.product() + " " + job.release() + ": " + failure);
        } finally {
            store.close();
        }
    }

    private void pull() throws InterruptedException {
        Progress progress = new Progress(
                out, "pulling the rest of " + job.product() + " " + job.release(), store.size(), store.have(), tenths);
        long started = System.nanoTime();
        long pulled = 0;
        Duration backoff = Duration.ofSeconds(1);
        for (int i = 0; i < store.chunkCount() && !stopped; ) {
            // A chunk a VM's read failed on comes first: the VM may be paused on it.
            int stalled = store.stalledChunk();
            int next = stalled >= 0 ? stalled : i;
            if (stalled < 0 && store.has(i)) {
                i++;
                continue;
            }
            if (store.demanded()) {
                // The VM is waiting for a read: it goes first.
                Thread.sleep(20);
                continue;
            }
            long before = store.have();
            try {
                store.ensure(next);
            } catch (DeliveryException e) {
                out.println(job.product() + " " + job.release() + ": " + e.getMessage() + "; trying again in "
                        + backoff.toSeconds() + " s");
                pause(backoff);
                backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
                continue;
            }
            backoff = Duration.ofSeconds(1);
            resumeIfStalledReadsReady();
            pulled += store.have() - before;
            progress.update(store.have());
            if (settings.pullRate() > 0) {
                long due = started + pulled * 1_000_000_000L / settings.pullRate();
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                }
            }
            if (next == i) {
                i++;
            }
        }
        progress.update(store.have());
        resumeIfStalledReadsReady();
    }

    /** A VM whose disk stops on errors pauses when a read fails; once data flows again it may go on. */
    private void resumeIfStalledReadsReady() {
        if (store.stalledReadsReady()) {
            resumeIfPausedOnIoError();
        }
    }

    /**
     * Resumes the VM if it is paused on a disk error: QEMU then retries the read, which the server can now answer.
     * A VM paused for another reason (by its user) stays paused.
     */
    void resumeIfPausedOnIoError() {
        try {
            VigilConnect hypervisor = new VigilConnect(hypervisorUri);
            try {
                if (hypervisor.pausedOnIoError(job.vmUuid())) {
                    hypervisor.domainLookupByUUIDString(job.vmUuid()).resume();
                    out.println(job.product() + " " + job.release() + ": the image can be read again; VM "
                            + job.vmUuid() + " resumed");
                }
            } finally {
                hypervisor.close();
            }
        } catch (LibvirtException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot resume VM " + job.vmUuid() + ": " + e.getMessage());
        }
    }

    /**
     * Moves the VM's disk onto an overlay of the local master: a shallow block copy of the running VM's own writes to
     * a new overlay whose backing is the master, then a pivot; a VM that is not running just has its overlay's
     * backing rewritten (the data is the same, so no copy is needed).
     */
    private Path switchToLocal() throws DeliveryException, InterruptedException {
        String format = job.format() == ImageFormat.QCOW2 ? "qcow2" : "raw";
        try {
            Connect hypervisor = new Connect(hypervisorUri);
            try {
                Domain vm = hypervisor.domainLookupByUUIDString(job.vmUuid());
                if (vm.isActive() == 0) {
                    rebase(format);
                    return job.disk();
                }
                Path local = job.disk().resolveSibling("disk-local.qcow2");
                Files.deleteIfExists(local);
                Installer.overlay(local, job.master().toString(), job.format(), job.virtualSize());
                String target = "<disk type='file'><driver type='qcow2'/><source file='" + local + "'/></disk>";
                vm.blockCopy(
                        job.disk().toString(),
                        target,
                        // Unbounded: only the guest's own writes are copied.
                        new TypedParameter[] {new TypedUlongParameter(Domain.BlockCopyParameters.BANDWIDTH, 0)},
                        Domain.BlockCopyFlags.SHALLOW
                                | Domain.BlockCopyFlags.REUSE_EXT
                                | Domain.BlockCopyFlags.TRANSIENT_JOB);
                pivotWhenReady(vm, job.disk().toString());
                Files.deleteIfExists(job.disk());
                return local;
            } finally {
                hypervisor.close();
            }
        } catch (LibvirtException e) {
            throw new DeliveryException(
                    DeliveryException.Kind.HYPERVISOR,
                    "the image is complete, but the VM's disk could not be moved onto it (" + e.getMessage()
                            + "); the VM keeps reading it through the agent, and the next start of the agent tries"
                            + " again",
                    e);
        } catch (IOException e) {
            throw new DeliveryException(
                    DeliveryException.Kind.IO, "cannot make the VM's disk on the local master: " + e.getMessage(), e);
        }
    }

    private void rebase(String format) throws IOException {
        QemuImg.run(
                "rebase",
                "-u",
                "-f",
                "qcow2",
                "-F",
                format,
                "-b",
                job.master().toString(),
                job.disk().toString());
    }

    /** Pivots once the copy has caught up with the guest's writes (libvirt refuses the pivot until then). */
    private static void pivotWhenReady(Domain vm, String disk) throws LibvirtException, InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(30).toNanos();
        while (true) {
            try {
                vm.blockJobAbort(disk, Domain.BlockJobAbortFlags.PIVOT);
                return;
            } catch (LibvirtException e) {
                if (System.nanoTime() > deadline
                        || !String.valueOf(e.getMessage()).contains("not ready")) {
                    throw e;
                }
            }
            Thread.sleep(100);
        }
    }

    private void pause(Duration wait) throws InterruptedException {
        long until = System.nanoTime() + wait.toNanos();
        while (!stopped && System.nanoTime() < until) {
            Thread.sleep(Math.min(200, Math.max(1, (until - System.nanoTime()) / 1_000_000)));
        }
    }
}
