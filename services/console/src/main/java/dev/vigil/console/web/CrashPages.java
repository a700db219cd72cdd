package dev.vigil.console.web;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vigil.console.triage.TriageApi;
import dev.vigil.console.triage.TriageViews.Artifact;
import dev.vigil.console.triage.TriageViews.Bucket;
import dev.vigil.console.triage.TriageViews.BucketDetail;
import dev.vigil.console.triage.TriageViews.BucketPage;
import dev.vigil.console.triage.TriageViews.CollectionPolicyRequest;
import dev.vigil.console.triage.TriageViews.History;
import dev.vigil.console.triage.TriageViews.LinkRequest;
import dev.vigil.console.triage.TriageViews.MergeRequest;
import dev.vigil.console.triage.TriageViews.NoteRequest;
import dev.vigil.console.triage.TriageViews.ReleaseSummary;
import dev.vigil.console.triage.TriageViews.Report;
import dev.vigil.console.triage.TriageViews.Signature;
import dev.vigil.console.triage.TriageViews.Trends;
import io.quarkus.qute.CheckedTemplate;
import io.quarkus.qute.TemplateInstance;
import jakarta.inject.Inject;
import jakarta.ws.rs.FormParam;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.eclipse.microprofile.rest.client.inject.RestClient;

/** Top crashes (the front page), a bucket, and a report's evidence. */
@Path("/")
@Produces(MediaType.TEXT_HTML)
public class CrashPages {

    /** The periods the top-crashes page offers, in days. */
    static final List<Integer> PERIODS = List.of(1, 7, 14, 30, 90);
    /** Rows on the top-crashes page. */
    static final int TOP = 50;
    /** Buckets drawn on the top-crashes chart. */
    static final int CHARTED = 5;

    @CheckedTemplate
    static class Templates {
        static native TemplateInstance top(
                List<Row> rows,
                List<ReleaseSummary> releases,
                Filter filter,
                List<Integer> periods,
                Double vmHours,
                String chart);

        static native TemplateInstance bucket(
                BucketDetail bucket,
                List<String> frames,
                List<ReleaseRate> rates,
                Set<String> hosts,
                Map<String, String> vms,
                String chart);

        static native TemplateInstance report(
                BucketDetail bucket,
                Report report,
                List<ConsoleLine> console,
                String screenshot,
                List<FlightRecord> flight);
    }

    /** A row of the top-crashes table. */
    public record Row(Bucket bucket, Sparkline trend) {}

    /** The page's filters as the person chose them. */
    public record Filter(String product, String release, int days, String q) {
        public String releaseKey() {
            return product == null || release == null ? "" : product + "|" + release;
        }
    }

    /** A bucket's reports in one release over the history window, with the rate when the release's uptime is known. */
    public record ReleaseRate(
            String product, String release, long reports, Double vmHours, Double ratePer1000VmHours) {}

    @Inject
    @RestClient
    TriageApi triage;

    @Inject
    Evidence evidence;

    @Inject
    ReleaseFilter releaseFilter;

    @Inject
    ObjectMapper json;

    @GET
    public TemplateInstance top(
            @QueryParam("release") String releaseKey, @QueryParam("days") String days, @QueryParam("q") String q) {
        int period = Pages.choice("days", days, 7, PERIODS);
        String product = null;
        String release = null;
        if (releaseKey != null && !releaseKey.isBlank()) {
            int bar = releaseKey.indexOf('|');
            if (bar <= 0 || bar == releaseKey.length() - 1) {
                throw Pages.badRequest("release is product|release, e.g. demo-os|1.0; got " + Pages.echo(releaseKey));
            }
            product = releaseKey.substring(0, bar);
            release = releaseKey.substring(bar + 1);
        }
        String text = q == null || q.isBlank() ? null : q.strip();
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        LocalDate first = today.minusDays(period - 1L);
        BucketPage page = text == null
                ? triage.top(
                        product,
                        release,
                        first.atStartOfDay().toInstant(ZoneOffset.UTC).toString(),
                        null,
                        TOP)
                : triage.search(text, product, release, TOP);
        // The sparkline covers the period and as many days before it, so a bucket new in the period shows as such.
        int trendDays = Math.min(2 * Math.max(period, 7), 180);
        Map<UUID, List<Long>> counts = Map.of();
        List<LocalDate> trendAxis = List.of();
        if (!page.items().isEmpty()) {
            Trends trends = triage.trends(
                    page.items().stream().map(b -> b.id().toString()).toList(),
                    today.minusDays(trendDays - 1L).toString(),
                    today.toString(),
                    product,
                    release);
            counts = trends.counts();
            trendAxis = trends.days();
        }
        List<Row> rows = new ArrayList<>();
        for (Bucket b : page.items()) {
            rows.add(new Row(b, Sparkline.of(counts.get(b.id()), period)));
        }
        Map<String, Object> chart = new LinkedHashMap<>();
        chart.put("days", trendAxis);
        List<Map<String, Object>> series = new ArrayList<>();
        for (Bucket b : page.items().subList(0, Math.min(CHARTED, page.items().size()))) {
            series.add(Map.of("name", b.title(), "data", counts.getOrDefault(b.id(), List.of())));
        }
        chart.put("series", series);
        return Templates.top(
                rows,
                releaseFilter.releases(triage),
                new Filter(product, release, period, text == null ? "" : text),
                PERIODS,
                page.vmHours(),
                toJson(chart));
    }

    @GET
    @Path("buckets/{id}")
    public TemplateInstance bucket(@PathParam("id") String id) {
        String bucketId = Pages.uuid(id);
        BucketDetail bucket = triage.bucket(bucketId);
        History history = triage.history(bucketId, null, null);
        List<ReleaseRate> rates = new ArrayList<>();
        for (var series :
                history.releases().subList(0, Math.min(3, history.releases().size()))) {
            Double hours = null;
            if (!series.product().isEmpty() && !series.release().isEmpty()) {
                hours = triage.health(series.product(), series.release()).vmHours();
            }
            Double rate = hours == null || hours <= 0 ? null : series.total() * 1000.0 / hours;
            rates.add(new ReleaseRate(series.product(), series.release(), series.total(), hours, rate));
        }
        Set<String> hosts = new LinkedHashSet<>();
        Map<String, String> vms = new LinkedHashMap<>();
        for (Report r : bucket.latest()) {
            hosts.add(r.hostId());
            vms.putIfAbsent(r.vmUuid(), r.vmName() == null ? r.vmUuid() : r.vmName());
        }
        Map<String, Object> chart = new LinkedHashMap<>();
        chart.put("days", history.days());
        chart.put(
                "series",
                history.releases().stream()
                        .map(s -> Map.of("name", (s.product() + " " + s.release()).strip(), "data", s.counts()))
                        .toList());
        return Templates.bucket(bucket, frames(bucket), rates, hosts, vms, toJson(chart));
    }

    @GET
    @Path("buckets/{id}/reports/{incident}")
    public TemplateInstance report(@PathParam("id") String id, @PathParam("incident") String incident) {
        BucketDetail bucket = triage.bucket(Pages.uuid(id));
        Report report = bucket.latest().stream()
                .filter(r -> r.incidentId().equals(incident))
                .findFirst()
                .orElseThrow(() ->
                        Pages.notFound("no report " + Pages.echo(incident) + " among the latest 50 of this bucket"));
        List<ConsoleLine> text = artifact(report, "CONSOLE_TEXT")
                .map(a -> ConsoleLine.of(evidence.text(report.incidentId(), a)))
                .orElse(List.of());
        String screenshot = artifact(report, "SCREENSHOT")
                .map(a ->
                        a.url() != null ? a.url() : artifactPath(bucket.id().toString(), report.incidentId(), a.kind()))
                .orElse(null);
        List<FlightRecord> flight = artifact(report, "FLIGHT_RECORDER")
                .map(a -> FlightRecord.parse(evidence.lines(report.incidentId(), a, 200), json))
                .orElse(List.of());
        return Templates.report(bucket, report, text, screenshot, flight);
    }

    /**
     * A report's evidence through crash triage, as the signed-in user: how a person downloads evidence the agent
     * encrypted, which triage decrypts (unencrypted evidence is linked straight to the store).
     */
    @GET
    @Path("buckets/{id}/reports/{incident}/artifacts/{kind}")
    @Produces({MediaType.APPLICATION_OCTET_STREAM, "image/png", MediaType.TEXT_PLAIN})
    public Response artifact(
            @PathParam("id") String id, @PathParam("incident") String incident, @PathParam("kind") String kind) {
        Pages.uuid(id);
        Response answer = triage.artifact(incident, kind);
        InputStream in = answer.readEntity(InputStream.class);
        StreamingOutput body = out -> {
            try (answer;
                    in) {
                in.transferTo(out);
            }
        };
        Response.ResponseBuilder response = Response.ok(
                body, answer.getMediaType() == null ? MediaType.APPLICATION_OCTET_STREAM_TYPE : answer.getMediaType());
        String disposition = answer.getHeaderString("Content-Disposition");
        if (disposition != null) {
            response.header("Content-Disposition", disposition);
        }
        return response.build();
    }

    /** The console's path of a report's evidence ({@link #artifact(String, String, String)}). */
    static String artifactPath(String bucket, String incident, String kind) {
        return "/buckets/" + bucket + "/reports/"
                + URLEncoder.encode(incident, StandardCharsets.UTF_8).replace("+", "%20") + "/artifacts/" + kind;
    }

    @POST
    @Path("buckets/{id}/merge")
    public Response merge(
            @PathParam("id") String id, @FormParam("into") String into, @FormParam("reason") String reason) {
        String source = Pages.uuid(id);
        String target = Pages.uuid(into == null ? "" : into.strip());
        triage.merge(source, new MergeRequest(target, reason == null || reason.isBlank() ? null : reason));
        return Response.seeOther(URI.create("/buckets/" + target)).build();
    }

    @POST
    @Path("buckets/{id}/unmerge")
    public Response unmerge(@PathParam("id") String id) {
        String source = Pages.uuid(id);
        triage.unmerge(source);
        return Response.seeOther(URI.create("/buckets/" + source)).build();
    }

    @POST
    @Path("buckets/{id}/notes")
    public Response note(@PathParam("id") String id, @FormParam("text") String text) {
        String bucket = Pages.uuid(id);
        triage.note(bucket, new NoteRequest(text));
        return Response.seeOther(URI.create("/buckets/" + bucket)).build();
    }

    @POST
    @Path("buckets/{id}/links")
    public Response link(@PathParam("id") String id, @FormParam("url") String url, @FormParam("title") String title) {
        String bucket = Pages.uuid(id);
        triage.link(bucket, new LinkRequest(url, title == null || title.isBlank() ? null : title));
        return Response.seeOther(URI.create("/buckets/" + bucket)).build();
    }

    @POST
    @Path("buckets/{id}/collection-policy")
    public Response collectionPolicy(@PathParam("id") String id, @FormParam("dump") String dump) {
        String bucket = Pages.uuid(id);
        triage.collectionPolicy(bucket, new CollectionPolicyRequest(dump));
        return Response.seeOther(URI.create("/buckets/" + bucket)).build();
    }

    /** The frames of the bucket's signature: its latest report's console text signed again (stateless). */
    private List<String> frames(BucketDetail bucket) {
        for (Report r : bucket.latest()) {
            var console = artifact(r, "CONSOLE_TEXT");
            if (console.isPresent()) {
                String text = evidence.text(r.incidentId(), console.get());
                if (text != null && !text.isBlank()) {
                    Signature signature = triage.signature(text);
                    return signature.frames() == null ? List.of() : signature.frames();
                }
            }
        }
        return List.of();
    }

    static java.util.Optional<Artifact> artifact(Report report, String kind) {
        return report.artifacts() == null
                ? java.util.Optional.empty()
                : report.artifacts().stream()
                        .filter(a -> kind.equals(a.kind()) && (a.url() != null || a.content() != null))
                        .findFirst();
    }

    private String toJson(Object value) {
        try {
            // Inside a <script type="application/json"> block: "</" must not close it.
            return json.writeValueAsString(value).replace("</", "<\\/");
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
