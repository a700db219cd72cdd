package dev.vigil.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.vigil.agent.delivery.Deliveries;
import dev.vigil.agent.delivery.DeliveryException;
import dev.vigil.agent.delivery.Installer;
import dev.vigil.agent.delivery.RecordKeyFile;
import dev.vigil.devstack.Devstack;
import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.schemas.CommandSignatures;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.RecordSeals;
import dev.vigil.schemas.delivery.License;
import dev.vigil.schemas.delivery.MetadataSigning;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.libvirt.Connect;
import org.libvirt.Domain;

/**
 * The agent enforcing the vendor's licenses on what it installed (libvirt's test hypervisor): features reach the
 * guest's firmware configuration, a revocation stops the VM at once and refuses another install, a lease is renewed
 * online once half gone, and without the vendor a VM runs through its license's grace period and no further.
 */
@QuarkusTest
@QuarkusTestResource(value = DevstackTestResource.class, restrictToAnnotatedClass = false)
class AgentLicenseIT {

    @TempDir
    Path dir;

    @Test
    void aRevokedLicenseStopsTheRunningVmAtOnceAndAnotherInstallIsRefused() throws Exception {
        String product = Vendor.product();
        Vendor.publish(product, "1.0", Images.raw(dir, "licensed.raw", 51, 1024 * 1024));
        AgentHost host = AgentHost.onTestHypervisor(dir.resolve("state"));
        // The test hypervisor's state lives while a connection to it is open.
        Connect hypervisor = new Connect("test:///default");
        try {
            Installer.Installation installed =
                    host.enroll(Enrolments.enrol(Enrolments.program(product, "beta"), "Ada Lovelace"), hypervisor);
            assertThat(hypervisor.domainLookupByUUIDString(installed.vmUuid()).getXMLDesc(0))
                    .contains("<sysinfo type='fwcfg'>")
                    .containsPattern("<entry name='opt/dev.vigil/license'>product=" + product
                            + "\\s+license=[0-9a-f-]{36}\\s+features=beta telemetry\\s+validUntil=");
            License license = held(host);

            try (RunningAgent agent = RunningAgent.start(host.id, host.state, host.settings())) {
                Domain vm = agent.hypervisor.domainLookupByUUIDString(installed.vmUuid());
                assertThat(vm.isActive()).isEqualTo(1);
                Staff.operator()
                        .contentType("application/json")
                        .body(Map.of("reason", "the beta ended for this tester"))
                        .post("/api/v1/licenses/" + license.getLicenseId() + "/revoke")
                        .then()
                        .statusCode(200);

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
                                j -> !j.getList("findAll { it.action == 'RENEW_LICENSE' && it.state == 'SUCCEEDED' }")
                                        .isEmpty());
                assertThat(commands.getString(
                                "find { it.action == 'RENEW_LICENSE' && it.state == 'SUCCEEDED' }.message"))
                        .contains("license " + license.getLicenseId() + " of " + product + " is REVOKED")
                        .contains("stopped VM " + installed.vmName())
                        .contains("the beta ended for this tester");
                assertThat(vm.isActive()).isZero();
                assertThat(vm.getAutostart()).isFalse();
            }

            assertThatThrownBy(() -> host.install(null, hypervisor))
                    .isInstanceOf(DeliveryException.class)
                    .hasMessageContaining("was revoked by the vendor (the beta ended for this tester)");
            hypervisor.domainLookupByUUIDString(installed.vmUuid()).undefine();
        } finally {
            hypervisor.close();
        }
    }

    @Test
    void aLeaseHalfGoneIsRenewedOnlineAndTheVmKeepsRunning() throws Exception {
        String product = Vendor.product();
        Vendor.publish(product, "1.0", Images.raw(dir, "renewed.raw", 52, 1024 * 1024));
        AgentHost host = AgentHost.onTestHypervisor(dir.resolve("state"));
        Connect hypervisor = new Connect("test:///default");
        try (Deliveries deliveries = host.deliveries()) {
            Installer.Installation installed =
                    host.enroll(Enrolments.enrol(Enrolments.program(product, "beta"), "Edith Clarke"), hypervisor);
            License before = held(host);
            // A check early in the lease changes nothing.
            assertThat(deliveries
                            .guard()
                            .enforce(hypervisor, before.getIssuedAt().plus(Duration.ofHours(1))))
                    .isEmpty();
            assertThat(held(host).getSequence()).isEqualTo(before.getSequence());

            // The deployment rotated its record-key secret since: the host still holds the key of the epoch before.
            RecordSeals.HostKey current =
                    Devstack.shared().endpoints().recordKeys().hostKey("acme", host.id);
            RecordKeyFile.save(host.state, new RecordSeals.HostKey("acme", host.id, current.epoch() - 1, new byte[32]));

            List<String> done =
                    deliveries.guard().enforce(hypervisor, before.getIssuedAt().plus(Duration.ofHours(13)));
            License after = held(host);
            assertThat(done).hasSize(2);
            assertThat(done.get(0)).startsWith("renewed license " + before.getLicenseId());
            // The record key is renewed with the lease.
            assertThat(done.get(1)).isEqualTo("renewed this host's record key: epoch " + current.epoch());
            RecordSeals.HostKey renewed = new RecordKeyFile(host.state, "acme", host.id).check();
            assertThat(renewed.epoch()).isEqualTo(current.epoch());
            assertThat(renewed.key()).isEqualTo(current.key());
            assertThat(after.getSequence()).isGreaterThan(before.getSequence());
            assertThat(after.getLeaseExpiresAt()).isAfter(before.getLeaseExpiresAt());
            Domain vm = hypervisor.domainLookupByUUIDString(installed.vmUuid());
            assertThat(vm.isActive()).isEqualTo(1);
            vm.destroy();
            vm.undefine();
        } finally {
            hypervisor.close();
        }
    }

    @Test
    void withoutTheVendorAVmRunsThroughItsGracePeriodAndThenStops() throws Exception {
        String product = Vendor.product();
        Vendor.publish(product, "1.0", Images.raw(dir, "grace.raw", 53, 1024 * 1024));
        AgentHost host = AgentHost.onTestHypervisor(dir.resolve("state"));
        Connect hypervisor = new Connect("test:///default");
        try {
            Installer.Installation installed =
                    host.enroll(Enrolments.enrol(Enrolments.program(product, "beta"), "Hedy Lamarr"), hypervisor);
            License license = held(host);
            // The same host, cut off from the vendor.
            String nowhere;
            try (ServerSocket closed = new ServerSocket(0)) {
                nowhere = "http://127.0.0.1:" + closed.getLocalPort();
            }
            AgentHost cutOff = host.with("VIGIL_AGENT_DISPATCH_URL", nowhere);
            Domain vm = hypervisor.domainLookupByUUIDString(installed.vmUuid());
            try (Deliveries deliveries = cutOff.deliveries()) {
                List<String> inGrace = deliveries
                        .guard()
                        .enforce(hypervisor, license.getLeaseExpiresAt().plus(Duration.ofHours(1)));
                assertThat(inGrace)
                        .singleElement()
                        .asString()
                        .contains("cannot renew license " + license.getLicenseId())
                        .contains("cannot reach dispatch")
                        .contains(
                                "it keeps running until " + license.getGraceUntil() + ", the end of its grace period");
                assertThat(vm.isActive()).isEqualTo(1);

                List<String> over = deliveries
                        .guard()
                        .enforce(hypervisor, license.getGraceUntil().plus(Duration.ofMinutes(1)));
                assertThat(over)
                        .anySatisfy(line -> assertThat(line)
                                .startsWith("stopped VM " + installed.vmName() + ": license " + license.getLicenseId())
                                .contains("its lease ran out at " + license.getLeaseExpiresAt()));
                assertThat(vm.isActive()).isZero();
            }
            vm.undefine();
        } finally {
            hypervisor.close();
        }
    }

    /** The license the host holds, read from its state as the agent keeps it. */
    private static License held(AgentHost host) throws Exception {
        Path licenses = host.state.resolve("delivery").resolve("licenses");
        try (Stream<Path> files = Files.list(licenses)) {
            Path file =
                    files.filter(f -> f.toString().endsWith(".bin")).findFirst().orElseThrow();
            byte[] body = CommandSignatures.bytes(
                    MetadataSigning.decodeSigned(Files.readAllBytes(file)).getBody());
            return EventCodec.of(License.class).decodeWhole(body);
        }
    }
}
