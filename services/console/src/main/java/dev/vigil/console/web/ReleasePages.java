package dev.vigil.console.web;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vigil.console.dispatch.DispatchApi;
import dev.vigil.console.dispatch.DispatchViews.Release;
import dev.vigil.console.dispatch.DispatchViews.Rollout;
import dev.vigil.console.triage.TriageApi;
import dev.vigil.console.triage.TriageViews.ReleaseHealth;
import dev.vigil.console.triage.TriageViews.ReleaseSummary;
import io.quarkus.qute.CheckedTemplate;
import io.quarkus.qute.TemplateInstance;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.rest.client.inject.RestClient;

/**
 * Release health: the releases with crash reports, and one release against the one before it with its staged rollouts
 * and every decision of their gates.
 */
@Path("/releases")
@Produces(MediaType.TEXT_HTML)
public class ReleasePages {

    @CheckedTemplate
    static class Templates {
        static native TemplateInstance releases(List<ReleaseSummary> releases);

        static native TemplateInstance health(
                ReleaseHealth health,
                Double hoursPerCrash,
                String chart,
                Partial<Release> delivery,
                Partial<List<Rollout>> rollouts);
    }

    /** Rollouts of one product that dispatch is asked for, newest first. */
    static final int ROLLOUTS_SCANNED = 100;
    /** Rollouts of one release shown with their decisions. */
    static final int ROLLOUTS_SHOWN = 5;

    @Inject
    @RestClient
    TriageApi triage;

    @Inject
    @RestClient
    DispatchApi dispatch;

    @Inject
    ObjectMapper json;

    @GET
    public TemplateInstance releases() {
        return Templates.releases(triage.releases(null, null).items());
    }

    @GET
    @Path("/health")
    public TemplateInstance health(@QueryParam("product") String product, @QueryParam("release") String release) {
        if (product == null || product.isBlank() || release == null || release.isBlank()) {
            throw Pages.badRequest("name a product and a release, e.g. /releases/health?product=demo-os&release=1.0");
        }
        ReleaseHealth health = triage.health(product, release);
        Double perCrash =
                health.vmHours() == null || health.reports() == 0 ? null : health.vmHours() / health.reports();
        List<String> names = new ArrayList<>();
        List<Double> rates = new ArrayList<>();
        if (health.previous() != null) {
            names.add(health.previous().release());
            rates.add(health.previous().ratePer1000VmHours());
        }
        names.add(health.release());
        rates.add(health.ratePer1000VmHours());
        Map<String, Object> chart = new LinkedHashMap<>();
        chart.put("releases", names);
        chart.put("rates", rates);
        try {
            return Templates.health(
                    health,
                    perCrash,
                    json.writeValueAsString(chart).replace("</", "<\\/"),
                    Partial.of("Dispatch", () -> dispatch.release(product, release)),
                    Partial.of("Dispatch", () -> rollouts(product, release)));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The release's latest rollouts, each with its decisions. */
    private List<Rollout> rollouts(String product, String release) {
        return dispatch.rollouts(product, ROLLOUTS_SCANNED).stream()
                .filter(r -> r.release().equals(release))
                .limit(ROLLOUTS_SHOWN)
                .map(r -> dispatch.rollout(r.id()))
                .toList();
    }
}
