package dev.vigil.devstack;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The tiny Linux guest {@code devstack/hypervisor/setup} builds, as a libvirt domain definition for the real
 * hypervisor (QEMU under TCG): a Debian kernel and a busybox initramfs whose init panics, trips its watchdog, fills
 * its disk or idles on request (kernel command line {@code vigil.*}, see {@code devstack/hypervisor/guest-init}).
 * Its disk is a qcow2 overlay on a raw master image, as a vendor's beta VM is; its console goes to a file.
 */
public final class GuestDomain {

    public static final String URI = "qemu:///system";
    public static final Path GUEST_DIR =
            Path.of(System.getenv().getOrDefault("VIGIL_GUEST_DIR", "/var/cache/vigil-guest"));
    public static final long MASTER_BYTES = 32L << 20;
    /** Written at 4 KiB into every master, so tests can tell master content from guest writes. */
    public static final String MASTER_MARK = "the vendor's master image";

    private final String name;
    private final Path dir;

    public GuestDomain(String scenario, Path dir) {
        this(dir, "vigil-" + scenario + "-" + UUID.randomUUID().toString().substring(0, 8));
    }

    private GuestDomain(Path dir, String name) {
        this.name = name;
        this.dir = dir;
    }

    /** The guest as a VM called {@code name}, its disks and console in {@code dir}. */
    public static GuestDomain named(String name, Path dir) {
        return new GuestDomain(dir, name);
    }

    /** True when the setup has built the guest here. */
    public static boolean built() {
        return Files.exists(GUEST_DIR.resolve("ready"));
    }

    /**
     * Why the real hypervisor cannot run the guest here (the setup has not built it, or libvirtd does not answer), or
     * null when it can.
     */
    public static String unavailable() {
        if (!built()) {
            return "no test guest: run devstack/hypervisor/setup (as root)";
        }
        try {
            new org.libvirt.Connect(URI).close();
            return null;
        } catch (org.libvirt.LibvirtException | UnsatisfiedLinkError e) {
            return "libvirtd does not answer (" + e.getMessage() + "): run devstack/hypervisor/setup";
        }
    }

    public String name() {
        return name;
    }

    public Path master() {
        return dir.resolve("master.raw");
    }

    public Path overlay() {
        return dir.resolve("overlay.qcow2");
    }

    public Path console() {
        return dir.resolve("console.log");
    }

    /** Creates the master (sparse, with {@link #MASTER_MARK}) and the qcow2 overlay the VM runs on. */
    public void createDisks() throws IOException, InterruptedException {
        try (RandomAccessFile file = new RandomAccessFile(master().toFile(), "rw")) {
            file.setLength(MASTER_BYTES);
            file.seek(4096);
            file.write(MASTER_MARK.getBytes(StandardCharsets.US_ASCII));
        }
        run(
                "qemu-img",
                "create",
                "-q",
                "-f",
                "qcow2",
                "-F",
                "raw",
                "-b",
                master().toString(),
                overlay().toString());
    }

    /** A qcow2 overlay disk whose errors pause the VM. */
    public String overlayDisk() {
        return "<disk type='file' device='disk'><driver name='qemu' type='qcow2' error_policy='stop'/>"
                + "<source file='" + overlay() + "'/><target dev='vda' bus='virtio'/></disk>";
    }

    /** The domain definition: {@code cmdline} picks the scenario; {@code disk} and {@code devices} are XML. */
    public String xml(String cmdline, String disk, String devices) {
        return """
                <domain type='qemu'>
                  <name>%s</name>
                  <memory unit='MiB'>256</memory>
                  <vcpu>1</vcpu>
                  <metadata><vigil:image xmlns:vigil="urn:vigil:image:1" product="TinyLinux" release="6.1-it"/></metadata>
                  <os><type arch='x86_64' machine='pc'>hvm</type>
                    <kernel>%s</kernel><initrd>%s</initrd>
                    <cmdline>console=ttyS0 panic=0 %s</cmdline></os>
                  <features><acpi/><vmcoreinfo state='on'/></features>
                  <on_crash>preserve</on_crash>
                  <devices>
                    %s
                    <serial type='file'><source path='%s'/><target port='0'/></serial>
                    <graphics type='vnc' autoport='yes' listen='127.0.0.1'/>
                    <video><model type='vga'/></video>
                    <panic model='isa'/>
                    %s
                  </devices>
                </domain>
                """.formatted(
                name, GUEST_DIR.resolve("vmlinuz"), GUEST_DIR.resolve("initrd.img"), cmdline, disk, console(), devices);
    }

    /** Room for the boot files at the start of a {@link #bootableImage}: a FAT file system of 48 MiB. */
    public static final long BOOT_BYTES = 48L << 20;

    /**
     * A vendor's master image that boots by itself, as a release's image must (a domain from the vendor may not name
     * a host kernel): a raw disk whose first {@link #BOOT_BYTES} are a FAT file system with SYSLINUX, the test guest's
     * kernel and initramfs and a {@code syslinux.cfg} passing {@code cmdline}; the rest, up to {@code size}, is
     * random data from {@code seed} that the guest never reads (a large image with a small boot set, as real ones
     * are). Needs Debian's {@code dosfstools}, {@code syslinux} and {@code mtools}, which the setup installs.
     */
    public static Path bootableImage(Path file, long size, String cmdline, long seed)
            throws IOException, InterruptedException {
        if (size < BOOT_BYTES) {
            throw new IllegalArgumentException("a bootable image needs at least " + BOOT_BYTES + " bytes");
        }
        Files.deleteIfExists(file);
        try (RandomAccessFile out = new RandomAccessFile(file.toFile(), "rw")) {
            out.setLength(size);
            java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
            byte[] block = new byte[1 << 20];
            out.seek(BOOT_BYTES);
            for (long at = BOOT_BYTES; at < size; at += block.length) {
                for (int i = 0; i < block.length; i += 8) {
                    long value = random.nextLong();
                    for (int b = 0; b < 8; b++) {
                        block[i + b] = (byte) (value >>> (8 * b));
                    }
                }
                out.write(block, 0, (int) Math.min(block.length, size - at));
            }
        }
        // FAT16 whatever the image size: mkfs would pick FAT32 for a large file, which 48 MiB is too small for.
        run("mkfs.fat", "-F", "16", "-n", "VIGIL", file.toString(), Long.toString(BOOT_BYTES / 1024));
        run("syslinux", "--install", file.toString());
        Path config = Files.createTempFile("syslinux", ".cfg");
        try {
            Files.writeString(
                    config,
                    "DEFAULT vigil\nPROMPT 0\nTIMEOUT 0\nLABEL vigil\n  KERNEL vmlinuz\n  INITRD initrd.img\n  APPEND "
                            + cmdline + "\n");
            run("mcopy", "-i", file.toString(), GUEST_DIR.resolve("vmlinuz").toString(), "::/vmlinuz");
            run("mcopy", "-i", file.toString(), GUEST_DIR.resolve("initrd.img").toString(), "::/initrd.img");
            run("mcopy", "-i", file.toString(), config.toString(), "::/syslinux.cfg");
        } finally {
            Files.deleteIfExists(config);
        }
        return file;
    }

    /** Runs a command, failing with its output when it fails. */
    public static void run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(5, TimeUnit.MINUTES) || process.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + output);
        }
    }
}
