package dev.vigil.agent.hypervisor;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import org.libvirt.Domain;
import org.libvirt.DomainInfo;
import org.libvirt.LibvirtException;
import org.libvirt.event.DomainEvent;
import org.libvirt.event.LifecycleListener;

/**
 * Watches one libvirt connection's domains: lists them at start and turns every lifecycle callback into a
 * {@link DomainLifecycleChange} on a queue. The callback runs on the event-loop thread, so it only copies and
 * enqueues.
 */
public final class DomainWatcher implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(DomainWatcher.class.getName());

    private final VigilConnect connection;
    private final BlockingQueue<HypervisorEvent> changes;
    // Held strongly: libvirt keeps only a native reference to the callback.
    private final LifecycleListener listener = this::onLifecycleChange;
    private boolean closed;

    private DomainWatcher(VigilConnect connection, BlockingQueue<HypervisorEvent> changes) {
        this.connection = connection;
        this.changes = changes;
    }

    /** Opens {@code uri} (the event loop must already run) and starts watching. */
    public static DomainWatcher open(String uri, BlockingQueue<HypervisorEvent> changes) throws LibvirtException {
        VigilConnect connection = new VigilConnect(uri);
        DomainWatcher watcher = new DomainWatcher(connection, changes);
        connection.addLifecycleListener(watcher.listener);
        return watcher;
    }

    /** The domains that exist now, each as a discovered change in its current state. */
    public List<DomainLifecycleChange> discover() throws LibvirtException {
        List<DomainLifecycleChange> found = new ArrayList<>();
        Instant now = Instant.now();
        for (int id : connection.listDomains()) {
            Domain domain = connection.domainLookupByID(id);
            found.add(new DomainLifecycleChange(
                    domain.getUUIDString(), domain.getName(), stateOf(domain.getInfo()), "DISCOVERED", now, true));
        }
        for (String name : connection.listDefinedDomains()) {
            Domain domain = connection.domainLookupByName(name);
            found.add(new DomainLifecycleChange(domain.getUUIDString(), name, "DEFINED", "DISCOVERED", now, true));
        }
        return found;
    }

    /** The watched connection, for callers that also sample or act on domains. */
    public VigilConnect connection() {
        return connection;
    }

    public String uri() throws LibvirtException {
        return connection.getURI();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            connection.removeLifecycleListener(listener);
            connection.close();
        } catch (LibvirtException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "closing the libvirt connection failed: " + e.getMessage());
        }
    }

    private int onLifecycleChange(Domain domain, DomainEvent event) {
        try {
            Enum<?> detail = event.getDetail();
            changes.offer(new DomainLifecycleChange(
                    domain.getUUIDString(),
                    domain.getName(),
                    event.getType().name(),
                    detail == null ? "UNKNOWN" : detail.name(),
                    Instant.now(),
                    false));
        } catch (LibvirtException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "dropped an unreadable lifecycle event: " + e.getMessage());
        }
        return 0;
    }

    private static String stateOf(DomainInfo info) {
        return switch (info.state) {
            case VIR_DOMAIN_PAUSED -> "SUSPENDED";
            case VIR_DOMAIN_SHUTDOWN, VIR_DOMAIN_SHUTOFF -> "STOPPED";
            case VIR_DOMAIN_CRASHED -> "CRASHED";
            case VIR_DOMAIN_PMSUSPENDED -> "PMSUSPENDED";
            default -> "STARTED";
        };
    }
}
