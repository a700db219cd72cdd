package dev.vigil.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vigil.schemas.agent.LifecycleState;
import dev.vigil.schemas.common.Envelope;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class EnvelopesTest {

    @Test
    void freshEventIdsAreVersion7UuidsCarryingTheirCreationTime() {
        long before = System.currentTimeMillis();
        Envelope envelope =
                AgentEvents.lifecycle(LifecycleState.STARTED, "BOOTED").getEnvelope();
        long after = System.currentTimeMillis();

        UUID id = UUID.fromString(envelope.getEventId());
        assertThat(id.version()).isEqualTo(7);
        assertThat(id.variant()).isEqualTo(2);
        long millis = id.getMostSignificantBits() >>> 16;
        assertThat(millis).isBetween(before, after);
    }

    @Test
    void idsMadeOneAfterAnotherSortInCreationOrderAsTextAndNeverRepeat() {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            ids.add(Envelopes.newEventId());
        }

        // PostgreSQL compares uuid (and "C"-collated text) byte by byte: creation order must be that order.
        assertThat(ids).isSorted();
        assertThat(new HashSet<>(ids)).hasSize(ids.size());
    }
}
