package dev.vigil.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.vigil.agent.delivery.Installer;
import dev.vigil.devstack.Devstack;
import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.devstack.Endpoints;
import dev.vigil.devstack.GuestDomain;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.TopicCatalog;
import dev.vigil.schemas.agent.AgentEvent;
import dev.vigil.schemas.agent.ArtifactManifest;
import dev.vigil.schemas.agent.Delivery;
import dev.vigil.schemas.agent.DeliveryStep;
import dev.vigil.schemas.common.ArtifactKind;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.libvirt.LibvirtException;

/**
 * The vendor's interrupt, end to end on the real hypervisor: dispatch signs it, the running agent pauses the VM,
 * takes its state as an incident (memory, console, disk delta, flight recorder) into object storage, stops it for good
 * and answers with what it did.
 */
@QuarkusTest
@QuarkusTestResource(value = DevstackTestResource.class, restrictToAnnotatedClass = false)
class InterruptIT {

    static final Pattern INCIDENT = Pattern.compile("its state taken as incident ([0-9a-f-]{36})");

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
    void theVendorsInterruptStopsTheVmAtOnceAfterItsStateIsTaken() throws Exception {
        String product = Vendor.product();
        Path image = GuestDomain.bootableImage(
                dir.resolve("1.0.raw"), 64L << 20, "console=ttyS0 panic=0 vigil.scenario=idle", 41);
        Vendor.publish(product, image, RealHypervisor.release("1.0"));
        Endpoints endpoints = Devstack.shared().endpoints();
        Map<String, String> settings = new HashMap<>(Map.of(
                "VIGIL_AGENT_LAZY_BOOT", "false",
                "VIGIL_AGENT_S3_ENDPOINT", endpoints.s3Endpoint(),
                "VIGIL_AGENT_S3_ACCESS_KEY", endpoints.s3AccessKey(),
                "VIGIL_AGENT_S3_SECRET_KEY", endpoints.s3SecretKey()));
        AgentHost host = RealHypervisor.host(dir.resolve("state"), settings);
        Installer.Installation installed = host.enroll(
                Enrolments.enrol(Enrolments.program(product, "beta"), "Radia Perlman"), hypervisor.connect());
        String vm = installed.vmUuid();
        hypervisor.removeAfter(vm);
        Path console = host.state.resolve("vms").resolve(vm).resolve("console.log");
        hypervisor.awaitConsole(console, "vigil-guest: up", Duration.ofSeconds(90), host, vm);

        try (RunningAgent agent = RunningAgent.start(host.id, host.state, host.settings())) {
            CommandsIT.issue(
                            "INTERRUPT",
                            Map.of("hostId", host.id, "vmUuid", vm),
                            Map.of("reason", "the beta corrupts user data: stop it now"),
                            null)
                    .then()
                    .statusCode(201);

            String message = await().atMost(Duration.ofSeconds(180))
                    .pollInterval(Duration.ofMillis(500))
                    .until(
                            () -> Staff.analyst()
                                    .queryParam("host", host.id)
                                    .get("/api/v1/commands")
                                    .then()
                                    .statusCode(200)
                                    .extract()
                                    .jsonPath()
                                    .getString("find { it.action == 'INTERRUPT' && (it.state == 'SUCCEEDED'"
                                            + " || it.state == 'FAILED') }.message"),
                            m -> m != null);
            assertThat(message)
                    .startsWith("interrupted VM " + installed.vmName() + " (" + product + " 1.0): paused ")
                    .endsWith(", stopped; it stays off until it is started again");
            Matcher incident = INCIDENT.matcher(message);
            assertThat(incident.find()).as(message).isTrue();
            String incidentId = incident.group(1);

            assertThat(hypervisor.vm(vm).isActive()).isZero();
            assertThat(hypervisor.vm(vm).getAutostart()).isFalse();
            assertThat(Files.readString(
                            host.state.resolve("delivery").resolve("installed").resolve(vm + ".properties")))
                    .contains("interruptedBecause=the beta corrupts user data\\: stop it now");

            // The interrupt is an event with the vendor's reason, and the incident it opened has the VM's state.
            AgentEvent interrupted = EventCodec.of(AgentEvent.class)
                    .decode(Topics.read(
                                    TopicCatalog.AGENT_EVENTS,
                                    r -> vm.equals(r.key())
                                            && EventCodec.of(AgentEvent.class)
                                                            .decode(r.value())
                                                            .getPayload()
                                                    instanceof Delivery,
                                    1)
                            .get(0)
                            .value());
            assertThat(interrupted.getEnvelope().getEventId()).isEqualTo(incidentId);
            Delivery step = (Delivery) interrupted.getPayload();
            assertThat(step.getStep()).isEqualTo(DeliveryStep.INTERRUPTED);
            assertThat(step.getDetail()).isEqualTo("the beta corrupts user data: stop it now");
            List<ArtifactManifest> evidence = Topics.read(
                            TopicCatalog.AGENT_ARTIFACTS,
                            r -> incidentId.equals(String.valueOf(EventCodec.of(ArtifactManifest.class)
                                    .decode(r.value())
                                    .getIncidentId())),
                            4)
                    .stream()
                    .map(r -> EventCodec.of(ArtifactManifest.class).decode(r.value()))
                    .toList();
            assertThat(evidence.get(0).getCapturePlan())
                    .contains(
                            ArtifactKind.MEMORY_DUMP,
                            ArtifactKind.CONSOLE_TEXT,
                            ArtifactKind.DISK_DELTA,
                            ArtifactKind.FLIGHT_RECORDER);
            assertThat(evidence).allSatisfy(m -> assertThat(m.getSizeBytes()).isPositive());
        }
    }
}
