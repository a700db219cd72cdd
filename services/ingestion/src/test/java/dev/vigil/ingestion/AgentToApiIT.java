package dev.vigil.ingestion;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.emptyOrNullString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.lessThan;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.startsWith;

import dev.vigil.agent.Agent;
import dev.vigil.agent.config.AgentConfig;
import dev.vigil.devstack.Devstack;
import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.devstack.StaffTokenResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.ValidatableResponse;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.libvirt.Connect;
import org.libvirt.Domain;

/** The first slice end to end: libvirt test driver → agent → Kafka → ingestion → PostgreSQL → HTTP. */
@QuarkusTest
@QuarkusTestResource(DevstackTestResource.class)
@QuarkusTestResource(StaffTokenResource.class)
class AgentToApiIT {

    @Test
    void aDomainStartedInTheHypervisorShowsUpWithItsEvents() throws Exception {
        AgentConfig config = AgentConfig.load(Map.of(
                "VIGIL_AGENT_STATE_DIR",
                java.nio.file.Files.createTempDirectory("vigil-agent-").toString(),
                "VIGIL_AGENT_HTTP_PORT",
                "0",
                "VIGIL_AGENT_CONFIG_FILE",
                Devstack.shared().endpoints().agentConfigFile(),
                "VIGIL_AGENT_HOST_ID",
                "e2e-host",
                "VIGIL_AGENT_TENANT",
                "acme"));
        Devstack.shared().endpoints().recordKeys().enrol(config.stateDir(), config.tenant(), config.hostId());
        String name = "e2e-" + UUID.randomUUID().toString().substring(0, 8);
        String uuid;
        try (Agent agent = new Agent(config)) {
            agent.start();
            Connect hypervisor = new Connect("test:///default");
            Domain domain = hypervisor.domainDefineXML("<domain type='test'><name>" + name
                    + "</name><memory>65536</memory><os><type>hvm</type></os></domain>");
            domain.create();
            domain.suspend();
            uuid = domain.getUUIDString();

            await().atMost(Duration.ofSeconds(60))
                    .untilAsserted(() -> Staff.analyst()
                            .get("/api/v1/vms/{id}/events", uuid)
                            .then()
                            .statusCode(200)
                            .body("items.reason", hasItem("PAUSED")));
            domain.destroy();
            domain.undefine();
            hypervisor.close();
        }

        var timeline = Staff.analyst()
                .get("/api/v1/vms/{id}/events", uuid)
                .then()
                .extract()
                .jsonPath();
        assertThat(timeline.getList("items.state")).containsSubsequence("DEFINED", "STARTED", "SUSPENDED");
        assertThat(timeline.getList("items.reason")).containsSubsequence("ADDED", "BOOTED", "PAUSED");
        assertThat(timeline.getList("items.hostId")).containsOnly("e2e-host");
        Staff.analyst()
                .get("/api/v1/vms?size=500")
                .then()
                .statusCode(200)
                .body("items.name", hasItem(name))
                .body("items.name", hasItem("test"));
    }

    @Test
    void answersUnknownVmsWithAProblem() {
        String vm = UUID.randomUUID().toString();
        for (String path : new String[] {"/api/v1/vms/" + vm, "/api/v1/vms/" + vm + "/events"}) {
            problem(Staff.analyst().get(path), 404, "VM not found", path)
                    .body("detail", equalTo("no VM with id " + vm + " has reported"));
        }
        problem(Staff.analyst().get("/api/v1/hosts/never-seen"), 404, "Host not found", "/api/v1/hosts/never-seen");
        String incident = "/api/v1/incidents/" + UUID.randomUUID();
        problem(Staff.analyst().get(incident), 404, "Incident not found", incident);
    }

    @Test
    void refusesOutOfRangePaging() {
        problem(Staff.analyst().get("/api/v1/vms?size=0"), 400, "Bad paging", "/api/v1/vms")
                .body("detail", containsString("size=0"));
        problem(Staff.analyst().get("/api/v1/vms?page=-1"), 400, "Bad paging", "/api/v1/vms");
        problem(Staff.analyst().get("/api/v1/hosts?size=501"), 400, "Bad paging", "/api/v1/hosts");
    }

    @Test
    void refusesPagingThatIsNoWholeNumberNamingTheParameter() {
        String vm = UUID.randomUUID().toString();
        String[][] cases = {
            {"/api/v1/vms", "size=abc", "size"},
            {"/api/v1/vms", "page=abc", "page"},
            {"/api/v1/vms", "size=1.5", "size"},
            {"/api/v1/vms", "page=2147483648", "page"},
            {"/api/v1/hosts", "size=abc", "size"},
            {"/api/v1/vms/" + vm + "/events", "page=abc", "page"},
            {"/api/v1/vms/" + vm + "/feedback", "size=1.5", "size"},
            {"/api/v1/vms/" + vm + "/artifacts", "page=x", "page"},
        };
        for (String[] c : cases) {
            problem(Staff.analyst().get(c[0] + "?" + c[1]), 400, "Bad parameter", c[0])
                    .body("detail", startsWith(c[2] + " must be a whole number"));
        }
        problem(
                        Staff.operator().post("/api/v1/dead-letters/replays?limit=abc"),
                        400,
                        "Bad parameter",
                        "/api/v1/dead-letters/replays")
                .body("detail", startsWith("limit must be a whole number"));
    }

    @Test
    void answersAPageFarPastTheEndEmpty() {
        Staff.analyst()
                .get("/api/v1/vms?page=2147483647&size=500")
                .then()
                .statusCode(200)
                .body("items", empty())
                .body("page", equalTo(Integer.MAX_VALUE));
        Staff.analyst()
                .get("/api/v1/hosts?page=2147483647")
                .then()
                .statusCode(200)
                .body("items", empty());
    }

    @Test
    void refusesANulInAnIdOrQueryWithA400() {
        for (String path : new String[] {
            "/api/v1/vms/a%00b", "/api/v1/vms/a%00b/events", "/api/v1/hosts/a%00b", "/api/v1/incidents/a%00b"
        }) {
            problem(Staff.analyst().urlEncodingEnabled(false).get(path), 400, "Bad parameter", path)
                    .body("detail", not(containsString("\u0000")));
        }
        problem(
                        Staff.analyst()
                                .urlEncodingEnabled(false)
                                .get("/api/v1/fleet/uptime?from=2026-01-01&to=2026-01-02&product=a%00b"),
                        400,
                        "Bad parameter",
                        "/api/v1/fleet/uptime")
                .body("detail", equalTo("product must not contain a NUL character"));
    }

    @Test
    void refusesAMalformedVmIdWithoutEchoingItAtLength() {
        String id = "x".repeat(3000);
        for (String path : new String[] {"/api/v1/vms/" + id, "/api/v1/vms/" + id + "/feedback"}) {
            problem(Staff.analyst().get(path), 400, "Bad parameter", null)
                    .body("detail", startsWith("the VM id must be a UUID"))
                    .body("detail", containsString("(3000 characters)"))
                    .body("detail.length()", lessThan(400))
                    .body("instance.length()", lessThan(250));
        }
        problem(
                Staff.analyst().get("/api/v1/vms/no-such-vm/events"),
                400,
                "Bad parameter",
                "/api/v1/vms/no-such-vm/events");
    }

    @Test
    void titlesUptimeDateErrorsAsDates() {
        problem(
                        Staff.analyst().get("/api/v1/fleet/uptime?from=yesterday&to=2026-01-02"),
                        400,
                        "Bad dates",
                        "/api/v1/fleet/uptime")
                .body("detail", equalTo("from must be an ISO date such as 2026-11-24 (got yesterday)"));
        problem(
                Staff.analyst().get("/api/v1/fleet/uptime?from=2026-01-02&to=2026-01-01"),
                400,
                "Bad dates",
                "/api/v1/fleet/uptime");
    }

    @Test
    void answersTheFrameworksRefusalsWithProblemsToo() {
        problem(Staff.analyst().get("/api/v1/no-such-thing"), 404, "Not Found", "/api/v1/no-such-thing");
        problem(Staff.analyst().delete("/api/v1/vms"), 405, "Method Not Allowed", "/api/v1/vms")
                .body("detail", containsString("OPTIONS"));
        Staff.analyst().options("/api/v1/vms").then().statusCode(200).header("Allow", containsString("GET"));
        problem(Staff.analyst().accept("text/html").get("/api/v1/vms"), 406, "Not Acceptable", "/api/v1/vms");
        problem(Staff.analyst().get("/api/v1/vms?q=" + "y".repeat(5000)), 414, "Request-URI Too Long", "/api/v1/vms")
                .body("detail", containsString("4096"));
    }

    /** A problem answer: its status, media type, and body fields; {@code instance} unchecked when null. */
    private static ValidatableResponse problem(
            io.restassured.response.Response response, int status, String title, String instance) {
        ValidatableResponse then = response.then()
                .statusCode(status)
                .contentType(startsWith("application/problem+json"))
                .body("type", equalTo("about:blank"))
                .body("title", equalTo(title))
                .body("status", equalTo(status))
                .body("keySet()", containsInAnyOrder("type", "title", "status", "detail", "instance"))
                .body("detail", not(emptyOrNullString()));
        return instance == null ? then : then.body("instance", equalTo(instance));
    }

    @Test
    void servesHealthAndTheOpenApiDocument() {
        given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
        String openapi =
                given().get("/q/openapi").then().statusCode(200).extract().asString();
        assertThat(openapi).contains("/api/v1/vms/{id}/events");
    }
}
