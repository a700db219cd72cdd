package dev.vigil.ingestion;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;

import dev.vigil.agent.Agent;
import dev.vigil.agent.config.AgentConfig;
import dev.vigil.devstack.Devstack;
import dev.vigil.devstack.DevstackTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.libvirt.Connect;
import org.libvirt.Domain;

/** The first slice end to end: libvirt test driver → agent → Kafka → ingestion → PostgreSQL → HTTP. */
@QuarkusTest
@QuarkusTestResource(DevstackTestResource.class)
class AgentToApiIT {

    @Test
    void aDomainStartedInTheHypervisorShowsUpWithItsEvents() throws Exception {
        AgentConfig config = AgentConfig.load(Map.of(
                "VIGIL_AGENT_STATE_DIR",
                java.nio.file.Files.createTempDirectory("vigil-agent-").toString(),
                "VIGIL_AGENT_HTTP_PORT",
                "0",
                "VIGIL_AGENT_KAFKA_BOOTSTRAP_SERVERS",
                Devstack.shared().endpoints().kafkaBootstrapServers(),
                "VIGIL_AGENT_HOST_ID",
                "e2e-host",
                "VIGIL_AGENT_TENANT",
                "acme"));
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
                    .untilAsserted(() -> given().get("/api/v1/vms/{id}/events", uuid)
                            .then()
                            .statusCode(200)
                            .body("items.reason", hasItem("PAUSED")));
            domain.destroy();
            domain.undefine();
            hypervisor.close();
        }

        var timeline =
                given().get("/api/v1/vms/{id}/events", uuid).then().extract().jsonPath();
        assertThat(timeline.getList("items.state")).containsSubsequence("DEFINED", "STARTED", "SUSPENDED");
        assertThat(timeline.getList("items.reason")).containsSubsequence("ADDED", "BOOTED", "PAUSED");
        assertThat(timeline.getList("items.hostId")).containsOnly("e2e-host");
        given().get("/api/v1/vms?size=500")
                .then()
                .statusCode(200)
                .body("items.name", hasItem(name))
                .body("items.name", hasItem("test"));
    }

    @Test
    void answersUnknownVmsWithAProblem() {
        given().get("/api/v1/vms/{id}/events", "no-such-vm")
                .then()
                .statusCode(404)
                .body("title", equalTo("VM not found"))
                .body("status", equalTo(404));
    }

    @Test
    void refusesOutOfRangePaging() {
        given().get("/api/v1/vms?size=0").then().statusCode(400).body("title", equalTo("Bad paging"));
        given().get("/api/v1/vms?page=-1").then().statusCode(400);
    }

    @Test
    void servesHealthAndTheOpenApiDocument() {
        given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
        String openapi =
                given().get("/q/openapi").then().statusCode(200).extract().asString();
        assertThat(openapi).contains("/api/v1/vms/{id}/events");
    }
}
