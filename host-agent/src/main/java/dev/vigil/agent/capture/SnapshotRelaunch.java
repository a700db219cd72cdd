package dev.vigil.agent.capture;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vigil.agent.hypervisor.DomainXml;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.libvirt.Domain;
import org.libvirt.DomainSnapshot;
import org.libvirt.LibvirtException;

/**
 * Puts a VM back to one of its snapshots and starts it. Internal snapshots go through libvirt's revert. libvirt
 * (9.0) cannot revert to an external snapshot, so for those the agent does what such a revert means: the state of
 * each disk at snapshot {@code S} is the image under the overlay {@code S} created, so the VM gets a fresh overlay on
 * that image and is started on it (a cold boot: a memory state is not restored). {@code S} and every later snapshot
 * described a branch the VM has left; their metadata and overlay files are removed, so later pruning only ever
 * sees snapshots whose overlays are in the running chain. The images below stay untouched.
 */
public final class SnapshotRelaunch {

    private static final System.Logger LOG = System.getLogger(SnapshotRelaunch.class.getName());
    private static final int METADATA_ONLY = 2;

    private final Path dir;
    private final Clock clock;

    /** @param dir where new overlays are created ({@code dir/<vm uuid>/}) */
    public SnapshotRelaunch(Path dir, Clock clock) {
        this.dir = dir;
        this.clock = clock;
    }

    /**
     * Reverts {@code domain} to snapshot {@code name}; with {@code start}, the VM runs afterwards.
     *
     * @return what was done, for command results and capture reports
     */
    public String revert(Domain domain, String name, boolean start) throws LibvirtException, IOException {
        DomainSnapshot snapshot = domain.snapshotLookupByName(name);
        String snapshotXml = snapshot.getXMLDesc();
        Map<String, Path> overlays = externalOverlays(snapshotXml);
        if (overlays.isEmpty()) {
            domain.revertToSnapshot(snapshot);
            if (start && domain.isActive() == 0) {
                domain.create();
            } else if (start && domain.getInfo().state == org.libvirt.DomainInfo.DomainState.VIR_DOMAIN_PAUSED) {
                domain.resume();
            }
            return "reverted to " + name;
        }
        Path vmDir = Files.createDirectories(dir.resolve(domain.getUUIDString()));
        String stamp = RollingSnapshots.NAME_TIME.format(clock.instant().atZone(ZoneOffset.UTC));
        String definition = domain.getXMLDesc(2); // VIR_DOMAIN_XML_INACTIVE: the persistent definition
        Map<String, Path> fresh = new LinkedHashMap<>();
        for (var entry : overlays.entrySet()) {
            JsonNode info =
                    QemuImg.json("info", "-U", "--output=json", entry.getValue().toString());
            String base = info.path("full-backing-filename")
                    .asText(info.path("backing-filename").asText());
            if (base.isEmpty()) {
                throw new IOException("overlay " + entry.getValue() + " of snapshot " + name + " has no backing image");
            }
            String baseFormat = info.path("backing-filename-format").asText("qcow2");
            Path overlay = vmDir.resolve("relaunch-" + stamp + "-" + entry.getKey() + ".qcow2");
            QemuImg.run("create", "-q", "-f", "qcow2", "-F", baseFormat, "-b", base, overlay.toString());
            fresh.put(entry.getKey(), overlay);
        }
        String vmName = domain.getName();
        DomainXml current =
                DomainXml.parse(definition).orElseThrow(() -> new IOException("unreadable definition of " + vmName));
        String redefined = definition;
        for (DomainXml.Disk disk : current.disks()) {
            Path overlay = fresh.get(disk.target());
            if (overlay != null) {
                redefined = redefined
                        .replace("file='" + disk.file() + "'", "file='" + overlay + "'")
                        .replace("file=\"" + disk.file() + "\"", "file=\"" + overlay + "\"");
            }
        }
        redefined = withoutBackingStores(redefined);
        List<String> abandoned = abandonedFrom(domain, name);
        if (domain.isActive() == 1) {
            domain.destroy();
        }
        for (String gone : abandoned) {
            DomainSnapshot s = domain.snapshotLookupByName(gone);
            List<Path> files = new ArrayList<>(externalOverlays(s.getXMLDesc()).values());
            s.delete(METADATA_ONLY);
            for (Path f : files) {
                Files.deleteIfExists(f);
            }
            Files.deleteIfExists(vmDir.resolve(gone + ".mem"));
        }
        domain.getConnect().domainDefineXML(redefined);
        if (start) {
            domain.create();
        }
        LOG.log(
                System.Logger.Level.INFO,
                "relaunched " + domain.getName() + " from external snapshot " + name + " on " + fresh.values()
                        + "; dropped snapshots " + abandoned);
        return "relaunched from " + name + " (external: a fresh overlay on its disks, cold boot)";
    }

    /** Drops the chains libvirt recorded under each disk: the new overlays have other ones, probed at start. */
    static String withoutBackingStores(String xml) {
        String previous;
        String current = xml;
        do {
            previous = current;
            current = current.replaceAll("<backingStore\\s*/>", "")
                    .replaceAll("(?s)<backingStore[^>]*>((?!<backingStore).)*?</backingStore>", "");
        } while (!current.equals(previous));
        return current;
    }

    /** The snapshot and every one taken at or after it. */
    private static List<String> abandonedFrom(Domain domain, String name) throws LibvirtException {
        long since = created(domain.snapshotLookupByName(name).getXMLDesc());
        List<String> later = new ArrayList<>();
        for (String n : domain.snapshotListNames()) {
            if (n.equals(name) || created(domain.snapshotLookupByName(n).getXMLDesc()) >= since) {
                later.add(n);
            }
        }
        return later;
    }

    private static long created(String snapshotXml) {
        return DomainXml.parse(snapshotXml).map(DomainXml::snapshotCreationTime).orElse(-1L);
    }

    /** The overlay each disk got when an external snapshot was taken, by target; empty for an internal one. */
    static Map<String, Path> externalOverlays(String snapshotXml) {
        return DomainXml.parse(snapshotXml).map(DomainXml::snapshotOverlays).orElse(Map.of());
    }
}
