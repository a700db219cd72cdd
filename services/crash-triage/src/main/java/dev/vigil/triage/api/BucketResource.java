package dev.vigil.triage.api;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vigil.problem.ProblemDto;
import dev.vigil.problem.ProblemException;
import dev.vigil.problem.RequestParams;
import dev.vigil.triage.bucket.BucketRepository;
import dev.vigil.triage.bucket.BucketRepository.BucketRow;
import dev.vigil.triage.bucket.BucketRepository.ReportRow;
import dev.vigil.triage.bucket.CurationService;
import dev.vigil.triage.bucket.EvidenceStore;
import dev.vigil.triage.collection.CollectionPolicyService;
import dev.vigil.triage.regression.RegressionRepository;
import dev.vigil.triage.regression.RegressionService;
import dev.vigil.triage.rules.RulesRepository;
import dev.vigil.triage.uptime.UptimeClient;
import io.agroal.api.AgroalDataSource;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** Crash buckets for analysts: the top ones for a release and time window, and one with its reports. */
@Path("/api/v1/buckets")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Buckets", description = "One bucket per crash signature, with its reports and evidence links")
@RolesAllowed({Roles.ANALYST, Roles.ADMIN})
@SecurityRequirement(name = "jwt")
@APIResponse(
        responseCode = "401",
        description = "No valid bearer token",
        content = @Content(schema = @Schema(implementation = ProblemDto.class)))
@APIResponse(
        responseCode = "403",
        description = "The token has neither the analyst nor the admin role",
        content = @Content(schema = @Schema(implementation = ProblemDto.class)))
public class BucketResource {

    static final int MAX_LIMIT = 200;
    static final int MAX_NOTES = 100;
    /** Longer search terms are no bucket's title or function. */
    static final int MAX_TERM = 200;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final AgroalDataSource db;
    private final EvidenceStore store;
    private final UptimeClient uptime;
    private final CollectionPolicyService collection;

    BucketResource(AgroalDataSource db, EvidenceStore store, UptimeClient uptime, CollectionPolicyService collection) {
        this.db = db;
        this.store = store;
        this.uptime = uptime;
        this.collection = collection;
    }

    /**
     * A bucket in a list, with its crash rate when the query names a release and ingestion knows its uptime.
     *
     * @param reports its reports detected in the window (exact)
     * @param hosts distinct hosts of its reports in the UTC days the window touches, estimated (HyperLogLog: exact
     *     for a few, within a few percent for many), never more than {@code reports}
     * @param vms distinct VMs, likewise
     * @param firstSeen its first report in the window
     * @param lastSeen its last report in the window
     * @param ratePer1000VmHours reports in the window per 1,000 VM-hours of the release in the window's days
     * @param regression the bucket's regression verdict in the queried release, or null
     */
    public record BucketDto(
            UUID id,
            String title,
            long reports,
            long hosts,
            long vms,
            Instant firstSeen,
            Instant lastSeen,
            Double ratePer1000VmHours,
            RegressionDto regression) {}

    /**
     * A regression verdict of a bucket in a release, recorded once when first judged.
     *
     * @param kind {@code NEW_IN_RELEASE} (no report in an earlier release of the product) or {@code RATE_INCREASE}
     * @param previousRelease the release compared with: the product's release whose first report came last before
     * @param reports the bucket's reports in the release when judged
     * @param vmHours the release's VM-hours (last 365 days) when judged, if known
     * @param pValue the rate comparison's one-sided p-value ({@code RATE_INCREASE} only)
     */
    public record RegressionDto(
            String kind,
            String product,
            String release,
            String previousRelease,
            long reports,
            Double vmHours,
            Double ratePer1000VmHours,
            long previousReports,
            Double previousVmHours,
            Double previousRatePer1000VmHours,
            Double pValue,
            Instant detectedAt) {

        static RegressionDto of(RegressionRepository.Verdict v) {
            return new RegressionDto(
                    v.kind(),
                    v.product(),
                    v.release(),
                    v.previousRelease(),
                    v.reports(),
                    v.vmHours(),
                    RegressionService.rate(v.reports(), v.vmHours()),
                    v.previousReports(),
                    v.previousVmHours(),
                    RegressionService.rate(v.previousReports(), v.previousVmHours()),
                    v.pValue(),
                    v.detectedAt());
        }
    }

    /**
     * A page of buckets.
     *
     * @param vmHours the release's VM-hours over the window's UTC days, when known
     */
    public record BucketPage(List<BucketDto> items, Double vmHours, int limit, int offset) {}

    /** One artifact of a report, with a link that works for a short while. */
    public record ArtifactDto(String kind, String format, long sizeBytes, String sha256, String status, String url) {}

    /**
     * One report of a bucket.
     *
     * @param provisional filed on the hypervisor's event alone; its evidence is on its way and may move it to the
     *     bucket the evidence signs to
     */
    public record ReportDto(
            String incidentId,
            String title,
            String evidence,
            String product,
            String release,
            String vmUuid,
            String vmName,
            String hostId,
            String trigger,
            Instant detectedAt,
            boolean complete,
            boolean provisional,
            List<ArtifactDto> artifacts) {}

    /** A bucket found by a search. */
    public record SearchDto(
            UUID id,
            String title,
            long reports,
            Instant firstSeen,
            Instant lastSeen,
            List<String> functions,
            String module,
            String bugcheck) {}

    /** A page of search results. */
    public record SearchPage(List<SearchDto> items, int limit, int offset) {}

    /**
     * A bucket with its latest reports.
     *
     * @param mergedInto the merge that makes its reports count in another bucket, or null
     * @param mergedFrom the buckets merged into it
     * @param notes analysts' latest 100 notes, newest first
     * @param links analysts' latest 100 links, newest first
     * @param regressions its regression verdicts in every release, newest first
     * @param collectionPolicy the memory dump policy last requested for its hosts, and its full dumps so far
     * @param keys the symbolic keys that file into it, per rules version (its first 50)
     */
    public record BucketDetail(
            UUID id,
            String title,
            String symbolicKey,
            int rulesVersion,
            long reports,
            long hosts,
            long vms,
            Instant firstSeen,
            Instant lastSeen,
            CurationResource.MergeDto mergedInto,
            List<UUID> mergedFrom,
            List<CurationResource.NoteDto> notes,
            List<CurationResource.NoteDto> links,
            List<RegressionDto> regressions,
            CollectionPolicyDto collectionPolicy,
            List<KeyDto> keys,
            List<ReportDto> latest) {}

    /** A symbolic key that files into a bucket, under one rules version. */
    public record KeyDto(int rulesVersion, String symbolicKey) {}

    /**
     * A bucket's collection policy.
     *
     * @param dump {@code full}, {@code kernel} or {@code none}; null when nothing was requested yet
     * @param mode {@code auto} (follows the full-dump count) or {@code override} (an admin's choice)
     * @param reason {@code BELOW_FULL_DUMP_TARGET}, {@code FULL_DUMP_TARGET_REACHED} or {@code ADMIN_OVERRIDE}
     * @param sequence the number of the bucket's last policy change (0: none yet)
     * @param fullDumps reports counting in the bucket that carry a verified full (ELF) memory dump
     * @param fullDumpTarget full dumps collected before {@code auto} asks for none
     */
    public record CollectionPolicyDto(
            String dump,
            String mode,
            String reason,
            long sequence,
            long fullDumps,
            int fullDumpTarget,
            String setBy,
            Instant setAt) {

        static CollectionPolicyDto of(CollectionPolicyService.View v) {
            return new CollectionPolicyDto(
                    v.dump() == null ? null : v.dump().wire(),
                    v.mode(),
                    v.reason(),
                    v.sequence(),
                    v.fullDumps(),
                    v.fullDumpTarget(),
                    v.setBy(),
                    v.setAt());
        }
    }

    @GET
    @Operation(
            summary = "Top buckets",
            description = "Buckets by the number of reports detected in [from, to) (default: the last 7 days),"
                    + " optionally for one product and release, most first. With a release, and ingestion's uptime"
                    + " ledger reachable (vigil.triage.uptime-url), each carries its crash rate per 1,000 VM-hours"
                    + " of that release over the window's UTC days.")
    @APIResponse(responseCode = "200", description = "A page of buckets")
    @APIResponse(
            responseCode = "400",
            description = "A bad time, limit or offset",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    public Response top(
            @QueryParam("product") String product,
            @QueryParam("release") String release,
            @QueryParam("from") String from,
            @QueryParam("to") String to,
            @QueryParam("limit") String limitText,
            @QueryParam("offset") String offsetText)
            throws SQLException {
        PageParams paging = PageParams.parse(limitText, offsetText, 50, MAX_LIMIT);
        RequestParams.text("product", product);
        RequestParams.text("release", release);
        int limit = paging.limit();
        int offset = paging.offset();
        Instant end;
        Instant start;
        try {
            end = to == null ? Instant.now() : Instant.parse(to);
            start = from == null ? end.minusSeconds(7 * 24 * 3600) : Instant.parse(from);
        } catch (DateTimeParseException e) {
            throw ProblemException.badRequest(
                    "Bad time", "from and to are ISO-8601 instants, e.g. 2026-11-25T00:00:00Z");
        }
        try (Connection c = db.getConnection()) {
            Double hours = release == null
                    ? null
                    : uptime.vmHours(
                                    product,
                                    release,
                                    start.atZone(ZoneOffset.UTC).toLocalDate(),
                                    end.atZone(ZoneOffset.UTC).toLocalDate())
                            .orElse(null);
            List<BucketDto> items = new ArrayList<>();
            List<BucketRow> rows = BucketRepository.top(c, product, release, start, end, limit, offset);
            Map<UUID, RegressionDto> regressions = new java.util.HashMap<>();
            if (release != null && !rows.isEmpty()) {
                for (var v : RegressionRepository.verdicts(
                        c, rows.stream().map(BucketRow::id).toList(), product, release)) {
                    regressions.putIfAbsent(v.bucket(), RegressionDto.of(v));
                }
            }
            for (BucketRow b : rows) {
                Double rate = hours == null || hours <= 0 ? null : b.reports() * 1000.0 / hours;
                items.add(new BucketDto(
                        b.id(),
                        b.title(),
                        b.reports(),
                        b.hosts(),
                        b.vms(),
                        b.firstSeen(),
                        b.lastSeen(),
                        rate,
                        regressions.get(b.id())));
            }
            return Response.ok(new BucketPage(items, hours, limit, offset)).build();
        }
    }

    @GET
    @Path("/search")
    @Operation(
            summary = "Search buckets",
            description = "Buckets matching every given criterion, most reports first: q (text in the title,"
                    + " case-insensitive), function (a function in the signature, e.g. acme_list_del), module (the"
                    + " faulting kernel module), bugcheck (a Windows STOP code in hex, e.g. 0xD1 or d1), product and"
                    + " release (the bucket has reports from it).")
    @APIResponse(responseCode = "200", description = "A page of buckets")
    @APIResponse(
            responseCode = "400",
            description = "A bad term, bugcheck, limit or offset",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    public SearchPage search(
            @Parameter(description = "Text in the title") @QueryParam("q") String text,
            @Parameter(description = "A function in the signature") @QueryParam("function") String function,
            @Parameter(description = "The faulting kernel module") @QueryParam("module") String module,
            @Parameter(description = "A Windows STOP code in hex") @QueryParam("bugcheck") String bugcheck,
            @QueryParam("product") String product,
            @QueryParam("release") String release,
            @Parameter(description = "1-200, default 50") @QueryParam("limit") String limit,
            @Parameter(description = "0-10000, default 0") @QueryParam("offset") String offset)
            throws SQLException {
        PageParams paging = PageParams.parse(limit, offset, 50, MAX_LIMIT);
        var query = new BucketRepository.SearchQuery(
                term("q", text),
                term("function", function),
                term("module", module),
                bugcheck(bugcheck),
                term("product", product),
                term("release", release));
        try (Connection c = db.getConnection()) {
            List<SearchDto> items = new ArrayList<>();
            for (var b : BucketRepository.search(c, query, paging.limit(), paging.offset())) {
                items.add(new SearchDto(
                        b.id(),
                        b.title(),
                        b.reports(),
                        b.firstSeen(),
                        b.lastSeen(),
                        b.functions(),
                        b.module(),
                        b.bugcheck()));
            }
            return new SearchPage(items, paging.limit(), paging.offset());
        }
    }

    private static String term(String name, String value) {
        if (value == null || value.isBlank()) {
            return null;
        }
        if (value.length() > MAX_TERM) {
            throw ProblemException.badRequest("Bad search", name + " is at most " + MAX_TERM + " characters");
        }
        return RequestParams.text(name, value.strip());
    }

    /** A STOP code as the bucket stores it ({@code 0xD1}), from {@code 0xd1}, {@code D1} or {@code 0x000000D1}. */
    private static String bugcheck(String value) {
        String hex = term("bugcheck", value);
        if (hex == null) {
            return null;
        }
        if (hex.startsWith("0x") || hex.startsWith("0X")) {
            hex = hex.substring(2);
        }
        try {
            return String.format("0x%X", Long.parseUnsignedLong(hex, 16));
        } catch (NumberFormatException e) {
            throw ProblemException.badRequest(
                    "Bad search", "bugcheck is a hex STOP code such as 0xD1, got " + ProblemDto.echo(value));
        }
    }

    @GET
    @Path("/{id}")
    @Operation(
            summary = "One bucket",
            description = "The bucket, its counts and its latest 50 reports, each with its evidence and links to"
                    + " the stored artifacts that work for a short while (vigil.triage.link-ttl).")
    @APIResponse(responseCode = "200", description = "The bucket")
    @APIResponse(
            responseCode = "400",
            description = "The id is not a UUID",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    @APIResponse(
            responseCode = "404",
            description = "No such bucket",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    public Response one(@PathParam("id") String id) throws SQLException, IOException {
        UUID uuid = bucketId(id);
        try (Connection c = db.getConnection()) {
            BucketRow b = BucketRepository.bucket(c, uuid);
            if (b == null) {
                throw ProblemException.notFound("No such bucket", "no bucket " + uuid);
            }
            List<ReportDto> reports = new ArrayList<>();
            for (ReportRow r : BucketRepository.reports(c, uuid, 50)) {
                reports.add(new ReportDto(
                        r.incidentId(),
                        r.title(),
                        r.evidence(),
                        r.product(),
                        r.release(),
                        r.vmUuid(),
                        r.vmName(),
                        r.hostId(),
                        r.trigger(),
                        r.detectedAt(),
                        r.complete(),
                        r.provisional(),
                        artifacts(r.artifactsJson())));
            }
            CurationService.Merge merge = CurationService.mergeOf(c, uuid);
            List<CurationResource.NoteDto> notes = new ArrayList<>();
            List<CurationResource.NoteDto> links = new ArrayList<>();
            for (CurationService.Note n : CurationService.notes(c, uuid, "note", MAX_NOTES)) {
                notes.add(note(n));
            }
            for (CurationService.Note n : CurationService.notes(c, uuid, "link", MAX_NOTES)) {
                links.add(note(n));
            }
            return Response.ok(new BucketDetail(
                            b.id(),
                            b.title(),
                            b.symbolicKey(),
                            b.rulesVersion(),
                            b.reports(),
                            b.hosts(),
                            b.vms(),
                            b.firstSeen(),
                            b.lastSeen(),
                            merge == null
                                    ? null
                                    : new CurationResource.MergeDto(
                                            merge.source(),
                                            merge.target(),
                                            merge.mergedBy(),
                                            merge.mergedAt(),
                                            merge.reason(),
                                            0),
                            CurationService.mergedFrom(c, uuid),
                            notes,
                            links,
                            RegressionRepository.verdicts(c, List.of(uuid), null, null).stream()
                                    .map(RegressionDto::of)
                                    .toList(),
                            CollectionPolicyDto.of(collection.view(c, uuid)),
                            RulesRepository.keys(c, uuid, 50).stream()
                                    .map(k -> new KeyDto(k.rulesVersion(), k.symbolicKey()))
                                    .toList(),
                            reports))
                    .build();
        }
    }

    private static CurationResource.NoteDto note(CurationService.Note n) {
        return new CurationResource.NoteDto(n.id(), n.kind(), n.text(), n.url(), n.author(), n.createdAt());
    }

    private List<ArtifactDto> artifacts(String json) throws IOException {
        List<ArtifactDto> list = new ArrayList<>();
        for (Map<String, Object> a :
                JSON.readValue(json, new TypeReference<List<LinkedHashMap<String, Object>>>() {})) {
            String status = String.valueOf(a.get("status"));
            String key = String.valueOf(a.get("objectKey"));
            list.add(new ArtifactDto(
                    String.valueOf(a.get("kind")),
                    String.valueOf(a.get("format")),
                    ((Number) a.get("sizeBytes")).longValue(),
                    String.valueOf(a.get("sha256")),
                    status,
                    "VERIFIED".equals(status) ? store.link(key) : null));
        }
        return list;
    }

    /** A bucket id from a path: anything but a UUID names no bucket, and is a bad request rather than a miss. */
    static UUID bucketId(String id) {
        return UUID.fromString(RequestParams.uuid("the bucket id", id));
    }
}
