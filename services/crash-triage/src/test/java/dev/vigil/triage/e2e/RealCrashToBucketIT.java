package dev.vigil.triage.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.vigil.agent.Agent;
import dev.vigil.agent.config.AgentConfig;
import dev.vigil.devstack.Devstack;
import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.devstack.Domains;
import dev.vigil.devstack.Endpoints;
import dev.vigil.devstack.GuestDomain;
import dev.vigil.devstack.HypervisorAssumptions;
import dev.vigil.triage.api.JwtKeys;
import dev.vigil.triage.api.Tokens;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.libvirt.Connect;
import org.libvirt.Domain;

/**
 * The whole path on real components: a Linux guest under QEMU panics; the host agent captures its evidence into
 * S3 and announces it; the packaged ingestion service assembles the crash report; crash triage (this service)
 * files it into a bucket whose title names the function that panicked, with working links to the evidence.
 */
@QuarkusTest
@QuarkusTestResource(DevstackTestResource.class)
@QuarkusTestResource(JwtKeys.class)
@QuarkusTestResource(value = IngestionProcess.class, restrictToAnnotatedClass = true)
class RealCrashToBucketIT {

    @Test
    void aPanicOnRealQemuLandsInABucketNamedAfterTheFailingFunction() throws Exception {
        requireHypervisor();
        Endpoints endpoints = Devstack.shared().endpoints();
        Path work = Files.createTempDirectory("vigil-e2e-");
        GuestDomain guest = new GuestDomain("e2e", work);
        guest.createDisks();
        Connect hypervisor = new Connect(GuestDomain.URI);
        Domain domain = null;
        String hostId = "e2e-" + UUID.randomUUID();
        endpoints.recordKeys().enrol(work.resolve("agent"), "acme", hostId);
        try (Agent agent = new Agent(AgentConfig.load(Map.of(
                "VIGIL_AGENT_STATE_DIR", work.resolve("agent").toString(),
                "VIGIL_AGENT_HTTP_PORT", "0",
                "VIGIL_AGENT_CONFIG_FILE", endpoints.agentConfigFile(),
                "VIGIL_AGENT_HYPERVISOR_URI", GuestDomain.URI,
                "VIGIL_AGENT_HOST_ID", hostId,
                "VIGIL_AGENT_TENANT", "acme",
                "VIGIL_AGENT_S3_ENDPOINT", endpoints.s3Endpoint(),
                "VIGIL_AGENT_S3_ACCESS_KEY", endpoints.s3AccessKey(),
                "VIGIL_AGENT_S3_SECRET_KEY", endpoints.s3SecretKey())))) {
            agent.start();
            domain = hypervisor.domainDefineXML(
                    guest.xml("vigil.scenario=panic vigil.delay=1", guest.overlayDisk(), ""));
            domain.create();

            String title = "kernel panic: sysrq triggered crash";
            JsonPath page = await().atMost(Duration.ofSeconds(120))
                    .pollInterval(Duration.ofSeconds(1))
                    .until(
                            () -> Tokens.analyst()
                                    .queryParam("product", "TinyLinux")
                                    .get("/api/v1/buckets")
                                    .then()
                                    .statusCode(200)
                                    .extract()
                                    .jsonPath(),
                            p -> p.getList("items.title").contains(title));
            String id = page.getString("items.find { it.title == '" + title + "' }.id");

            JsonPath bucket = Tokens.analyst()
                    .get("/api/v1/buckets/" + id)
                    .then()
                    .statusCode(200)
                    .extract()
                    .jsonPath();
            String vmUuid = domain.getUUIDString();
            List<Map<String, Object>> reports = bucket.getList("latest");
            Map<String, Object> report = reports.stream()
                    .filter(r -> vmUuid.equals(r.get("vmUuid")))
                    .findFirst()
                    .orElseThrow();
            assertThat(report.get("evidence")).isEqualTo("linux-console");
            assertThat(report.get("release")).isEqualTo("6.1-it");
            assertThat(report.get("complete")).isEqualTo(true);
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> artifacts = (List<Map<String, Object>>) report.get("artifacts");
            assertThat(artifacts)
                    .extracting(a -> a.get("kind"))
                    .contains("CONSOLE_TEXT", "MEMORY_DUMP", "SCREENSHOT", "DISK_DELTA", "FLIGHT_RECORDER");
            String console = (String) artifacts.stream()
                    .filter(a -> "CONSOLE_TEXT".equals(a.get("kind")))
                    .findFirst()
                    .orElseThrow()
                    .get("url");
            HttpResponse<String> evidence = HttpClient.newHttpClient()
                    .send(HttpRequest.newBuilder(URI.create(console)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(evidence.statusCode()).isEqualTo(200);
            assertThat(evidence.body()).contains("Kernel panic - not syncing: sysrq triggered crash");

            // The crash rate per 1,000 VM-hours of the release, from ingestion's uptime ledger of this very run.
            JsonPath rated = Tokens.analyst()
                    .queryParam("product", "TinyLinux")
                    .queryParam("release", "6.1-it")
                    .get("/api/v1/buckets")
                    .then()
                    .statusCode(200)
                    .extract()
                    .jsonPath();
            double vmHours = rated.getDouble("vmHours");
            assertThat(vmHours).isPositive();
            int reportsInBucket = rated.getInt("items.find { it.title == '" + title + "' }.reports");
            assertThat(rated.getDouble("items.find { it.title == '" + title + "' }.ratePer1000VmHours"))
                    .isCloseTo(
                            reportsInBucket * 1000.0 / vmHours,
                            org.assertj.core.data.Offset.offset(1e-6 * reportsInBucket * 1000.0 / vmHours));
        } finally {
            if (domain != null) {
                Domains.remove(domain);
            }
            hypervisor.close();
            Devstack.deleteTree(work);
        }
    }

    private static void requireHypervisor() {
        HypervisorAssumptions.assumeReady();
    }
}
