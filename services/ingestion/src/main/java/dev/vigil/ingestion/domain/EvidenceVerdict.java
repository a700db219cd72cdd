package dev.vigil.ingestion.domain;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Whether an open incident's crash report is due: when every expected kind of evidence has a verified artifact
 * (complete), or when its deadline has passed (incomplete, naming what is missing). An incident whose trigger event
 * has not arrived yet waits for its deadline.
 *
 * @param due whether the report should be published now
 * @param complete whether every expected kind has a verified artifact
 * @param missing the expected kinds without a verified artifact, in the plan's order
 */
public record EvidenceVerdict(boolean due, boolean complete, List<String> missing) {

    /**
     * @param triggerKnown whether the event that opened the incident has arrived
     * @param expected the kinds of evidence the capture plan promises
     * @param statuses artifact kind to the verification statuses of the incident's artifacts of that kind
     */
    public static EvidenceVerdict assess(
            boolean triggerKnown,
            Instant deadline,
            Collection<String> expected,
            Map<String, ? extends Collection<String>> statuses,
            Instant now) {
        List<String> missing = new ArrayList<>();
        for (String kind : expected) {
            Collection<String> found = statuses.get(kind);
            if (found == null || !found.contains(ArtifactCheck.VERIFIED)) {
                missing.add(kind);
            }
        }
        boolean complete = triggerKnown && missing.isEmpty();
        boolean due = complete || !now.isBefore(deadline);
        return new EvidenceVerdict(due, complete, List.copyOf(missing));
    }
}
