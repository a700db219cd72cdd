package dev.vigil.ingestion;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.vigil.devstack.Devstack;
import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.devstack.Endpoints;
import dev.vigil.devstack.StaffTokenResource;
import dev.vigil.ingestion.mapping.CrashReportMapper;
import dev.vigil.schemas.CloudEventHeaders;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.TopicCatalog;
import dev.vigil.schemas.agent.AgentEvent;
import dev.vigil.schemas.agent.Conformity;
import dev.vigil.schemas.agent.ConformityVerdict;
import dev.vigil.schemas.agent.Delivery;
import dev.vigil.schemas.agent.DeliveryStep;
import dev.vigil.schemas.agent.IoError;
import dev.vigil.schemas.agent.IoErrorAction;
import dev.vigil.schemas.common.ArtifactKind;
import dev.vigil.schemas.crash.ArtifactRef;
import dev.vigil.schemas.crash.ArtifactStatus;
import dev.vigil.schemas.crash.CrashReported;
import dev.vigil.schemas.crash.IncidentTrigger;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Crash, hang, watchdog and I/O-error events and their artifacts, in any order and timing, end in exactly one
 * {@code vigil.crash.reported.v1} with the evidence per incident (tests run with a 6 s deadline), preceded by one
 * provisional report as soon as the trigger is recorded unless the evidence was complete by then; an interrupt's
 * incident keeps its evidence and makes none.
 */
@QuarkusTest
@QuarkusTestResource(DevstackTestResource.class)
@QuarkusTestResource(StaffTokenResource.class)
class CrashReportIT {

    private static final List<ArtifactKind> CRASH_EVIDENCE = List.of(
            ArtifactKind.SCREENSHOT, ArtifactKind.CONSOLE_TEXT, ArtifactKind.MEMORY_DUMP, ArtifactKind.DOMAIN_XML);

    private final Endpoints endpoints = Devstack.shared().endpoints();
    private final String vmUuid = UUID.randomUUID().toString();
    private final AgentTraffic agent =
            new AgentTraffic(endpoints, "crash-host", AgentTraffic.vm(vmUuid, "AcmeOS", "12.0-beta3"));
    private final TopicTail reports = new TopicTail(endpoints, TopicCatalog.CRASH_REPORTED);

    @AfterEach
    void close() {
        agent.close();
        reports.close();
    }

    @Test
    void aPanicAndTheCrashAfterItAreOneIncidentReportedOnceWhenItsEvidenceIsVerified() throws Exception {
        Instant at = Instant.now();
        AgentEvent crashed = agent.crash(at, null);
        AgentEvent panicked = agent.crash(at.plusMillis(4), 0x50L);
        agent.send(crashed);
        agent.send(panicked);
        String incident = crashed.getEnvelope().getEventId();
        // The trigger alone is reported at once, provisionally: no evidence yet, all of it missing, its own event id.
        await().atMost(Duration.ofSeconds(30))
                .until(() -> !provisionalFor(incident).isEmpty());
        ConsumerRecord<byte[], byte[]> first = provisionalFor(incident).get(0);
        CrashReported early = EventCodec.of(CrashReported.class).decode(first.value());
        assertThat(early.getEnvelope().getEventId()).isEqualTo(CrashReportMapper.provisionalEventId(incident));
        assertThat(early.getTrigger()).isEqualTo(IncidentTrigger.CRASH);
        assertThat(early.getArtifacts()).isEmpty();
        assertThat(early.getComplete()).isFalse();
        assertThat(early.getMissing()).containsExactlyElementsOf(CRASH_EVIDENCE);
        assertThat(early.getRelease()).isEqualTo("12.0-beta3");
        assertThat(reportsFor(incident)).isEmpty();
        // Open: it says what it still waits for, and until when; the operators' list finds it among the open ones.
        String[] expected = CRASH_EVIDENCE.stream().map(ArtifactKind::name).toArray(String[]::new);
        Staff.analyst()
                .get("/api/v1/incidents/{id}", incident)
                .then()
                .statusCode(200)
                .body("waitingFor", org.hamcrest.Matchers.contains(expected))
                .body("deadline", org.hamcrest.Matchers.notNullValue())
                .body("complete", org.hamcrest.Matchers.nullValue());
        Staff.analyst()
                .queryParam("state", "open")
                .queryParam("vm", vmUuid)
                .get("/api/v1/incidents")
                .then()
                .statusCode(200)
                .body("items.id", org.hamcrest.Matchers.hasItem(incident))
                .body("items.trigger", org.hamcrest.Matchers.everyItem(org.hamcrest.Matchers.notNullValue()));
        // The agent's capture names the panic event: it still belongs to the incident the crash opened.
        for (ArtifactKind kind : CRASH_EVIDENCE) {
            agent.send(agent.artifact(panicked.getEnvelope().getEventId(), kind, 20_000, null));
        }

        ConsumerRecord<byte[], byte[]> record =
                theOnlyReportFor(crashed.getEnvelope().getEventId());
        CrashReported report = EventCodec.of(CrashReported.class).decode(record.value());

        assertThat(new String(record.key(), StandardCharsets.UTF_8)).isEqualTo(vmUuid);
        assertThat(record.offset()).isGreaterThan(first.offset()); // one partition: the VM's, in order
        assertThat(report.getProvisional()).isFalse();
        assertThat(provisionalFor(incident)).hasSize(1);
        assertThat(report.getEnvelope().getEventId())
                .isEqualTo(CrashReportMapper.reportEventId(crashed.getEnvelope().getEventId()))
                .isEqualTo(CloudEventHeaders.read(record.headers(), CloudEventHeaders.ID));
        assertThat(report.getTrigger()).isEqualTo(IncidentTrigger.CRASH);
        assertThat(report.getComplete()).isTrue();
        assertThat(report.getMissing()).isEmpty();
        assertThat(report.getPanic().getBugcheckCode()).isEqualTo(0x50L);
        assertThat(report.getProduct()).isEqualTo("AcmeOS");
        assertThat(report.getRelease()).isEqualTo("12.0-beta3");
        assertThat(report.getArtifacts())
                .extracting(ArtifactRef::getKind)
                .containsExactlyInAnyOrderElementsOf(CRASH_EVIDENCE);
        assertThat(report.getArtifacts()).extracting(ArtifactRef::getStatus).containsOnly(ArtifactStatus.VERIFIED);

        // Either trigger's id finds the incident.
        Staff.analyst()
                .get("/api/v1/incidents/{id}", panicked.getEnvelope().getEventId())
                .then()
                .statusCode(200)
                .body("id", org.hamcrest.Matchers.equalTo(crashed.getEnvelope().getEventId()))
                .body("complete", org.hamcrest.Matchers.equalTo(true))
                .body("provisionalReportedAt", org.hamcrest.Matchers.notNullValue())
                .body("reportedAt", org.hamcrest.Matchers.notNullValue())
                .body("artifacts.size()", org.hamcrest.Matchers.equalTo(4))
                .body("waitingFor", org.hamcrest.Matchers.empty());
        Staff.analyst()
                .queryParam("state", "reported")
                .queryParam("complete", "true")
                .queryParam("trigger", "CRASH")
                .queryParam("vm", vmUuid)
                .get("/api/v1/incidents")
                .then()
                .statusCode(200)
                .body("items.id", org.hamcrest.Matchers.hasItem(incident))
                .body("total", org.hamcrest.Matchers.greaterThanOrEqualTo(1));
        Staff.analyst()
                .queryParam("state", "open")
                .queryParam("vm", vmUuid)
                .get("/api/v1/incidents")
                .then()
                .statusCode(200)
                .body("items.id", org.hamcrest.Matchers.not(org.hamcrest.Matchers.hasItem(incident)));
        Staff.analyst()
                .queryParam("state", "closed")
                .get("/api/v1/incidents")
                .then()
                .statusCode(400)
                .body("detail", org.hamcrest.Matchers.equalTo("state is one of open, reported (got 'closed')"));
    }

    @Test
    void artifactsThatOvertakeTheirTriggerWaitForItAndFollowTheAnnouncedCapturePlan() throws Exception {
        AgentEvent crashed = agent.crash(Instant.now(), null);
        String incident = crashed.getEnvelope().getEventId();
        List<ArtifactKind> plan = List.of(ArtifactKind.SCREENSHOT, ArtifactKind.CONSOLE_TEXT);
        agent.send(agent.artifact(incident, ArtifactKind.SCREENSHOT, 5_000, plan));
        agent.send(agent.artifact(incident, ArtifactKind.CONSOLE_TEXT, 5_000, plan));
        // Every artifact is verified, yet with no trigger there is no report: the incident waits for it.
        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> Staff.analyst()
                        .get("/api/v1/incidents/{id}", incident)
                        .then()
                        .statusCode(200)
                        .body("trigger", org.hamcrest.Matchers.nullValue())
                        .body(
                                "artifacts.status",
                                org.hamcrest.Matchers.everyItem(org.hamcrest.Matchers.equalTo("VERIFIED")))
                        .body("artifacts.size()", org.hamcrest.Matchers.equalTo(2)));
        assertThat(reportsFor(incident)).isEmpty();

        agent.send(crashed);

        CrashReported report = EventCodec.of(CrashReported.class)
                .decode(theOnlyReportFor(incident).value());
        assertThat(report.getTrigger()).isEqualTo(IncidentTrigger.CRASH);
        assertThat(report.getComplete()).isTrue();
        assertThat(report.getArtifacts()).extracting(ArtifactRef::getKind).containsExactlyInAnyOrderElementsOf(plan);
        // Its evidence was complete when the trigger came: nothing provisional to say first.
        assertThat(provisionalFor(incident)).isEmpty();
    }

    @Test
    void theDeadlineReportsWhatIsMissingAndALateArtifactMakesNoSecondReport() throws Exception {
        AgentEvent crashed = agent.crash(Instant.now(), null);
        String incident = crashed.getEnvelope().getEventId();
        agent.send(crashed);
        agent.send(agent.artifact(incident, ArtifactKind.SCREENSHOT, 5_000, null));

        CrashReported report = EventCodec.of(CrashReported.class)
                .decode(theOnlyReportFor(incident).value());
        assertThat(report.getComplete()).isFalse();
        assertThat(report.getMissing())
                .containsExactly(ArtifactKind.CONSOLE_TEXT, ArtifactKind.MEMORY_DUMP, ArtifactKind.DOMAIN_XML);
        assertThat(report.getArtifacts()).extracting(ArtifactRef::getKind).containsExactly(ArtifactKind.SCREENSHOT);
        assertThat(provisionalFor(incident)).hasSize(1);

        agent.send(agent.artifact(incident, ArtifactKind.CONSOLE_TEXT, 5_000, null));
        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> Staff.analyst()
                        .get("/api/v1/incidents/{id}", incident)
                        .then()
                        .statusCode(200)
                        .body("artifacts.size()", org.hamcrest.Matchers.equalTo(2))
                        .body("complete", org.hamcrest.Matchers.equalTo(false))
                        .body("missing", org.hamcrest.Matchers.hasItem("CONSOLE_TEXT")));
        assertThat(theOnlyReportFor(incident)).isNotNull();
    }

    @Test
    void anIoErrorTheGuestIsToldAboutOpensNoIncidentButAPauseOnOneDoes() throws Exception {
        AgentEvent reported = agent.event(
                ioError(IoErrorAction.REPORT),
                Instant.now(),
                agent.lifecycle(dev.vigil.schemas.agent.LifecycleState.STARTED, "BOOTED", Instant.now())
                        .getVm());
        AgentEvent paused =
                agent.event(ioError(IoErrorAction.PAUSE), Instant.now().plusMillis(1), reported.getVm());
        agent.send(reported);
        agent.send(paused);

        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> Staff.analyst()
                        .get("/api/v1/incidents/{id}", paused.getEnvelope().getEventId())
                        .then()
                        .statusCode(200)
                        .body("trigger", org.hamcrest.Matchers.equalTo("IO_ERROR")));
        Staff.analyst()
                .get("/api/v1/incidents/{id}", reported.getEnvelope().getEventId())
                .then()
                .statusCode(404)
                .body("title", org.hamcrest.Matchers.equalTo("Incident not found"));
        // The report says why the hypervisor paused the guest, so triage can title it.
        CrashReported report = EventCodec.of(CrashReported.class)
                .decode(theOnlyReportFor(paused.getEnvelope().getEventId()).value());
        assertThat(report.getTrigger()).isEqualTo(IncidentTrigger.IO_ERROR);
        assertThat(report.getTriggerDetail()).hasToString("enospc");
    }

    @Test
    void anInterruptKeepsItsEvidenceWithoutACrashReportAndDeliveryEventsAreQueryableByKind() throws Exception {
        Instant at = Instant.now();
        AgentEvent interrupted = agent.event(
                Delivery.newBuilder()
                        .setStep(DeliveryStep.INTERRUPTED)
                        .setProduct("AcmeOS")
                        .setRelease("12.0-beta3")
                        .setDetail("the beta corrupts user data")
                        .build(),
                at,
                AgentTraffic.vm(vmUuid, "AcmeOS", "12.0-beta3"));
        AgentEvent conformity = agent.event(
                Conformity.newBuilder()
                        .setProduct("AcmeOS")
                        .setRelease("12.0-beta3")
                        .setVerdict(ConformityVerdict.MASTER_DIVERGES)
                        .setChunksChecked(40)
                        .setDivergingChunks(List.of(4_194_304L))
                        .setDivergingBytes(65_536)
                        .setOverlayBytes(0)
                        .setOverlayExtents(0)
                        .setMillis(12)
                        .build(),
                at.plusMillis(1),
                interrupted.getVm());
        String incident = interrupted.getEnvelope().getEventId();
        List<ArtifactKind> plan = List.of(ArtifactKind.CONSOLE_TEXT, ArtifactKind.MEMORY_DUMP);
        agent.send(interrupted);
        agent.send(conformity);
        for (ArtifactKind kind : plan) {
            agent.send(agent.artifact(incident, kind, 5_000, plan));
        }

        // The incident holds the VM's state as the interrupt found it, complete, and is no crash to triage.
        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> Staff.analyst()
                        .get("/api/v1/incidents/{id}", incident)
                        .then()
                        .statusCode(200)
                        .body("trigger", org.hamcrest.Matchers.equalTo("INTERRUPT"))
                        .body("complete", org.hamcrest.Matchers.equalTo(true))
                        .body("artifacts.size()", org.hamcrest.Matchers.equalTo(2)));
        Staff.analyst()
                .queryParam("trigger", "INTERRUPT")
                .queryParam("vm", interrupted.getVm().getUuid().toString())
                .get("/api/v1/incidents")
                .then()
                .statusCode(200)
                .body("items.id", org.hamcrest.Matchers.contains(incident));
        long until = System.nanoTime() + Duration.ofSeconds(4).toNanos();
        while (System.nanoTime() < until) {
            reports.poll();
        }
        assertThat(reportsFor(incident)).isEmpty();
        assertThat(provisionalFor(incident)).isEmpty();

        Staff.analyst()
                .queryParam("kind", "Conformity")
                .get("/api/v1/vms/{id}/events", vmUuid)
                .then()
                .statusCode(200)
                .body("total", org.hamcrest.Matchers.equalTo(1))
                .body("items[0].kind", org.hamcrest.Matchers.equalTo("Conformity"))
                .body("items[0].summary", org.hamcrest.Matchers.instanceOf(java.util.Map.class))
                .body("items[0].summary.toString()", org.hamcrest.Matchers.containsString("MASTER_DIVERGES"));
        Staff.analyst()
                .queryParam("kind", "Delivery")
                .get("/api/v1/vms/{id}/events", vmUuid)
                .then()
                .statusCode(200)
                .body(
                        "items.collect { it.summary.toString() }",
                        org.hamcrest.Matchers.contains(
                                org.hamcrest.Matchers.containsString("the beta corrupts user data")));
        Staff.analyst()
                .queryParam("kind", "no such kind!")
                .get("/api/v1/vms/{id}/events", vmUuid)
                .then()
                .statusCode(400)
                .body("detail", org.hamcrest.Matchers.startsWith("kind is the name of an event kind"));
    }

    private static IoError ioError(IoErrorAction action) {
        return IoError.newBuilder()
                .setDevice("vda")
                .setPath("/var/lib/libvirt/images/beta.qcow2")
                .setAction(action)
                .setReason("enospc")
                .build();
    }

    /**
     * Waits for the incident's report, then keeps reading through several more assembler rounds (1 s apart in
     * tests) to make sure no second one follows.
     */
    private ConsumerRecord<byte[], byte[]> theOnlyReportFor(String incidentId) {
        await().atMost(Duration.ofSeconds(60))
                .until(() -> !reportsFor(incidentId).isEmpty());
        long until = System.nanoTime() + Duration.ofSeconds(4).toNanos();
        while (System.nanoTime() < until) {
            reports.poll();
        }
        assertThat(reportsFor(incidentId)).hasSize(1);
        return reportsFor(incidentId).get(0);
    }

    /** The incident's reports with their evidence (complete or at the deadline). */
    private List<ConsumerRecord<byte[], byte[]>> reportsFor(String incidentId) {
        return of(incidentId, false);
    }

    private List<ConsumerRecord<byte[], byte[]>> provisionalFor(String incidentId) {
        return of(incidentId, true);
    }

    private List<ConsumerRecord<byte[], byte[]>> of(String incidentId, boolean provisional) {
        return reports.poll().stream()
                .filter(r -> {
                    CrashReported report = EventCodec.of(CrashReported.class).decode(r.value());
                    return report.getIncidentId().equals(incidentId) && report.getProvisional() == provisional;
                })
                .toList();
    }
}
