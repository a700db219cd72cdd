package dev.vigil.ingestion;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.vigil.devstack.DevstackExtension;
import dev.vigil.devstack.Endpoints;
import dev.vigil.devstack.Ports;
import dev.vigil.devstack.ServiceProcess;
import dev.vigil.devstack.StaffTokens;
import dev.vigil.ingestion.mapping.CrashReportMapper;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.TopicCatalog;
import dev.vigil.schemas.agent.AgentEvent;
import dev.vigil.schemas.common.ArtifactKind;
import dev.vigil.schemas.crash.ArtifactRef;
import dev.vigil.schemas.crash.ArtifactStatus;
import dev.vigil.schemas.crash.CrashReported;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The packaged ingestion service, killed with SIGKILL in the middle of an incident and started again on the same
 * database and broker: the incident is still reported exactly once, with all its evidence. Runs in its own JVM
 * (failsafe execution {@code restart}) so no in-process instance shares the consumer group.
 */
@ExtendWith(DevstackExtension.class)
class CrashReportRestartIT {

    private static final Path APP = Path.of("target/quarkus-app/quarkus-run.jar");
    // The deadline is far away: the report must come from the evidence, not from the clock. The broker's shortest
    // session lets the group hand the killed member's partitions over in seconds rather than the default 45.
    private static final Map<String, String> SETTINGS = Map.of(
            "kafka.session.timeout.ms", "6000",
            "vigil.ingestion.incident-deadline", "PT5M",
            "vigil.ingestion.incident-check-every", "1s",
            "vigil.ingestion.artifact-verify-every", "1s");

    @Test
    void anIncidentSpanningAKilledInstanceIsReportedExactlyOnce(Endpoints endpoints) throws Exception {
        String vm = UUID.randomUUID().toString();
        Path logs = Files.createTempDirectory("vigil-restart-it-");
        try (AgentTraffic agent = new AgentTraffic(endpoints, "restart-host", AgentTraffic.vm(vm, "AcmeOS", "12.1"));
                TopicTail reports = new TopicTail(endpoints, TopicCatalog.CRASH_REPORTED)) {
            AgentEvent crashed = agent.crash(Instant.now(), 0x7eL);
            String incident = crashed.getEnvelope().getEventId();

            int firstPort = Ports.free();
            ServiceProcess first = start(endpoints, firstPort, logs.resolve("first.log"));
            try {
                agent.send(crashed);
                agent.send(agent.artifact(incident, ArtifactKind.SCREENSHOT, 10_000, null));
                agent.send(agent.artifact(incident, ArtifactKind.CONSOLE_TEXT, 10_000, null));
                // The first instance has the incident and has verified half its evidence...
                await().atMost(Duration.ofSeconds(60))
                        .until(() -> get(firstPort, "/api/v1/incidents/" + incident)
                                .replace(" ", "")
                                .matches(".*\"status\":\"VERIFIED\".*\"status\":\"VERIFIED\".*"));
            } finally {
                // ...and dies without a chance to commit offsets or finish anything (killed as well when the wait
                // fails, so that no instance outlives the test).
                first.kill();
            }

            agent.send(agent.artifact(incident, ArtifactKind.MEMORY_DUMP, 50_000, null));
            agent.send(agent.artifact(incident, ArtifactKind.DOMAIN_XML, 2_000, null));
            int secondPort = Ports.free();
            try (ServiceProcess second = start(endpoints, secondPort, logs.resolve("second.log"))) {
                await().atMost(Duration.ofSeconds(90))
                        .until(() -> !reportsFor(reports, incident).isEmpty());
                long until = System.nanoTime() + Duration.ofSeconds(3).toNanos();
                while (System.nanoTime() < until) {
                    reports.poll();
                }
            }

            List<ConsumerRecord<byte[], byte[]>> found = reportsFor(reports, incident);
            assertThat(found).hasSize(1);
            // The first instance reported the trigger provisionally; if it died between the broker's acknowledgement
            // and its commit, the second sent the same event again, which consumers dedupe.
            List<ConsumerRecord<byte[], byte[]>> provisional = provisionalFor(reports, incident);
            assertThat(provisional)
                    .isNotEmpty()
                    .allSatisfy(
                            r -> assertThat(r.offset()).isLessThan(found.get(0).offset()))
                    .extracting(r -> EventCodec.of(CrashReported.class)
                            .decode(r.value())
                            .getEnvelope()
                            .getEventId())
                    .containsOnly(CrashReportMapper.provisionalEventId(incident));
            CrashReported report =
                    EventCodec.of(CrashReported.class).decode(found.get(0).value());
            assertThat(report.getComplete()).isTrue();
            assertThat(report.getPanic().getBugcheckCode()).isEqualTo(0x7eL);
            assertThat(report.getArtifacts())
                    .extracting(ArtifactRef::getKind)
                    .containsExactlyInAnyOrder(
                            ArtifactKind.SCREENSHOT,
                            ArtifactKind.CONSOLE_TEXT,
                            ArtifactKind.MEMORY_DUMP,
                            ArtifactKind.DOMAIN_XML);
            assertThat(report.getArtifacts()).extracting(ArtifactRef::getStatus).containsOnly(ArtifactStatus.VERIFIED);
        }
    }

    private static ServiceProcess start(Endpoints endpoints, int port, Path log) throws Exception {
        Map<String, String> settings = new java.util.HashMap<>(SETTINGS);
        settings.put(
                "mp.jwt.verify.publickey.location",
                StaffTokens.ephemeral().publicKey().toUri().toString());
        ServiceProcess process = ServiceProcess.start(APP, endpoints, port, settings, log);
        process.awaitReady("http://127.0.0.1:" + port, Duration.ofSeconds(90));
        return process;
    }

    /** The incident's reports with their evidence. */
    private static List<ConsumerRecord<byte[], byte[]>> reportsFor(TopicTail reports, String incident) {
        return of(reports, incident, false);
    }

    private static List<ConsumerRecord<byte[], byte[]>> provisionalFor(TopicTail reports, String incident) {
        return of(reports, incident, true);
    }

    private static List<ConsumerRecord<byte[], byte[]>> of(TopicTail reports, String incident, boolean provisional) {
        return reports.poll().stream()
                .filter(r -> {
                    CrashReported report = EventCodec.of(CrashReported.class).decode(r.value());
                    return report.getIncidentId().equals(incident) && report.getProvisional() == provisional;
                })
                .toList();
    }

    private static String get(int port, String path) throws IOException, InterruptedException {
        HttpResponse<String> response = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                                .header("Authorization", "Bearer " + Staff.token("otto@vendor.example", "operator"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        return response.statusCode() == 200 ? response.body() : "";
    }
}
