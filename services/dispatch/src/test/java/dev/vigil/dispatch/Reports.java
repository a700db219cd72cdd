package dev.vigil.dispatch;

import dev.vigil.agent.delivery.Reporting;
import dev.vigil.schemas.agent.Conformity;
import dev.vigil.schemas.agent.Delivery;
import dev.vigil.schemas.agent.DeliveryStep;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.avro.specific.SpecificRecord;

/** What deliveries reported, as the running agent would have made events of it. */
final class Reports implements Reporting {

    private final List<SpecificRecord> reported = new CopyOnWriteArrayList<>();

    @Override
    public String report(String vmUuid, String vmName, SpecificRecord payload) {
        reported.add(payload);
        return UUID.randomUUID().toString();
    }

    @Override
    public void settle(Duration atMost) {}

    /** The delivery steps reported, in order. */
    List<Delivery> steps() {
        return reported.stream()
                .filter(Delivery.class::isInstance)
                .map(Delivery.class::cast)
                .toList();
    }

    /** The last report of {@code step}, or null. */
    Delivery last(DeliveryStep step) {
        List<Delivery> found = steps().stream().filter(d -> d.getStep() == step).toList();
        return found.isEmpty() ? null : found.get(found.size() - 1);
    }

    List<Conformity> conformity() {
        return reported.stream()
                .filter(Conformity.class::isInstance)
                .map(Conformity.class::cast)
                .toList();
    }
}
