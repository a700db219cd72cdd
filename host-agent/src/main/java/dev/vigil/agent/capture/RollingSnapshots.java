package dev.vigil.agent.capture;

import dev.vigil.agent.hypervisor.DomainWatcher;
import dev.vigil.agent.hypervisor.DomainXml;
import dev.vigil.agent.hypervisor.TrustedSnapshots;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.DomainInfo.DomainState;
import org.libvirt.LibvirtException;

/**
 * Periodic trusted snapshots of every running VM whose disks are qcow2 overlays of a master image: external and
 * disk-only by default (the guest does not notice), with the memory state too on request. The newest
 * {@code keep} trusted snapshots, and the newest {@code keep} failure snapshots, are kept; older ones are deleted
 * through libvirt, which merges each one's overlay into the image below it, so the chain from the running overlay
 * down to the master stays whole and the master is never written. Overlays live under {@code dir/<vm uuid>/}.
 */
public final class RollingSnapshots {

    static final DateTimeFormatter NAME_TIME = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'");
    private static final System.Logger LOG = System.getLogger(RollingSnapshots.class.getName());
    private static final int DISK_ONLY = 16;
    private static final int ATOMIC = 128;

    private final Supplier<DomainWatcher> watcher;
    private final Path dir;
    private final int keep;
    private final boolean withMemory;
    private final Clock clock;
    private final AtomicLong taken = new AtomicLong();
    private final AtomicLong pruned = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();

    public RollingSnapshots(Supplier<DomainWatcher> watcher, Path dir, int keep, boolean withMemory, Clock clock) {
        this.watcher = watcher;
        this.dir = dir;
        this.keep = keep;
        this.withMemory = withMemory;
        this.clock = clock;
    }

    /** One round: a trusted snapshot of every running VM on overlays, then pruning. Never throws. */
    public void round() {
        Connect connection;
        int[] ids;
        try {
            connection = watcher.get().connection();
            ids = connection.listDomains();
        } catch (LibvirtException | RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "no snapshot round: " + e.getMessage());
            return;
        }
        for (int id : ids) {
            try {
                Domain domain = connection.domainLookupByID(id);
                if (domain.getInfo().state != DomainState.VIR_DOMAIN_RUNNING) {
                    continue;
                }
                DomainXml xml = DomainXml.parse(domain.getXMLDesc(0)).orElse(null);
                if (xml == null || !onOverlays(xml)) {
                    continue;
                }
                take(domain, xml, withMemory);
                prune(domain);
            } catch (LibvirtException | IOException | RuntimeException e) {
                failures.incrementAndGet();
                LOG.log(System.Logger.Level.WARNING, "snapshot of domain " + id + " failed: " + e.getMessage());
            }
        }
    }

    /** Takes a trusted snapshot now; returns its name. */
    public String take(Domain domain, DomainXml xml, boolean memory) throws LibvirtException, IOException {
        String name = TrustedSnapshots.TRUSTED_PREFIX
                + NAME_TIME.format(clock.instant().atZone(ZoneOffset.UTC));
        Path vmDir = Files.createDirectories(dir.resolve(domain.getUUIDString()));
        StringBuilder snapshot =
                new StringBuilder("<domainsnapshot><name>").append(name).append("</name>");
        snapshot.append("<description>Vigil: trusted snapshot</description>");
        if (memory) {
            snapshot.append("<memory snapshot='external' file='")
                    .append(vmDir.resolve(name + ".mem"))
                    .append("'/>");
        }
        snapshot.append("<disks>");
        for (DomainXml.Disk disk : xml.disks()) {
            snapshot.append("<disk name='")
                    .append(disk.target())
                    .append("' snapshot='external'><driver type='qcow2'/><source file='")
                    .append(vmDir.resolve(name + "-" + disk.target() + ".qcow2"))
                    .append("'/></disk>");
        }
        snapshot.append("</disks></domainsnapshot>");
        domain.snapshotCreateXML(snapshot.toString(), (memory ? 0 : DISK_ONLY) | ATOMIC);
        taken.incrementAndGet();
        return name;
    }

    /** Deletes trusted and failure snapshots beyond the newest {@code keep} of each, oldest first. */
    public void prune(Domain domain) throws LibvirtException, IOException {
        String[] names = domain.snapshotListNames();
        Arrays.sort(names);
        for (String prefix : List.of(TrustedSnapshots.TRUSTED_PREFIX, CaptureService.FAILURE_SNAPSHOT_PREFIX)) {
            List<String> mine =
                    Arrays.stream(names).filter(n -> n.startsWith(prefix)).toList();
            for (String name : mine.subList(0, Math.max(0, mine.size() - keep))) {
                domain.snapshotLookupByName(name).delete(0);
                // libvirt removes the merged overlay; a memory state file is ours to remove.
                Files.deleteIfExists(dir.resolve(domain.getUUIDString()).resolve(name + ".mem"));
                pruned.incrementAndGet();
            }
        }
    }

    static boolean onOverlays(DomainXml xml) {
        return !xml.disks().isEmpty() && xml.disks().stream().allMatch(d -> "qcow2".equals(d.format()));
    }

    public long takenCount() {
        return taken.get();
    }

    public long prunedCount() {
        return pruned.get();
    }

    public long failureCount() {
        return failures.get();
    }
}
