package dev.vigil.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.vigil.agent.delivery.Deliveries;
import dev.vigil.agent.delivery.Installer;
import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.devstack.GuestDomain;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.TopicCatalog;
import dev.vigil.schemas.agent.AgentEvent;
import dev.vigil.schemas.agent.Conformity;
import dev.vigil.schemas.agent.ConformityVerdict;
import dev.vigil.schemas.delivery.ImageChunker;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.libvirt.Connect;

/**
 * The agent compares an installed VM's image chain with the release's signed manifest: a clean install conforms,
 * the user's own writes show as the overlay's (expected), and one flipped byte in the master copy is found in the
 * chunk that holds it, on demand through the vendor's command as well.
 */
@QuarkusTest
@QuarkusTestResource(value = DevstackTestResource.class, restrictToAnnotatedClass = false)
class ConformityIT {

    static final int IMAGE_BYTES = 6 << 20;
    static final long FLIPPED = 4_500_000;

    @TempDir
    Path dir;

    @Test
    void aFlippedByteInTheMasterCopyIsFoundApartFromTheUsersOwnWrites() throws Exception {
        String product = Vendor.product();
        Path image = Images.raw(dir, "conform.raw", 61, IMAGE_BYTES);
        Vendor.publish(product, "1.0", image);
        AgentHost host = AgentHost.onTestHypervisor(dir.resolve("state"));
        Reports reports = new Reports();
        Connect hypervisor = new Connect("test:///default");
        try (Deliveries deliveries = host.deliveries()) {
            deliveries.reportTo(reports);
            Installer.Installation installed =
                    host.enroll(Enrolments.enrol(Enrolments.program(product, "beta"), "Lynn Conway"), hypervisor);
            int chunks = chunkCount(image);

            Conformity clean = deliveries.checkConformity(null).get(0);
            assertThat(clean.getVerdict()).isEqualTo(ConformityVerdict.CONFORMANT);
            assertThat(clean.getChunksChecked()).isEqualTo(chunks);
            assertThat(clean.getOverlayBytes()).isZero();

            // The user writes 64 KiB at 1 MiB: the overlay holds it, the master copy is untouched.
            GuestDomain.run(
                    "qemu-io", "-c", "write -P 0xab 1M 64k", installed.disk().toString());
            Conformity used = deliveries.checkConformity(installed.vmUuid()).get(0);
            assertThat(used.getVerdict()).isEqualTo(ConformityVerdict.USER_CHANGES_ONLY);
            assertThat(used.getOverlayBytes()).isEqualTo(65_536);
            assertThat(used.getOverlayExtents()).isEqualTo(1);
            assertThat(used.getDivergingChunks()).isEmpty();
            assertThat(used.getDetail()).contains("the user's overlay holds 0.1 MiB in 1 regions");

            // One byte of the master copy flips on this host.
            Path master =
                    host.state.resolve("images").resolve(product).resolve("1.0").resolve("master.raw");
            flip(master, FLIPPED);
            ImageChunker.Chunk damaged = Images.chunkHolding(image, FLIPPED);
            Conformity broken = deliveries.checkConformity(null).get(0);
            assertThat(broken.getVerdict()).isEqualTo(ConformityVerdict.MASTER_DIVERGES);
            assertThat(broken.getDivergingChunks()).containsExactly(damaged.offset());
            assertThat(broken.getDivergingBytes()).isEqualTo(damaged.length());
            assertThat(broken.getOverlayBytes()).isEqualTo(65_536);
            assertThat(broken.getDetail()).contains("chunks at offsets [" + damaged.offset() + "]");
            assertThat(reports.conformity())
                    .extracting(Conformity::getVerdict)
                    .containsExactly(
                            ConformityVerdict.CONFORMANT,
                            ConformityVerdict.USER_CHANGES_ONLY,
                            ConformityVerdict.MASTER_DIVERGES);

            // On demand: the vendor's command, answered by the running agent and published as an event.
            try (RunningAgent agent = RunningAgent.start(host.id, host.state, host.settings())) {
                CommandsIT.issue(
                                "CHECK_CONFORMITY",
                                Map.of("hostId", host.id, "vmUuid", installed.vmUuid()),
                                Map.of(),
                                null)
                        .then()
                        .statusCode(201);
                JsonPath commands = await().atMost(Duration.ofSeconds(60))
                        .pollInterval(Duration.ofMillis(200))
                        .until(
                                () -> Staff.analyst()
                                        .queryParam("host", host.id)
                                        .get("/api/v1/commands")
                                        .then()
                                        .statusCode(200)
                                        .extract()
                                        .jsonPath(),
                                j -> !j.getList(
                                                "findAll { it.action == 'CHECK_CONFORMITY' && it.state == 'SUCCEEDED' }")
                                        .isEmpty());
                assertThat(commands.getString("find { it.action == 'CHECK_CONFORMITY' }.message"))
                        .isEqualTo("checked 1 VMs: [1.0 MASTER_DIVERGES]");
                List<Conformity> published = Topics.read(
                                TopicCatalog.AGENT_EVENTS,
                                r -> installed.vmUuid().equals(r.key()) && payload(r.value()) instanceof Conformity,
                                1)
                        .stream()
                        .map(r -> (Conformity) payload(r.value()))
                        .toList();
                assertThat(published.get(0).getVerdict()).isEqualTo(ConformityVerdict.MASTER_DIVERGES);
                assertThat(published.get(0).getDivergingChunks()).containsExactly(damaged.offset());
            }
            hypervisor.domainLookupByUUIDString(installed.vmUuid()).destroy();
        } finally {
            hypervisor.close();
        }
    }

    private static Object payload(byte[] value) {
        return EventCodec.of(AgentEvent.class).decode(value).getPayload();
    }

    private static int chunkCount(Path image) throws Exception {
        try (InputStream in = Files.newInputStream(image)) {
            return ImageChunker.chunks(in).size();
        }
    }

    private static void flip(Path file, long offset) throws Exception {
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r-----"));
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(offset);
            int b = raf.read();
            raf.seek(offset);
            raf.write(b ^ 0x20);
        }
    }
}
