package dev.vigil.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.vigil.agent.capture.QemuImg;
import dev.vigil.agent.delivery.Deliveries;
import dev.vigil.agent.delivery.DeliveryException;
import dev.vigil.agent.delivery.Installer;
import dev.vigil.devstack.Devstack;
import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.devstack.Endpoints;
import dev.vigil.devstack.GuestDomain;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.TopicCatalog;
import dev.vigil.schemas.agent.AgentEvent;
import dev.vigil.schemas.agent.ArtifactManifest;
import dev.vigil.schemas.agent.Conformity;
import dev.vigil.schemas.agent.ConformityVerdict;
import dev.vigil.schemas.agent.Crash;
import dev.vigil.schemas.agent.Delivery;
import dev.vigil.schemas.agent.DeliveryStep;
import dev.vigil.schemas.common.ArtifactKind;
import dev.vigil.schemas.delivery.ImageChunker;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.libvirt.DomainInfo;
import org.libvirt.LibvirtException;

/**
 * Updates of an installed VM on the real hypervisor (QEMU under TCG): the new release runs with the user's writes
 * carried over; one that crashes within its probation is rolled back by the running agent on its own, after its crash
 * capture; one that stays healthy
 * is confirmed, its image chain checked against the signed manifest, and the vendor can still roll it back.
 */
@QuarkusTest
@QuarkusTestResource(value = DevstackTestResource.class, restrictToAnnotatedClass = false)
class UpdateIT {

    static final long IMAGE_BYTES = 64L << 20;
    /** The user's write under the first release: block 14000 of 4 KiB, four blocks of byte 171. */
    static final String USER_WRITE = "vigil.write=14000:4:171";

    @TempDir
    Path dir;

    private final RealHypervisor hypervisor = new RealHypervisor();

    @BeforeAll
    static void realHypervisor() {
        RealHypervisor.assumeReady();
    }

    @AfterEach
    void removeVms() throws LibvirtException {
        hypervisor.close();
    }

    @Test
    void anUpdateThatCrashesOnProbationRollsBackByItselfAfterTheCrashsEvidenceIsTaken() throws Exception {
        String product = Vendor.product();
        Path first = release(product, "1.0", "vigil.scenario=idle " + USER_WRITE, 21);
        String token = Enrolments.enrol(Enrolments.program(product, "beta"), "Grace Hopper");
        Endpoints endpoints = Devstack.shared().endpoints();
        AgentHost host = host(
                "PT2M",
                Map.of(
                        "VIGIL_AGENT_S3_ENDPOINT", endpoints.s3Endpoint(),
                        "VIGIL_AGENT_S3_ACCESS_KEY", endpoints.s3AccessKey(),
                        "VIGIL_AGENT_S3_SECRET_KEY", endpoints.s3SecretKey()));
        Installer.Installation installed = host.enroll(token, hypervisor.connect());
        String vm = installed.vmUuid();
        hypervisor.removeAfter(vm);
        Path console = console(host, vm);
        hypervisor.awaitConsole(console, "vigil-guest: wrote 4 blocks", Duration.ofSeconds(90), host, vm);
        // 2.0 panics two seconds after its boot.
        release(product, "2.0", "vigil.scenario=panic vigil.delay=2", 22);

        try (RunningAgent agent = RunningAgent.start(host.id, host.state, host.settings())) {
            CommandsIT.issue("UPDATE", Map.of("hostId", host.id), Map.of("product", product, "release", "2.0"), null)
                    .then()
                    .statusCode(201);

            // The agent answers the update, then rolls the VM back on its own once 2.0 has crashed.
            await().atMost(Duration.ofSeconds(180))
                    .pollInterval(Duration.ofSeconds(1))
                    .until(() -> record(host, vm).contains("release=1.0")
                            && Files.notExists(
                                    host.state.resolve("vms").resolve(vm).resolve("rollback")));
            String answer = await().atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(500))
                    .until(
                            () -> Staff.analyst()
                                    .queryParam("host", host.id)
                                    .get("/api/v1/commands")
                                    .then()
                                    .statusCode(200)
                                    .extract()
                                    .jsonPath()
                                    .getString("find { it.action == 'UPDATE' && it.state == 'SUCCEEDED' }.message"),
                            m -> m != null);
            assertThat(answer).startsWith("updated " + product + " from 1.0 to 2.0 on VM " + installed.vmName());
            Delivery rolledBack = (Delivery) firstEvent(
                            vm, e -> e.getPayload() instanceof Delivery d && d.getStep() == DeliveryStep.ROLLED_BACK)
                    .getPayload();
            assertThat(rolledBack.getRelease()).isEqualTo("1.0");
            assertThat(rolledBack.getPreviousRelease()).isEqualTo("2.0");
            assertThat(rolledBack.getDetail()).startsWith("the updated VM failed within its probation: ");
            // The crash's evidence is of 2.0, taken before the rollback changed the VM.
            String incident = firstEvent(vm, e -> e.getPayload() instanceof Crash)
                    .getEnvelope()
                    .getEventId();
            ArtifactManifest consoleText = Topics.read(
                            TopicCatalog.AGENT_ARTIFACTS,
                            r -> {
                                ArtifactManifest m =
                                        EventCodec.of(ArtifactManifest.class).decode(r.value());
                                return incident.equals(String.valueOf(m.getIncidentId()))
                                        && m.getKind() == ArtifactKind.CONSOLE_TEXT;
                            },
                            1)
                    .stream()
                    .map(r -> EventCodec.of(ArtifactManifest.class).decode(r.value()))
                    .findFirst()
                    .orElseThrow();
            assertThat(new String(
                            Images.object(consoleText.getBucket(), consoleText.getObjectKey()),
                            StandardCharsets.ISO_8859_1))
                    .contains("vigil-guest: up, scenario=panic")
                    .contains("vigil-guest: panicking");
        }

        // Back on the user's own disk over the 1.0 master; the 2.0 disk is gone.
        assertThat(record(host, vm)).doesNotContain("probationUntil");
        assertThat(hypervisor.vm(vm).getXMLDesc(0)).contains(installed.disk().toString());
        assertThat(installed.disk().resolveSibling("disk-2.0.qcow2")).doesNotExist();
        hypervisor.awaitConsole(console, "vigil-guest: up, scenario=idle", Duration.ofSeconds(90), host, vm);
        assertThat(hypervisor.vm(vm).getInfo().state).isEqualTo(DomainInfo.DomainState.VIR_DOMAIN_RUNNING);
        hypervisor.vm(vm).destroy();
        assertThat(flat(installed.disk())).hasBinaryContent(withUserWrite(first));
    }

    private static AgentEvent event(byte[] value) {
        return EventCodec.of(AgentEvent.class).decode(value);
    }

    private static AgentEvent firstEvent(String vm, java.util.function.Predicate<AgentEvent> wanted) {
        return event(Topics.read(TopicCatalog.AGENT_EVENTS, r -> vm.equals(r.key()) && wanted.test(event(r.value())), 1)
                .get(0)
                .value());
    }

    @Test
    void aHealthyUpdateKeepsTheUsersWritesIsConfirmedAndTheVendorCanStillRollItBack() throws Exception {
        String product = Vendor.product();
        Path first = release(product, "1.0", "vigil.scenario=idle " + USER_WRITE, 31);
        String token = Enrolments.enrol(Enrolments.program(product, "beta"), "Margaret Hamilton");
        AgentHost host = host("PT8S");
        Reports reports = new Reports();

        try (Deliveries deliveries = host.deliveries()) {
            deliveries.reportTo(reports);
            Installer.Installation installed = host.enroll(token, hypervisor.connect(), deliveries);
            String vm = installed.vmUuid();
            hypervisor.removeAfter(vm);
            Path console = console(host, vm);
            hypervisor.awaitConsole(console, "vigil-guest: wrote 4 blocks", Duration.ofSeconds(90), host, vm);
            Path second = release(product, "2.0", "vigil.scenario=idle", 32);

            deliveries.updates().update(hypervisor.connect(), product, "2.0", false);
            // A second update waits for the first's probation.
            assertThatThrownBy(() -> deliveries.updates().update(hypervisor.connect(), product, "1.0", false))
                    .isInstanceOf(DeliveryException.class)
                    .hasMessageContaining("still on probation after its update to 2.0");

            // The new master's download was reported at every tenth, up to all of it.
            List<Delivery> downloads = reports.steps().stream()
                    .filter(d -> d.getStep() == DeliveryStep.DOWNLOADING
                            && d.getRelease().equals("2.0"))
                    .toList();
            assertThat(downloads).hasSizeGreaterThanOrEqualTo(5);
            assertThat(downloads)
                    .extracting(Delivery::getBytesDone)
                    .isSorted()
                    .last()
                    .isEqualTo(downloads.get(0).getBytesTotal());
            Delivery confirmed = await().atMost(Duration.ofSeconds(60))
                    .until(() -> reports.last(DeliveryStep.UPDATE_CONFIRMED), d -> d != null);
            assertThat(confirmed.getRelease()).isEqualTo("2.0");
            assertThat(confirmed.getPreviousRelease()).isEqualTo("1.0");
            Path updatedDisk = installed.disk().resolveSibling("disk-2.0.qcow2");
            Path master2 =
                    host.state.resolve("images").resolve(product).resolve("2.0").resolve("master.raw");
            assertThat(record(host, vm))
                    .contains("release=2.0")
                    .contains("disk=" + updatedDisk)
                    .doesNotContain("probationUntil");
            assertThat(hypervisor.vm(vm).getXMLDesc(0)).contains(updatedDisk.toString());
            assertThat(hypervisor.vm(vm).getInfo().state).isEqualTo(DomainInfo.DomainState.VIR_DOMAIN_RUNNING);
            assertThat(new String(QemuImg.run("info", "-U", updatedDisk.toString()), StandardCharsets.UTF_8))
                    .contains("backing file: " + master2);
            // The new release under the user's write from the old one.
            assertThat(flat(updatedDisk)).hasBinaryContent(withUserWrite(second));

            // The running VM's image chain against the signed 2.0 manifest: the overlay holds the user's 16 KiB
            // and nothing more (subclusters: no copy of the old master around it); then a byte of the master copy
            // flips on this host.
            Conformity used = deliveries.checkConformity(vm).get(0);
            assertThat(used.getVerdict()).isEqualTo(ConformityVerdict.USER_CHANGES_ONLY);
            assertThat(used.getOverlayBytes()).isEqualTo(4 * 4096);
            assertThat(used.getOverlayExtents()).isEqualTo(1);
            ImageChunker.Chunk damaged = Images.chunkHolding(second, 40_000_000);
            Files.setPosixFilePermissions(master2, PosixFilePermissions.fromString("rw-r-----"));
            try (RandomAccessFile file = new RandomAccessFile(master2.toFile(), "rw")) {
                file.seek(40_000_000);
                int b = file.read();
                file.seek(40_000_000);
                file.write(b ^ 1);
            }
            Conformity broken = deliveries.checkConformity(vm).get(0);
            assertThat(broken.getVerdict()).isEqualTo(ConformityVerdict.MASTER_DIVERGES);
            assertThat(broken.getDivergingChunks()).containsExactly(damaged.offset());

            // The vendor halts the rollout: the VM goes back to 1.0 as the user left it.
            String back = deliveries
                    .updates()
                    .rollBack(hypervisor.connect(), product, "1.0", "2.0", "the vendor halted rollout r-1");

            assertThat(back).contains("back from " + product + " 2.0 to 1.0: the vendor halted rollout r-1");
            assertThat(reports.last(DeliveryStep.ROLLED_BACK).getDetail()).isEqualTo("the vendor halted rollout r-1");
            assertThat(record(host, vm)).contains("release=1.0");
            assertThat(updatedDisk).doesNotExist();
            assertThat(hypervisor.vm(vm).getXMLDesc(0))
                    .contains(installed.disk().toString());
            hypervisor.awaitConsole(console, "vigil-guest: up", Duration.ofSeconds(90), host, vm);
            hypervisor.vm(vm).destroy();
            assertThat(flat(installed.disk())).hasBinaryContent(withUserWrite(first));
            // Nothing is left to go back to.
            assertThatThrownBy(() -> deliveries.updates().rollBack(hypervisor.connect(), product, "0.9", null, "again"))
                    .isInstanceOf(DeliveryException.class)
                    .hasMessageContaining("has no release to go back to");
        }
    }

    /** Publishes a bootable release whose guest runs with {@code cmdline}; returns its image. */
    private Path release(String product, String version, String cmdline, int seed) throws Exception {
        Path image = GuestDomain.bootableImage(
                dir.resolve(version + ".raw"), IMAGE_BYTES, "console=ttyS0 panic=0 " + cmdline, seed);
        Vendor.publish(product, image, RealHypervisor.release(version));
        return image;
    }

    private AgentHost host(String probation) throws Exception {
        return host(probation, Map.of());
    }

    private AgentHost host(String probation, Map<String, String> more) throws Exception {
        Map<String, String> settings = new HashMap<>(more);
        settings.put("VIGIL_AGENT_LAZY_BOOT", "false");
        settings.put("VIGIL_AGENT_UPDATE_WINDOW", probation);
        // The test guest does not answer ACPI: it is stopped hard after this.
        settings.put("VIGIL_AGENT_SHUTDOWN_TIMEOUT", "PT1S");
        return RealHypervisor.host(dir.resolve("state"), settings);
    }

    private static Path console(AgentHost host, String vm) {
        return host.state.resolve("vms").resolve(vm).resolve("console.log");
    }

    private static String record(AgentHost host, String vm) throws Exception {
        return Files.readString(
                host.state.resolve("delivery").resolve("installed").resolve(vm + ".properties"));
    }

    /** The disk as the guest sees it. */
    private Path flat(Path disk) throws Exception {
        Path flat = dir.resolve("flat-" + System.nanoTime() + ".raw");
        GuestDomain.run("qemu-img", "convert", "-U", "-O", "raw", disk.toString(), flat.toString());
        return flat;
    }

    private static byte[] withUserWrite(Path image) throws Exception {
        byte[] expected = Files.readAllBytes(image);
        Arrays.fill(expected, 14_000 * 4096, 14_004 * 4096, (byte) 171);
        return expected;
    }
}
