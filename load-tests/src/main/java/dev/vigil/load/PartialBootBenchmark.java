package dev.vigil.load;

import dev.vigil.agent.config.AgentConfig;
import dev.vigil.agent.delivery.Deliveries;
import dev.vigil.agent.delivery.EnrolCommand;
import dev.vigil.agent.delivery.Installer;
import dev.vigil.cli.DispatchClient;
import dev.vigil.cli.ReleaseUpload;
import dev.vigil.devstack.Devstack;
import dev.vigil.devstack.DevstackConfig;
import dev.vigil.devstack.Endpoints;
import dev.vigil.devstack.GuestDomain;
import dev.vigil.devstack.Ports;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import org.libvirt.Connect;
import org.libvirt.Domain;

/**
 * How soon a release's VM shows its first console line when it boots before its image has arrived, against the same
 * VM booting from the whole image downloaded first, in the same run on the real hypervisor (QEMU under TCG).
 *
 * <p>Usage: {@code load-tests/run PartialBootBenchmark [rounds=3] [image-MiB=1024]}. On one devstack: the packaged
 * dispatch service, a release whose image is a bootable disk of {@code image-MiB} (the test guest's kernel and
 * initramfs with SYSLINUX in its first 48 MiB, random data after), uploaded with the vendor's command line and
 * published; then {@code rounds} rounds, each enrolling two fresh hosts (a new state directory each) with the agent's
 * own enrolment: one with {@code VIGIL_AGENT_LAZY_BOOT=false} (the whole image is downloaded, then the VM starts), one
 * with the default lazy boot (the VM starts at once, reading through the agent's loopback server; the background pull
 * waits {@code VIGIL_AGENT_PULL_DELAY}, default 10 s). The order alternates between rounds. Measured: from the VM's
 * start (the install returning) to its first console line (the kernel's banner) and to the guest's init saying it
 * is up; bytes fetched from the vendor before the first line; from the enrolment command to the first line; and,
 * for lazy boots, until the whole image is verified and the disk moved onto it. Needs {@code
 * devstack/hypervisor/setup}.
 */
public final class PartialBootBenchmark {

    private static final String TEMPLATE = """
            <domain type='qemu'>
              <name>{{vm.name}}</name>
              <uuid>{{vm.uuid}}</uuid>
              <memory unit='MiB'>{{param.memoryMiB}}</memory>
              <vcpu>1</vcpu>
              <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
              <features><acpi/></features>
              <devices>
                <disk type='file' device='disk'><source file='{{vigil.disk}}'/><target dev='vda' bus='virtio'/></disk>
                <serial type='file'><source path='{{vigil.console}}'/><target port='0'/></serial>
              </devices>
            </domain>
            """;
    private static final String FIRST_LINE = "Linux version";
    private static final String GUEST_UP = "vigil-guest: up";
    private static final Duration BOOT_TIMEOUT = Duration.ofMinutes(3);

    private PartialBootBenchmark() {}

    /** One boot: its mode and its moments, in ms from the VM's start; bytes fetched before the first line. */
    private record Boot(
            boolean lazy, double firstLine, double guestUp, double enrolToFirstLine, long bytesBefore, double pulled) {}

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        long imageBytes = (args.length > 1 ? Long.parseLong(args[1]) : 1024) << 20;
        if (rounds < 1 || imageBytes < 2 * GuestDomain.BOOT_BYTES) {
            throw new IllegalArgumentException("rounds at least 1, image at least 96 MiB");
        }
        if (!GuestDomain.built()) {
            throw new IllegalStateException("no test guest: run devstack/hypervisor/setup (as root)");
        }
        new Connect(GuestDomain.URI).close();
        Path work = Files.createTempDirectory("vigil-partial-boot-");
        Path secrets = Files.createTempDirectory("vigil-partial-boot-keys-");
        try (Devstack stack = Devstack.start(DevstackConfig.forTests())) {
            Endpoints endpoints = stack.endpoints();
            try (DispatchApi api = DispatchApi.launch(endpoints, work, secrets)) {
                String product = api.product();
                Path image = GuestDomain.bootableImage(
                        work.resolve("image.raw"), imageBytes, "console=ttyS0 panic=0 vigil.scenario=idle", 1);
                long uploadStart = System.nanoTime();
                Map<String, Object> release = new LinkedHashMap<>();
                release.put("release", "1.0");
                release.put("channel", "beta");
                release.put("domainTemplate", TEMPLATE);
                release.put(
                        "parameters",
                        List.of(Map.of(
                                "name",
                                "memoryMiB",
                                "kind",
                                "INTEGER",
                                "defaultValue",
                                "256",
                                "min",
                                128,
                                "max",
                                1024)));
                release.put("notes", "The partial-boot benchmark's release");
                ReleaseUpload.Outcome upload = new ReleaseUpload(
                                new DispatchClient(api.base(), api.operatorToken()),
                                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8))
                        .upload(product, release, "raw", image, Duration.ofMinutes(10));
                if (!"VERIFIED".equals(upload.state())) {
                    throw new IllegalStateException("the release was not verified: " + upload);
                }
                api.publish(product, "1.0");
                String program = api.openProgram(product);
                System.out.printf(
                        Locale.ROOT,
                        "release: %d MiB image in %d chunks, uploaded and verified in %.1f s%n",
                        imageBytes >> 20,
                        upload.chunks(),
                        (System.nanoTime() - uploadStart) / 1e9);

                List<Boot> boots = new ArrayList<>();
                for (int round = 1; round <= rounds; round++) {
                    for (boolean lazy : round % 2 == 1 ? new boolean[] {false, true} : new boolean[] {true, false}) {
                        Boot boot = boot(api, endpoints, program, work, lazy, round, imageBytes);
                        boots.add(boot);
                        System.out.printf(
                                Locale.ROOT,
                                "round %d, %s: first console line %.0f ms after the VM started, guest up %.0f ms,"
                                        + " enrolment to first line %.0f ms, %.1f MiB fetched before the first line%s%n",
                                round,
                                lazy ? "partial image" : "local image",
                                boot.firstLine(),
                                boot.guestUp(),
                                boot.enrolToFirstLine(),
                                boot.bytesBefore() / 1048576.0,
                                lazy
                                        ? String.format(
                                                Locale.ROOT,
                                                "; whole image verified and the disk moved onto it"
                                                        + " %.1f s after the VM started",
                                                boot.pulled() / 1000)
                                        : "");
                    }
                }
                report(boots, imageBytes);
            }
        } finally {
            Devstack.deleteTree(work);
            Devstack.deleteTree(secrets);
        }
    }

    private static Boot boot(
            DispatchApi api, Endpoints endpoints, String program, Path work, boolean lazy, int round, long imageBytes)
            throws Exception {
        String hostId = "bench-boot-" + round + (lazy ? "-lazy-" : "-local-")
                + UUID.randomUUID().toString().substring(0, 8);
        Path state = Files.createDirectory(work.resolve(hostId));
        Map<String, String> values = new HashMap<>();
        values.put("VIGIL_AGENT_CONFIG_FILE", endpoints.agentConfigFile());
        values.put("VIGIL_AGENT_DISPATCH_URL", api.base());
        values.put("VIGIL_AGENT_STATE_DIR", state.toString());
        values.put("VIGIL_AGENT_HYPERVISOR_URI", GuestDomain.URI);
        values.put("VIGIL_AGENT_HOST_ID", hostId);
        values.put("VIGIL_AGENT_LAZY_BOOT", Boolean.toString(lazy));
        values.put("VIGIL_AGENT_IMAGE_PORT", Integer.toString(Ports.free()));
        AgentConfig config = AgentConfig.load(values);
        String token = api.enrol(program, "Bench User " + hostId);
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        Connect hypervisor = new Connect(GuestDomain.URI);
        try (Deliveries deliveries = new Deliveries(config, quiet, Duration.ofSeconds(1), Clock.systemUTC())) {
            long enrolled = System.nanoTime();
            Installer.Installation installed = EnrolCommand.run(
                    new String[] {token}, config, hypervisor, quiet, "benchmark", Clock.systemUTC(), deliveries);
            long started = System.nanoTime();
            Domain vm = hypervisor.domainLookupByUUIDString(installed.vmUuid());
            try {
                Path console = state.resolve("vms").resolve(installed.vmUuid()).resolve("console.log");
                long firstLine = awaitConsole(console, FIRST_LINE, started);
                // A local boot starts only once the whole image is here.
                long bytesBefore = lazy ? deliveries.fetchedBytes() : imageBytes;
                long guestUp = awaitConsole(console, GUEST_UP, started);
                double pulled = Double.NaN;
                if (lazy) {
                    List<String> failures = deliveries.await();
                    if (!failures.isEmpty()) {
                        throw new IllegalStateException("the pull failed: " + failures);
                    }
                    pulled = (System.nanoTime() - started) / 1e6;
                }
                return new Boot(
                        lazy,
                        (firstLine - started) / 1e6,
                        (guestUp - started) / 1e6,
                        (firstLine - enrolled) / 1e6,
                        bytesBefore,
                        pulled);
            } finally {
                if (vm.isActive() == 1) {
                    vm.destroy();
                }
                vm.undefine();
            }
        } finally {
            hypervisor.close();
            Devstack.deleteTree(state);
        }
    }

    /** When {@code text} first appeared on the console (polled every 5 ms). */
    private static long awaitConsole(Path console, String text, long started) throws Exception {
        long deadline = started + BOOT_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(console)
                    && Files.readString(console, StandardCharsets.ISO_8859_1).contains(text)) {
                return System.nanoTime();
            }
            Thread.sleep(5);
        }
        throw new IllegalStateException("no '" + text + "' on " + console + " within " + BOOT_TIMEOUT);
    }

    private static void report(List<Boot> boots, long imageBytes) {
        double[] localFirst = values(boots, false, Boot::firstLine);
        double[] lazyFirst = values(boots, true, Boot::firstLine);
        double[] localUp = values(boots, false, Boot::guestUp);
        double[] lazyUp = values(boots, true, Boot::guestUp);
        double[] localEnrol = values(boots, false, Boot::enrolToFirstLine);
        double[] lazyEnrol = values(boots, true, Boot::enrolToFirstLine);
        double[] lazyBytes = values(boots, true, b -> b.bytesBefore());
        double[] pulled = values(boots, true, Boot::pulled);
        System.out.println();
        System.out.println("| | local image (downloaded first) | partial image (lazy boot) | ratio |");
        System.out.println("|---|---|---|---|");
        row("VM start -> first console line, median ms", localFirst, lazyFirst);
        row("VM start -> guest's init up, median ms", localUp, lazyUp);
        row("enrolment -> first console line, median ms", localEnrol, lazyEnrol);
        double bytes = median(lazyBytes);
        System.out.printf(
                Locale.ROOT,
                "bytes fetched before the first console line (lazy boot), median: %.1f MiB of %d MiB = %.2f%% (max"
                        + " %.2f%%)%n",
                bytes / 1048576.0,
                imageBytes >> 20,
                100.0 * bytes / imageBytes,
                100.0 * Arrays.stream(lazyBytes).max().orElse(0) / imageBytes);
        System.out.printf(
                Locale.ROOT,
                "whole image verified and the VM's disk moved onto it: median %.1f s after the VM started%n",
                median(pulled) / 1000);
        double ratio = median(lazyFirst) / median(localFirst);
        boolean met = ratio <= 1.5 && bytes <= 0.10 * imageBytes;
        System.out.printf(
                Locale.ROOT,
                "target (first line from a partial image <= 1.5x from a local image, <= 10%% of the image fetched"
                        + " before it): %s (ratio %.2f)%n",
                met ? "met" : "NOT met",
                ratio);
    }

    private static void row(String what, double[] local, double[] lazy) {
        System.out.printf(
                Locale.ROOT,
                "| %s | %.0f (%.0f-%.0f) | %.0f (%.0f-%.0f) | %.2f |%n",
                what,
                median(local),
                min(local),
                max(local),
                median(lazy),
                min(lazy),
                max(lazy),
                median(lazy) / median(local));
    }

    private static double[] values(List<Boot> boots, boolean lazy, java.util.function.ToDoubleFunction<Boot> f) {
        return boots.stream()
                .filter(b -> b.lazy() == lazy)
                .mapToDouble(f)
                .sorted()
                .toArray();
    }

    private static double median(double[] sorted) {
        int n = sorted.length;
        return n == 0 ? Double.NaN : n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static double min(double[] sorted) {
        return sorted.length == 0 ? Double.NaN : sorted[0];
    }

    private static double max(double[] sorted) {
        return sorted.length == 0 ? Double.NaN : sorted[sorted.length - 1];
    }
}
