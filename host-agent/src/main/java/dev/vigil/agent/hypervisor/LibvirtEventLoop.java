package dev.vigil.agent.hypervisor;

import org.libvirt.Connect;
import org.libvirt.Library;
import org.libvirt.LibvirtException;
import org.libvirt.jna.Libvirt;

/**
 * Runs libvirt's default event loop on its own daemon thread; listeners registered on any connection opened after
 * {@link #start()} are called from that thread.
 */
public final class LibvirtEventLoop implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(LibvirtEventLoop.class.getName());
    // Held strongly: libvirt keeps only a native pointer. Errors also reach callers as LibvirtException, so
    // libvirt's own printing to stderr is replaced by a debug line.
    private static final Libvirt.VirErrorCallback ERRORS = (userData, error) ->
            LOG.log(System.Logger.Level.DEBUG, "libvirt error " + error.code + ": " + error.message);
    private static LibvirtEventLoop running;

    private final Thread thread;

    private LibvirtEventLoop(Thread thread) {
        this.thread = thread;
    }

    /** Starts the process-wide loop once; later calls return the same loop (libvirt allows one per process). */
    public static synchronized LibvirtEventLoop start() throws LibvirtException {
        if (running != null && running.thread.isAlive()) {
            return running;
        }
        Connect.setErrorCallback(ERRORS);
        Library.initEventLoop();
        Thread thread = new Thread(LibvirtEventLoop::run, "libvirt-event-loop");
        thread.setDaemon(true);
        thread.start();
        running = new LibvirtEventLoop(thread);
        return running;
    }

    private static void run() {
        try {
            Library.runEventLoop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (LibvirtException e) {
            LOG.log(System.Logger.Level.ERROR, "libvirt event loop stopped: " + e.getMessage());
        }
    }

    @Override
    public void close() {
        synchronized (LibvirtEventLoop.class) {
            try {
                Library.stopEventLoop();
                thread.join(5_000);
            } catch (LibvirtException e) {
                LOG.log(System.Logger.Level.WARNING, "stopping the libvirt event loop failed: " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (running == this) {
                running = null;
            }
        }
    }
}
