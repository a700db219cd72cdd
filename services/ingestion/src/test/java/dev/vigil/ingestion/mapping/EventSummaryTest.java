package dev.vigil.ingestion.mapping;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vigil.schemas.agent.Lifecycle;
import dev.vigil.schemas.agent.LifecycleState;
import org.junit.jupiter.api.Test;

class EventSummaryTest {

    private final ObjectMapper json = new ObjectMapper();

    @Test
    void aSummaryIsThePayloadAsAJsonObject() throws Exception {
        String summary = AgentEventMapper.summary(Lifecycle.newBuilder()
                .setState(LifecycleState.STARTED)
                .setReason("BOOTED")
                .setSettled(true)
                .build());

        JsonNode node = VmDtoMapper.summary(summary);
        assertThat(node.isObject()).isTrue();
        assertThat(node.path("state").asText()).isEqualTo("STARTED");
        assertThat(node.path("reason").asText()).isEqualTo("BOOTED");
    }

    @Test
    void aSummaryTooLongToKeepIsStillJsonAndSaysItWasCut() throws Exception {
        String reason = "\"quoted\" and long ".repeat(500);
        String summary = AgentEventMapper.summary(Lifecycle.newBuilder()
                .setState(LifecycleState.STOPPED)
                .setReason(reason)
                .setSettled(true)
                .build());

        assertThat(summary.length()).isLessThan(2 * AgentEventMapper.MAX_SUMMARY);
        JsonNode node = json.readTree(summary);
        assertThat(node.path("truncated").asBoolean()).isTrue();
        assertThat(node.path("length").asInt()).isGreaterThan(reason.length());
        assertThat(node.path("text").asText()).startsWith("{\"state\": \"STOPPED\"");
    }

    @Test
    void aSummaryRecordedAsPlainTextIsServedAsAnObjectWithItsText() {
        JsonNode node = VmDtoMapper.summary("{\"state\": \"STARTED\", \"reason\": \"BOO");
        assertThat(node.path("text").asText()).isEqualTo("{\"state\": \"STARTED\", \"reason\": \"BOO");
    }
}
