package dev.vigil.agent.delivery;

import dev.vigil.agent.capture.QemuImg;
import dev.vigil.agent.config.AgentConfig;
import dev.vigil.schemas.delivery.DomainDefinition;
import dev.vigil.schemas.delivery.ImageFormat;
import dev.vigil.schemas.delivery.ImageManifest;
import dev.vigil.schemas.delivery.MetadataException;
import dev.vigil.schemas.delivery.ReleaseTarget;
import dev.vigil.schemas.delivery.TrustedMetadata;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.LibvirtException;

/**
 * Installs a release of the enrolled product: brings the trusted metadata up to date, checks the release is
 * published and the image manifest is the signed one, puts the master image together from verified chunks, has
 * dispatch render the user's domain, refuses a definition that would reach the host, and runs the VM from a
 * copy-on-write overlay on the read-only master. Every step is checked before the next; a failure leaves nothing
 * half-installed running and says what to do.
 */
public final class Installer {

    /** What an install made. */
    public record Installation(String product, String release, String vmUuid, String vmName, Path disk) {}

    private final AgentConfig config;
    private final PrintStream out;
    private final Duration backoff;
    private final Clock clock;

    public Installer(AgentConfig config, PrintStream out, Duration backoff, Clock clock) {
        this.config = config;
        this.out = out;
        this.backoff = backoff;
        this.clock = clock;
    }

    /**
     * Installs {@code release} (null: the one the host's channel offers) and starts its VM; an install of a release
     * already installed reports it and changes nothing.
     */
    public Installation install(Connect hypervisor, String release) throws DeliveryException {
        Enrolment enrolment = Enrolment.load(config.stateDir());
        DispatchConnection dispatch = dispatch().withHostToken(enrolment.hostToken());
        TrustStore store = new TrustStore(config.stateDir(), clock);
        TrustedMetadata trusted = store.refresh(store.load(), dispatch, enrolment.product());
        ReleaseTarget target;
        try {
            target = release == null
                    ? trusted.channelHead(enrolment.product(), enrolment.channel())
                    : trusted.release(enrolment.product(), release);
        } catch (MetadataException e) {
            throw new DeliveryException(
                    DeliveryException.Kind.REFUSED,
                    release == null
                            ? "channel " + enrolment.channel() + " of " + enrolment.product() + " offers no release yet"
                            : enrolment.product() + " has no published release " + release + " (" + e.getMessage()
                                    + ")");
        }
        Installation existing = find(enrolment.product(), target.getRelease());
        if (existing != null) {
            out.println(enrolment.product() + " " + target.getRelease() + " is installed as VM " + existing.vmName());
            return existing;
        }
        Installation other = find(enrolment.product(), null);
        if (other != null) {
            throw new DeliveryException(
                    DeliveryException.Kind.REFUSED,
                    enrolment.product() + " " + other.release() + " is installed as VM " + other.vmName() + "; "
                            + target.getRelease() + " replaces it as an update, which this agent does not apply yet");
        }
        ImageManifest manifest;
        try {
            manifest = trusted.verifyManifest(
                    enrolment.product(),
                    target.getRelease(),
                    TrustStore.ok(dispatch.get(target.getManifest().getPath()), "the image manifest"));
        } catch (MetadataException e) {
            throw TrustStore.untrusted(e);
        }
        Path master = imageDir(enrolment.product(), target.getRelease())
                .resolve("master." + target.getFormat().name().toLowerCase(Locale.ROOT));
        new ImageDownload(dispatch, out).fetch(manifest, master);

        DomainDefinition domain;
        try {
            domain = trusted.verifyDomain(
                    TrustStore.ok(
                            dispatch.postJson("/api/v1/agent/domains", Map.of("release", target.getRelease())),
                            "the VM's definition"),
                    config.hostId());
        } catch (MetadataException e) {
            throw TrustStore.untrusted(e);
        }
        DomainPolicy.check(domain.getDomainXml());
        Path vmDir = config.stateDir().resolve("vms").resolve(domain.getVmUuid());
        Path disk = vmDir.resolve("disk.qcow2");
        Path console = vmDir.resolve("console.log");
        try {
            Files.createDirectories(vmDir);
            if (!Files.exists(disk)) {
                QemuImg.run(
                        "create",
                        "-f",
                        "qcow2",
                        "-F",
                        target.getFormat() == ImageFormat.QCOW2 ? "qcow2" : "raw",
                        "-b",
                        master.toString(),
                        disk.toString());
            }
        } catch (IOException e) {
            throw new DeliveryException(
                    DeliveryException.Kind.IO,
                    "cannot make the VM's disk over the master image (qemu-img from Debian's qemu-utils is needed): "
                            + e.getMessage(),
                    e);
        }
        String xml = domain.getDomainXml()
                .replace("{{vigil.disk}}", disk.toString())
                .replace("{{vigil.console}}", console.toString());
        try {
            Domain vm = hypervisor.domainDefineXML(xml);
            vm.create();
        } catch (LibvirtException e) {
            throw new DeliveryException(
                    DeliveryException.Kind.HYPERVISOR,
                    "the hypervisor refused the VM of " + enrolment.product() + " " + target.getRelease() + ": "
                            + e.getMessage(),
                    e);
        }
        Installation installation = new Installation(
                enrolment.product(), target.getRelease(), domain.getVmUuid(), domain.getVmName(), disk);
        record(installation);
        out.println("installed " + enrolment.product() + " " + target.getRelease() + " as VM " + domain.getVmName()
                + " (" + domain.getVmUuid() + "); it is running");
        return installation;
    }

    DispatchConnection dispatch() throws DeliveryException {
        if (config.dispatchUrl() == null) {
            throw new DeliveryException(
                    DeliveryException.Kind.NOT_CONFIGURED,
                    "VIGIL_AGENT_DISPATCH_URL is not set: it is the vendor's dispatch address, which the vendor's"
                            + " beta page shows");
        }
        return new DispatchConnection(config.dispatchUrl(), null, backoff);
    }

    private Path imageDir(String product, String release) {
        return config.stateDir().resolve("images").resolve(product).resolve(release);
    }

    private Path installedDir() {
        return Enrolment.dir(config.stateDir()).resolve("installed");
    }

    /** The installation of {@code product}'s {@code release} (null: of any release), or null. */
    private Installation find(String product, String release) throws DeliveryException {
        Path dir = installedDir();
        if (!Files.isDirectory(dir)) {
            return null;
        }
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.toList()) {
                Properties p = new Properties();
                try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                    p.load(in);
                }
                if (product.equals(p.getProperty("product"))
                        && (release == null || release.equals(p.getProperty("release")))) {
                    return new Installation(
                            product,
                            p.getProperty("release"),
                            p.getProperty("vmUuid"),
                            p.getProperty("vmName"),
                            Path.of(p.getProperty("disk")));
                }
            }
            return null;
        } catch (IOException e) {
            throw new DeliveryException(DeliveryException.Kind.IO, "cannot read " + dir + ": " + e.getMessage(), e);
        }
    }

    private void record(Installation installation) throws DeliveryException {
        Properties p = new Properties();
        p.setProperty("product", installation.product());
        p.setProperty("release", installation.release());
        p.setProperty("vmUuid", installation.vmUuid());
        p.setProperty("vmName", installation.vmName());
        p.setProperty("disk", installation.disk().toString());
        p.setProperty("installedAt", clock.instant().toString());
        Path file = installedDir().resolve(installation.vmUuid() + ".properties");
        try {
            Files.createDirectories(file.getParent());
            try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
                p.store(w, "A VM this agent installed from the vendor's release");
            }
        } catch (IOException e) {
            throw new DeliveryException(DeliveryException.Kind.IO, "cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}
