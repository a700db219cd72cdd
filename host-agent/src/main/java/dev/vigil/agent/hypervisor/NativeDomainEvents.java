package dev.vigil.agent.hypervisor;

import com.sun.jna.Pointer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;

/**
 * Registers the domain events libvirt-java cannot (watchdog, I/O error with reason, block threshold, memory
 * failure) through {@link LibvirtNative}; each callback copies what it needs and enqueues a {@link HypervisorEvent}.
 */
public final class NativeDomainEvents implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(NativeDomainEvents.class.getName());

    private final VigilConnect connection;
    private final BlockingQueue<HypervisorEvent> events;
    private final List<Integer> callbackIds = new ArrayList<>();
    // Strong references for as long as libvirt may call them.
    final LibvirtNative.WatchdogCallback watchdog = this::onWatchdog;
    final LibvirtNative.IoErrorReasonCallback ioError = this::onIoError;
    final LibvirtNative.BlockThresholdCallback blockThreshold = this::onBlockThreshold;
    final LibvirtNative.MemoryFailureCallback memoryFailure = this::onMemoryFailure;
    final LibvirtQemuNative.MonitorEventCallback guestPanicked = this::onGuestPanicked;
    private int panicCallbackId = -1;

    NativeDomainEvents(VigilConnect connection, BlockingQueue<HypervisorEvent> events) {
        this.connection = connection;
        this.events = events;
    }

    /** Registers every callback; an event id the hypervisor does not support is logged and skipped. */
    public static NativeDomainEvents register(VigilConnect connection, BlockingQueue<HypervisorEvent> events) {
        NativeDomainEvents registration = new NativeDomainEvents(connection, events);
        registration.add(LibvirtNative.EVENT_ID_WATCHDOG, registration.watchdog);
        registration.add(LibvirtNative.EVENT_ID_IO_ERROR_REASON, registration.ioError);
        registration.add(LibvirtNative.EVENT_ID_BLOCK_THRESHOLD, registration.blockThreshold);
        registration.add(LibvirtNative.EVENT_ID_MEMORY_FAILURE, registration.memoryFailure);
        registration.addGuestPanicked();
        return registration;
    }

    /** How many callbacks libvirt accepted. */
    public int registered() {
        return callbackIds.size();
    }

    /** Whether QEMU's GUEST_PANICKED (panic registers and STOP codes) is being received. */
    public boolean receivesPanicData() {
        return panicCallbackId >= 0;
    }

    @Override
    public void close() {
        if (panicCallbackId >= 0) {
            LibvirtQemuNative.lib().virConnectDomainQemuMonitorEventDeregister(connection.pointer(), panicCallbackId);
            panicCallbackId = -1;
        }
        for (int id : callbackIds) {
            LibvirtNative.LIB.virConnectDomainEventDeregisterAny(connection.pointer(), id);
        }
        callbackIds.clear();
    }

    private void add(int eventId, com.sun.jna.Callback callback) {
        int id = LibvirtNative.LIB.virConnectDomainEventRegisterAny(
                connection.pointer(), Pointer.NULL, eventId, callback, Pointer.NULL, Pointer.NULL);
        if (id < 0) {
            LOG.log(System.Logger.Level.WARNING, "hypervisor does not report event id " + eventId);
        } else {
            callbackIds.add(id);
        }
    }

    private void addGuestPanicked() {
        LibvirtQemuNative qemu = LibvirtQemuNative.lib();
        panicCallbackId = qemu == null
                ? -1
                : qemu.virConnectDomainQemuMonitorEventRegister(
                        connection.pointer(),
                        Pointer.NULL,
                        "GUEST_PANICKED",
                        guestPanicked,
                        Pointer.NULL,
                        Pointer.NULL,
                        0);
        if (panicCallbackId < 0) {
            LOG.log(
                    System.Logger.Level.INFO,
                    "this hypervisor relays no QEMU monitor events: crashes carry no panic data");
        }
    }

    void onGuestPanicked(
            Pointer conn, Pointer dom, String event, long seconds, int micros, String details, Pointer opaque) {
        events.offer(GuestPanic.parse(uuid(dom), name(dom), details, Instant.now()));
    }

    void onWatchdog(Pointer conn, Pointer dom, int action, Pointer opaque) {
        events.offer(new HypervisorEvent.Watchdog(uuid(dom), name(dom), action, Instant.now()));
    }

    void onIoError(
            Pointer conn, Pointer dom, String srcPath, String devAlias, int action, String reason, Pointer opaque) {
        events.offer(new HypervisorEvent.IoError(
                uuid(dom), name(dom), text(srcPath), text(devAlias), action, text(reason), Instant.now()));
    }

    void onBlockThreshold(
            Pointer conn, Pointer dom, String dev, String path, long threshold, long excess, Pointer opaque) {
        events.offer(new HypervisorEvent.BlockThreshold(
                uuid(dom), name(dom), text(dev), text(path), threshold, excess, Instant.now()));
    }

    void onMemoryFailure(Pointer conn, Pointer dom, int recipient, int action, int flags, Pointer opaque) {
        events.offer(new HypervisorEvent.MemoryFailure(uuid(dom), name(dom), recipient, action, flags, Instant.now()));
    }

    static String uuid(Pointer dom) {
        byte[] buffer = new byte[37];
        if (LibvirtNative.LIB.virDomainGetUUIDString(dom, buffer) < 0) {
            return "";
        }
        return new String(buffer, 0, 36, StandardCharsets.US_ASCII);
    }

    static String name(Pointer dom) {
        String name = LibvirtNative.LIB.virDomainGetName(dom);
        return name == null ? "" : name;
    }

    private static String text(String value) {
        return value == null ? "" : value;
    }
}
