package dev.vigil.console.web;

import dev.vigil.console.triage.TriageApi;
import dev.vigil.console.triage.TriageViews.ReleaseSummary;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The releases the top-crashes page offers as a filter: crash triage's list of releases with reports in the last 90
 * days, kept for {@code vigil.console.release-list-ttl} (a minute). Listing them sums that many days of roll-ups
 * (close to a second at a million reports), which the front page must not pay on every view; a release's first
 * report shows in the filter within the minute. Callers ask only after triage has let the person read buckets.
 */
@ApplicationScoped
public class ReleaseFilter {

    private record Fetched(List<ReleaseSummary> releases, Instant at) {}

    @ConfigProperty(name = "vigil.console.release-list-ttl", defaultValue = "PT1M")
    Duration ttl;

    private volatile Fetched fetched;

    List<ReleaseSummary> releases(TriageApi triage) {
        Fetched current = fetched;
        if (current == null || current.at().plus(ttl).isBefore(Instant.now())) {
            current = new Fetched(triage.releases(null, null).items(), Instant.now());
            fetched = current;
        }
        return current.releases();
    }
}
