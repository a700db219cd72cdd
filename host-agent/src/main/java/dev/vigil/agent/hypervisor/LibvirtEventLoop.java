package dev.vigil.agent.hypervisor;

import org.libvirt.Library;
import org.libvirt.LibvirtException;

/**
 * Runs libvirt's default event loop on its own daemon thread; listeners registered on any connection opened after
 * {@link #start()} are called from that thread.
 */
public final class LibvirtEventLoop implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(LibvirtEventLoop.class.getName());
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
