package dev.vigil.agent.delivery;

import dev.vigil.agent.capture.QemuImg;
import dev.vigil.agent.config.AgentConfig;
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
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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

    /**
     * The firmware configuration entry (QEMU fw_cfg, {@code /sys/firmware/qemu_fw_cfg/by_name/...} in a Linux guest)
     * through which a guest reads its license's features at first boot.
     */
    public static final String LICENSE_ENTRY = "opt/dev.vigil/license";

    /** What an install made. */
    public record Installation(String product, String release, String vmUuid, String vmName, Path disk) {}

    private final AgentConfig config;
    private final PrintStream out;
    private final Duration backoff;
    private final Clock clock;
    private final Deliveries deliveries;

    public Installer(AgentConfig config, PrintStream out, Duration backoff, Clock clock, Deliveries deliveries) {
        this.config = config;
        this.out = out;
        this.backoff = backoff;
        this.clock = clock;
        this.deliveries = deliveries;
    }

    /**
     * Installs {@code release} (null: the one the host's channel offers) and starts its VM; an install of a release
     * already installed reports it and changes nothing.
     */
    public Installation install(Connect hypervisor, String release) throws DeliveryException {
        Enrolment enrolment = Enrolment.load(config.stateDir());
        deliveries.begin(enrolment.product());
        try {
            return install(hypervisor, release, enrolment);
        } finally {
            deliveries.end();
        }
    }

    private Installation install(Connect hypervisor, String release, Enrolment enrolment) throws DeliveryException {
        DispatchConnection dispatch = dispatch().withHostToken(enrolment.hostToken());
        TrustStore trust = new TrustStore(config.stateDir(), clock);
        TrustedMetadata trusted = trust.refresh(trust.load(), dispatch, enrolment.product());
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
        if (target.getVirtualSize() <= 0) {
            throw new DeliveryException(
                    DeliveryException.Kind.REFUSED,
                    enrolment.product() + " " + target.getRelease()
                            + " states no disk size: its image was not verified;" + " tell the vendor");
        }
        License license = deliveries.guard().admit(trusted, enrolment.product());
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
                            + target.getRelease() + " replaces it as an update (the vendor's UPDATE command)");
        }
        byte[] manifestBytes = TrustStore.ok(dispatch.get(target.getManifest().getPath()), "the image manifest");
        ImageManifest manifest;
        try {
            manifest = trusted.verifyManifest(enrolment.product(), target.getRelease(), manifestBytes);
        } catch (MetadataException e) {
            throw TrustStore.untrusted(e);
        }
        Path images = imageDir(enrolment.product(), target.getRelease());
        Path master = images.resolve("master." + target.getFormat().name().toLowerCase(Locale.ROOT));
        boolean lazy = config.delivery().lazyBoot() && !Files.exists(master);
        if (!lazy) {
            // The VM is not defined yet: the download's progress is a host-level event.
            new ImageDownload(dispatch, out, deliveries::checkInterrupted)
                    .fetch(
                            manifest,
                            master,
                            done -> deliveries
                                    .reporting()
                                    .report(
                                            null,
                                            null,
                                            step(
                                                    DeliveryStep.DOWNLOADING,
                                                    enrolment.product(),
                                                    target.getRelease(),
                                                    done,
                                                    manifest.getSize())));
        }

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
        String xml = DomainPolicy.place(
                domain.getDomainXml(), disk, vmDir.resolve("console.log"), Map.of(LICENSE_ENTRY, firstBoot(license)));
        ImageStream.Job job = new ImageStream.Job(
                enrolment.product(),
                target.getRelease(),
                domain.getVmUuid(),
                lazy ? ImageServer.newName() : null,
                disk,
                master,
                target.getFormat(),
                target.getVirtualSize());
        ChunkStore store = null;
        try {
            Files.createDirectories(vmDir);
            // Kept for the image's conformity checks (and a restart's resumed pull).
            Files.createDirectories(images);
            TrustStore.write(images.resolve("manifest.bin"), manifestBytes);
            if (lazy) {
                store = ChunkStore.open(manifest, master, dispatch);
                ImageDownload.resuming(out, store);
                String url = deliveries.server().serve(job.name(), store);
                Files.deleteIfExists(disk);
                overlay(disk, backing(job.format(), url), job.format(), job.virtualSize());
            } else if (!Files.exists(disk)) {
                overlay(disk, master.toString(), job.format(), job.virtualSize());
            }
        } catch (IOException e) {
            closeAndWithdraw(store, job);
            throw new DeliveryException(
                    DeliveryException.Kind.IO,
                    "cannot make the VM's disk over the master image in " + vmDir + " (qemu-img comes with Debian's"
                            + " qemu-utils): " + e.getMessage(),
                    e);
        } catch (DeliveryException e) {
            closeAndWithdraw(store, job);
            throw e;
        }
        try {
            deliveries.checkInterrupted();
        } catch (DeliveryException e) {
            closeAndWithdraw(store, job);
            throw e;
        }
        try {
            Domain vm = hypervisor.domainDefineXML(xml);
            vm.create();
        } catch (LibvirtException e) {
            closeAndWithdraw(store, job);
            throw new DeliveryException(
                    DeliveryException.Kind.HYPERVISOR,
                    "the hypervisor refused the VM of " + enrolment.product() + " " + target.getRelease() + ": "
                            + e.getMessage(),
                    e);
        }
        Installation installation = new Installation(
                enrolment.product(), target.getRelease(), domain.getVmUuid(), domain.getVmName(), disk);
        record(installation, job);
        deliveries
                .reporting()
                .report(
                        installation.vmUuid(),
                        installation.vmName(),
                        step(
                                DeliveryStep.INSTALLED,
                                installation,
                                lazy ? store.have() : manifest.getSize(),
                                manifest.getSize()));
        if (lazy) {
            out.println(String.format(
                    Locale.ROOT,
                    "installed %s %s as VM %s (%s); it is running while the rest of its %.1f MiB image arrives",
                    enrolment.product(),
                    target.getRelease(),
                    domain.getVmName(),
                    domain.getVmUuid(),
                    manifest.getSize() / 1048576.0));
            stream(installation, job, store);
        } else {
            out.println("installed " + enrolment.product() + " " + target.getRelease() + " as VM " + domain.getVmName()
                    + " (" + domain.getVmUuid() + "); it is running");
        }
        return installation;
    }

    private static Delivery step(DeliveryStep step, Installation installation, long done, long total) {
        return step(step, installation.product(), installation.release(), done, total);
    }

    static Delivery step(DeliveryStep step, String product, String release, long done, long total) {
        return Delivery.newBuilder()
                .setStep(step)
                .setProduct(product)
                .setRelease(release)
                .setBytesDone(done)
                .setBytesTotal(total)
                .build();
    }

    /** What the guest finds in its firmware configuration at {@link #LICENSE_ENTRY}: its license's terms. */
    static String firstBoot(License license) {
        // Space-separated: QEMU's command line, which libvirt passes the entry on, splits values at commas.
        return "product=" + license.getProduct() + "\nlicense=" + license.getLicenseId() + "\nfeatures="
                + String.join(" ", license.getFeatures()).replace(',', ' ') + "\nvalidUntil="
                + license.getValidUntil() + "\n";
    }

    /** The installed VMs, as recorded. */
    List<Installation> installations() throws DeliveryException {
        List<Installation> installed = new ArrayList<>();
        for (Properties p : records()) {
            installed.add(new Installation(
                    p.getProperty("product"),
                    p.getProperty("release"),
                    p.getProperty("vmUuid"),
                    p.getProperty("vmName"),
                    Path.of(p.getProperty("disk"))));
        }
        return installed;
    }

    /** Continues the pulls of images that were still arriving when an earlier process stopped; returns how many. */
    int resumeStreams() throws DeliveryException {
        List<Properties> arriving = new ArrayList<>();
        for (Properties p : records()) {
            if (p.getProperty("arriving") != null && p.getProperty("interruptedAt") == null) {
                arriving.add(p);
            }
        }
        if (arriving.isEmpty()) {
            return 0;
        }
        Enrolment enrolment = Enrolment.load(config.stateDir());
        DispatchConnection dispatch = dispatch().withHostToken(enrolment.hostToken());
        TrustedMetadata trusted = new TrustStore(config.stateDir(), clock).load();
        for (Properties p : arriving) {
            Path master = Path.of(p.getProperty("master"));
            ImageStream.Job job = new ImageStream.Job(
                    p.getProperty("product"),
                    p.getProperty("release"),
                    p.getProperty("vmUuid"),
                    p.getProperty("arriving"),
                    Path.of(p.getProperty("disk")),
                    master,
                    ImageFormat.valueOf(p.getProperty("format")),
                    Long.parseLong(p.getProperty("virtualSize")));
            ImageManifest manifest;
            try {
                manifest = trusted.verifyManifest(
                        job.product(), job.release(), Files.readAllBytes(master.resolveSibling("manifest.bin")));
            } catch (MetadataException e) {
                throw TrustStore.untrusted(e);
            } catch (IOException e) {
                throw new DeliveryException(
                        DeliveryException.Kind.IO,
                        "cannot read the manifest of " + job.product() + " " + job.release() + ": " + e.getMessage(),
                        e);
            }
            ChunkStore store = ChunkStore.open(manifest, master, dispatch);
            deliveries.server().serve(job.name(), store);
            out.println(String.format(
                    Locale.ROOT,
                    "%s %s: %.1f of %.1f MiB are here; pulling the rest under VM %s",
                    job.product(),
                    job.release(),
                    store.have() / 1048576.0,
                    store.size() / 1048576.0,
                    job.vmUuid()));
            stream(
                    new Installation(job.product(), job.release(), job.vmUuid(), p.getProperty("vmName"), job.disk()),
                    job,
                    store);
        }
        return arriving.size();
    }

    private void stream(Installation installation, ImageStream.Job job, ChunkStore store) {
        deliveries.start(new ImageStream(
                job,
                store,
                serverOrNull(),
                config.hypervisorUri(),
                config.delivery(),
                out,
                done -> deliveries
                        .reporting()
                        .report(
                                installation.vmUuid(),
                                installation.vmName(),
                                step(DeliveryStep.DOWNLOADING, installation, done, store.size())),
                disk -> {
                    try {
                        record(
                                new Installation(
                                        installation.product(),
                                        installation.release(),
                                        installation.vmUuid(),
                                        installation.vmName(),
                                        disk),
                                new ImageStream.Job(
                                        job.product(),
                                        job.release(),
                                        job.vmUuid(),
                                        null,
                                        disk,
                                        job.master(),
                                        job.format(),
                                        job.virtualSize()));
                    } catch (DeliveryException e) {
                        out.println("cannot record the VM's new disk " + disk + ": " + e.getMessage());
                    }
                    deliveries
                            .reporting()
                            .report(
                                    installation.vmUuid(),
                                    installation.vmName(),
                                    step(DeliveryStep.IMAGE_COMPLETE, installation, store.size(), store.size()));
                }));
    }

    private ImageServer serverOrNull() {
        try {
            return deliveries.server();
        } catch (DeliveryException e) {
            throw new IllegalStateException("the image server started before the stream", e);
        }
    }

    private void closeAndWithdraw(ChunkStore store, ImageStream.Job job) {
        if (store != null) {
            try {
                deliveries.server().withdraw(job.name());
            } catch (DeliveryException e) {
                // The server never started, so nothing is served.
            }
            store.close();
        }
    }

    /** The QEMU backing of an image read through the agent's loopback server. */
    static String backing(ImageFormat format, String url) {
        // QEMU's curl driver gives up on a read after this; the VM then pauses until the data comes.
        return "json:{\"driver\":\"" + (format == ImageFormat.QCOW2 ? "qcow2" : "raw")
                + "\",\"file\":{\"driver\":\"http\",\"url\":\"" + url + "\",\"timeout\":60}}";
    }

    /**
     * Makes a VM's overlay on its master. Extended L2 entries give it 2 KiB subclusters: a guest's write copies
     * nothing of the master around it (whole 64 KiB clusters would), so the overlay holds the user's own writes and
     * an update carries exactly those onto the next release's master.
     */
    static void overlay(Path disk, String backing, ImageFormat format, long virtualSize) throws IOException {
        QemuImg.run(
                "create",
                "-q",
                "-f",
                "qcow2",
                "-o",
                "extended_l2=on",
                "-F",
                format == ImageFormat.QCOW2 ? "qcow2" : "raw",
                "-b",
                backing,
                disk.toString(),
                Long.toString(virtualSize));
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

    Path imageDir(String product, String release) {
        return config.stateDir().resolve("images").resolve(product).resolve(release);
    }

    private Path installedDir() {
        return Enrolment.dir(config.stateDir()).resolve("installed");
    }

    /** The installation of {@code product}'s {@code release} (null: of any release), or null. */
    private Installation find(String product, String release) throws DeliveryException {
        for (Properties p : records()) {
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
    }

    private List<Properties> records() throws DeliveryException {
        Path dir = installedDir();
        List<Properties> records = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return records;
        }
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".properties"))
                    .sorted()
                    .toList()) {
                Properties p = new Properties();
                try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                    p.load(in);
                }
                records.add(p);
            }
            return records;
        } catch (IOException e) {
            throw new DeliveryException(DeliveryException.Kind.IO, "cannot read " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The record of {@code product}'s installation, or null when it is not installed. */
    Properties recordOf(String product) throws DeliveryException {
        for (Properties p : records()) {
            if (product.equals(p.getProperty("product"))) {
                return p;
            }
        }
        return null;
    }

    /** The record of the installation whose VM is {@code vmUuid}, or null. */
    Properties recordOfVm(String vmUuid) throws DeliveryException {
        for (Properties p : records()) {
            if (vmUuid.equals(p.getProperty("vmUuid"))) {
                return p;
            }
        }
        return null;
    }

    /** All installation records. */
    List<Properties> allRecords() throws DeliveryException {
        return records();
    }

    private void record(Installation installation, ImageStream.Job job) throws DeliveryException {
        Properties p = new Properties();
        p.setProperty("product", installation.product());
        p.setProperty("release", installation.release());
        p.setProperty("vmUuid", installation.vmUuid());
        p.setProperty("vmName", installation.vmName());
        p.setProperty("disk", installation.disk().toString());
        p.setProperty("master", job.master().toString());
        p.setProperty("format", job.format().name());
        p.setProperty("virtualSize", Long.toString(job.virtualSize()));
        if (job.name() != null) {
            // The image's path on the loopback server, written into the VM's disk: a restart serves it there again.
            p.setProperty("arriving", job.name());
        }
        p.setProperty("installedAt", clock.instant().toString());
        store(p);
    }

    /** Writes an installation record, replacing the one of the same VM. */
    void store(Properties p) throws DeliveryException {
        Path file = installedDir().resolve(p.getProperty("vmUuid") + ".properties");
        try {
            Files.createDirectories(file.getParent());
            StringWriter text = new StringWriter();
            p.store(text, "A VM this agent installed from the vendor's release");
            TrustStore.write(file, text.toString().getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new DeliveryException(DeliveryException.Kind.IO, "cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}
