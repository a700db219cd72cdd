package dev.vigil.agent.delivery;

import java.time.Duration;
import org.apache.avro.specific.SpecificRecord;

/**
 * Where deliveries tell the rest of the agent what they did: the running agent turns each report into an agent event
 * (a {@code Delivery} step or a {@code Conformity} finding) and waits for its crash captures before a VM's disk is
 * changed under them. A command-line run has no events and captures nothing.
 */
public interface Reporting {

    /** Reports nothing and waits for nothing. */
    Reporting NONE = new Reporting() {
        @Override
        public String report(String vmUuid, String vmName, SpecificRecord payload) {
            return null;
        }

        @Override
        public void settle(Duration atMost) {}
    };

    /**
     * Makes a report about a VM durable as an agent event.
     *
     * @return the event's id (an interrupt's evidence is filed under it), or null when nothing records events
     */
    String report(String vmUuid, String vmName, SpecificRecord payload);

    /** Returns once the evidence of every incident seen so far is taken, or after {@code atMost}. */
    void settle(Duration atMost);
}
