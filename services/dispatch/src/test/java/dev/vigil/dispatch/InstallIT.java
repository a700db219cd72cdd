package dev.vigil.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vigil.agent.delivery.Deliveries;
import dev.vigil.agent.delivery.DeliveryException;
import dev.vigil.agent.delivery.Installer;
import dev.vigil.agent.delivery.RecordKeyFile;
import dev.vigil.agent.delivery.Reporting;
import dev.vigil.devstack.Devstack;
import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.schemas.RecordSeals;
import dev.vigil.schemas.agent.Delivery;
import dev.vigil.schemas.agent.DeliveryStep;
import dev.vigil.schemas.delivery.ImageChunker;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.DomainInfo;

/**
 * A user's one-click install, end to end: the vendor publishes with the vigil command line, a person enrols on the
 * programme's page, and the real agent code redeems the token, verifies the signed metadata and every chunk, puts the
 * master image together, and runs the VM on libvirt's test hypervisor from a qemu-img overlay.
 */
@QuarkusTest
@QuarkusTestResource(DevstackTestResource.class)
@QuarkusTestResource(TestKeys.class)
class InstallIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @BeforeAll
    static void qemuImg() {
        boolean present = Files.isExecutable(Path.of("/usr/bin/qemu-img"));
        if ("1".equals(System.getenv("VIGIL_REQUIRE_HYPERVISOR"))) {
            assertThat(present)
                    .as("qemu-img (devstack/hypervisor/setup installs it)")
                    .isTrue();
        }
        assumeTrue(present, "qemu-img is missing: run devstack/hypervisor/setup");
    }

    @Test
    void enrollingInstallsTheChannelsReleaseAndRunsItsVmOverTheVerifiedMaster() throws Exception {
        String product = Vendor.product();
        Path image = Images.raw(dir, "master.raw", 41, 3 * 1024 * 1024 + 25 * 512);
        Vendor.publish(product, "1.0", image);
        String token = Enrolments.enrol(Enrolments.program(product, "beta"), "Grace Hopper");
        AgentHost host = AgentHost.onTestHypervisor(dir.resolve("state"));

        Installer.Installation installed;
        Connect hypervisor = new Connect("test:///default");
        try {
            installed = host.enroll(token, hypervisor);
            // The agent kept the record key it seals its records with, readable by it alone.
            RecordKeyFile keyFile = new RecordKeyFile(host.state, "acme", host.id);
            assertThat(keyFile.check().key())
                    .isEqualTo(Devstack.shared()
                            .endpoints()
                            .recordKeys()
                            .hostKey("acme", host.id)
                            .key());
            assertThat(Files.getPosixFilePermissions(host.state.resolve(RecordSeals.AGENT_KEY_FILE)))
                    .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);

            Domain vm = hypervisor.domainLookupByUUIDString(installed.vmUuid());
            assertThat(vm.getInfo().state).isEqualTo(DomainInfo.DomainState.VIR_DOMAIN_RUNNING);
            assertThat(vm.getXMLDesc(0))
                    .contains("<source file='" + installed.disk() + "'")
                    .contains(host.state.resolve("vms").resolve(installed.vmUuid()) + "/console.log")
                    .contains("<memory unit='KiB'>1048576</memory>");
            // Installing what is installed changes nothing.
            assertThat(host.install(null, hypervisor)).isEqualTo(installed);
            vm.destroy();
            vm.undefine();
        } finally {
            hypervisor.close();
        }
        assertThat(host.printed())
                .contains("enrolled in " + product + " beta; license ")
                .contains("downloading " + product + " 1.0:")
                .contains("(100%)")
                .contains("installed " + product + " 1.0 as VM ")
                .contains(product + " 1.0 is installed as VM ");

        Path master =
                host.state.resolve("images").resolve(product).resolve("1.0").resolve("master.raw");
        assertThat(master).hasSameBinaryContentAs(image);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(master)))
                .isEqualTo("r--r-----");
        assertThat(master.resolveSibling("master.raw.part")).doesNotExist();
        assertThat(master.resolveSibling("master.raw.chunks")).doesNotExist();

        JsonNode overlay = qemuImgInfo(installed.disk());
        assertThat(overlay.path("format").asText()).isEqualTo("qcow2");
        assertThat(overlay.path("backing-filename").asText()).isEqualTo(master.toString());
        assertThat(overlay.path("virtual-size").asLong()).isEqualTo(Files.size(image));

        Path token0 = host.state.resolve("delivery").resolve("host-token");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(token0)))
                .isEqualTo("rw-------");
        Enrolments.asHost(Files.readString(token0).strip())
                .get("/api/v1/agent/licenses")
                .then()
                .statusCode(200);
        assertThat(host.state.resolve("delivery").resolve("trust")).isDirectoryContaining("glob:**root*");
    }

    @Test
    void aTamperedChunkIsRefusedAndTheDownloadResumesOnceTheStoreServesTheSignedBytes() throws Exception {
        String product = Vendor.product();
        Path image = Images.raw(dir, "tampered.raw", 42, 5 * 1024 * 1024);
        Vendor.publish(product, "1.0", image);
        List<ImageChunker.Chunk> chunks;
        try (InputStream in = Files.newInputStream(image)) {
            chunks = ImageChunker.chunks(in);
        }
        assertThat(chunks).hasSizeGreaterThan(2);
        ImageChunker.Chunk victim = chunks.get(chunks.size() - 1);
        byte[] genuine = Images.chunk(image, victim);
        byte[] forged = genuine.clone();
        forged[7] ^= 1;
        Images.storeChunk(victim, forged);

        String token = Enrolments.enrol(Enrolments.program(product, "beta"), "Alan Turing");
        AgentHost host = AgentHost.onTestHypervisor(dir.resolve("state"));
        Connect hypervisor = new Connect("test:///default");
        try {
            int before = hypervisor.numOfDefinedDomains() + hypervisor.numOfDomains();
            assertThatThrownBy(() -> host.enroll(token, hypervisor))
                    .isInstanceOf(DeliveryException.class)
                    .hasMessageContaining("offset " + victim.offset())
                    .hasMessageContaining("does not match the signed manifest")
                    .satisfies(e ->
                            assertThat(((DeliveryException) e).kind()).isEqualTo(DeliveryException.Kind.UNTRUSTED));
            assertThat(hypervisor.numOfDefinedDomains() + hypervisor.numOfDomains())
                    .isEqualTo(before);
            Path release = host.state.resolve("images").resolve(product).resolve("1.0");
            assertThat(release.resolve("master.raw")).doesNotExist();
            assertThat(release.resolve("master.raw.chunks")).exists();
            assertThat(host.state.resolve("vms")).doesNotExist();

            // The vendor repairs its store; the same host installs, fetching only what it did not verify before.
            Images.storeChunk(victim, genuine);
            Installer.Installation installed = host.install(null, hypervisor);
            assertThat(release.resolve("master.raw")).hasSameBinaryContentAs(image);
            assertThat(host.printed())
                    .containsPattern(
                            "resuming " + product + " 1\\.0: [1-9][0-9.]* of 5\\.0 MiB are here and" + " verified");
            Domain vm = hypervisor.domainLookupByUUIDString(installed.vmUuid());
            assertThat(vm.isActive()).isEqualTo(1);
            vm.destroy();
            vm.undefine();
        } finally {
            hypervisor.close();
        }
    }

    @Test
    void aTokenNamingAnotherRootIsRefusedBeforeAnythingIsKept() throws Exception {
        String product = Vendor.product();
        Vendor.publish(product, "1.0", Images.raw(dir, "pinned.raw", 45, 1024 * 1024));
        String token = Enrolments.enrol(Enrolments.program(product, "beta"), "Radia Perlman");
        // The token as someone between the user and the vendor would rewrite it to pin their own root: dispatch bound
        // the
        // secret to the root it was issued with, so redemption fails and the host keeps nothing.
        String prefix = token.substring(token.lastIndexOf('.') + 1);
        String other = token.substring(0, token.lastIndexOf('.') + 1)
                + (prefix.charAt(0) == '0' ? '1' : '0')
                + prefix.substring(1);
        AgentHost host = AgentHost.onTestHypervisor(dir.resolve("state"));

        Connect hypervisor = new Connect("test:///default");
        try {
            assertThatThrownBy(() -> host.enroll(other, hypervisor))
                    .isInstanceOf(DeliveryException.class)
                    .hasMessageContaining("root part is not the one it was issued with")
                    .satisfies(
                            e -> assertThat(((DeliveryException) e).kind()).isEqualTo(DeliveryException.Kind.REFUSED));
        } finally {
            hypervisor.close();
        }
        assertThat(host.state.resolve("delivery").resolve("host-token")).doesNotExist();
        assertThat(host.state.resolve("delivery").resolve("trust").resolve("root.bin"))
                .doesNotExist();
        assertThat(host.state.resolve("images")).doesNotExist();
    }

    @Test
    void aDefinitionThatWouldReachTheHostIsRefusedAndNothingRuns() throws Exception {
        String product = Vendor.product();
        Path image = Images.raw(dir, "emulator.raw", 43, 1024 * 1024);
        Map<String, Object> release = Vendor.release("1.0", "beta");
        release.put(
                "domainTemplate",
                Vendor.TEMPLATE.replace("<devices>", "<devices><emulator>/usr/local/bin/anything</emulator>"));
        Vendor.publish(product, image, release);
        String token = Enrolments.enrol(Enrolments.program(product, "beta"), "Edsger Dijkstra");
        AgentHost host = AgentHost.onTestHypervisor(dir.resolve("state"));

        Connect hypervisor = new Connect("test:///default");
        try {
            int before = hypervisor.numOfDefinedDomains() + hypervisor.numOfDomains();
            assertThatThrownBy(() -> host.enroll(token, hypervisor))
                    .isInstanceOf(DeliveryException.class)
                    .hasMessageContaining("<emulator>")
                    .hasMessageContaining("Nothing was installed");
            assertThat(hypervisor.numOfDefinedDomains() + hypervisor.numOfDomains())
                    .isEqualTo(before);
        } finally {
            hypervisor.close();
        }
        assertThat(host.state.resolve("vms")).doesNotExist();
        assertThat(host.state.resolve("delivery").resolve("installed")).doesNotExist();
    }

    @Test
    void theVendorsInterruptStopsAnInstallBetweenTwoChunksAndNothingRuns() throws Exception {
        String product = Vendor.product();
        Path image = Images.raw(dir, "interrupted.raw", 44, 8 * 1024 * 1024);
        Vendor.publish(product, "1.0", image);
        String token = Enrolments.enrol(Enrolments.program(product, "beta"), "Donald Knuth");
        AgentHost host = AgentHost.onTestHypervisor(dir.resolve("state"));
        // The download's first progress report holds it until the interrupt is waiting for it.
        CountDownLatch downloading = new CountDownLatch(1);
        CountDownLatch goOn = new CountDownLatch(1);
        Reporting holding = new Reporting() {
            @Override
            public String report(String vmUuid, String vmName, SpecificRecord payload) {
                if (payload instanceof Delivery d && d.getStep() == DeliveryStep.DOWNLOADING) {
                    downloading.countDown();
                    try {
                        goOn.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return null;
            }

            @Override
            public void settle(Duration atMost) {}
        };

        Connect hypervisor = new Connect("test:///default");
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try (Deliveries deliveries = host.deliveries()) {
            deliveries.reportTo(holding);
            int before = hypervisor.numOfDefinedDomains() + hypervisor.numOfDomains();
            Future<Installer.Installation> install = threads.submit(() -> host.enroll(token, hypervisor, deliveries));
            assertThat(downloading.await(60, TimeUnit.SECONDS)).isTrue();
            Thread[] interrupting = new Thread[1];
            Future<String> interrupt = threads.submit(() -> {
                interrupting[0] = Thread.currentThread();
                return deliveries.interrupt(hypervisor, null, product, "the beta corrupts user data");
            });
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> interrupting[0] != null && interrupting[0].getState() == Thread.State.TIMED_WAITING);
            goOn.countDown();

            assertThat(interrupt.get(60, TimeUnit.SECONDS))
                    .isEqualTo("stopped the installation of " + product
                            + " before its VM started: the beta corrupts user data");
            assertThatThrownBy(() -> install.get(60, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(DeliveryException.class)
                    .hasMessageContaining("interrupted by the vendor: the beta corrupts user data");
            assertThat(hypervisor.numOfDefinedDomains() + hypervisor.numOfDomains())
                    .isEqualTo(before);
            // What arrived stays verified on disk: an install later resumes after it.
            Path master =
                    host.state.resolve("images").resolve(product).resolve("1.0").resolve("master.raw");
            assertThat(master).doesNotExist();
            assertThat(Files.size(master.resolveSibling("master.raw.part"))).isPositive();
            assertThat(host.state.resolve("delivery").resolve("installed")).doesNotExist();
        } finally {
            threads.shutdownNow();
            hypervisor.close();
        }
    }

    @Test
    void theAgentInstallsWhatDispatchTellsItToOnceTheVendorPublishes() throws Exception {
        String product = Vendor.product();
        String token = Enrolments.enrol(Enrolments.program(product, "beta"), "Barbara Liskov");
        AgentHost host = AgentHost.onTestHypervisor(dir.resolve("state"));
        Connect hypervisor = new Connect("test:///default");
        try {
            assertThat(host.enroll(token, hypervisor)).isNull();
        } finally {
            hypervisor.close();
        }
        assertThat(host.printed()).contains("the channel offers no release yet");

        Vendor.publish(product, "1.0", Images.raw(dir, "later.raw", 44, 2 * 1024 * 1024));
        try (RunningAgent agent = RunningAgent.start(host.id, host.state, host.settings())) {
            String command = CommandsIT.issue("INSTALL", CommandsIT.target(host.id, null), Map.of(), null)
                    .then()
                    .statusCode(201)
                    .extract()
                    .path("commands[0].id");
            JsonPath done = await().atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(200))
                    .until(
                            () -> Staff.analyst()
                                    .get("/api/v1/commands/" + command)
                                    .then()
                                    .statusCode(200)
                                    .extract()
                                    .jsonPath(),
                            j -> List.of("SUCCEEDED", "FAILED", "EXPIRED").contains(j.getString("state")));
            assertThat(done.getString("state")).as(done.getString("message")).isEqualTo("SUCCEEDED");
            assertThat(done.getString("message")).startsWith("installed " + product + " 1.0 as VM ");
            String uuid = done.getString("message").replaceAll(".*\\(([0-9a-f-]{36})\\)$", "$1");
            Domain vm = agent.hypervisor.domainLookupByUUIDString(uuid);
            assertThat(vm.isActive()).isEqualTo(1);
            vm.destroy();
            vm.undefine();
        }
    }

    private static JsonNode qemuImgInfo(Path disk) throws Exception {
        Process process = new ProcessBuilder("qemu-img", "info", "--output=json", "-U", disk.toString())
                .redirectErrorStream(true)
                .start();
        byte[] output = process.getInputStream().readAllBytes();
        assertThat(process.waitFor())
                .as(new String(output, StandardCharsets.UTF_8))
                .isZero();
        return JSON.readTree(output);
    }
}
