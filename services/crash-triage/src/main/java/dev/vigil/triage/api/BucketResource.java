package dev.vigil.triage.api;

import dev.vigil.problem.ProblemDto;
import dev.vigil.problem.ProblemException;
import dev.vigil.problem.RequestParams;
import dev.vigil.triage.bucket.BucketRepository;
import dev.vigil.triage.view.BucketDetail;
import dev.vigil.triage.view.BucketPage;
import dev.vigil.triage.view.BucketViews;
import dev.vigil.triage.view.HistoryDto;
import dev.vigil.triage.view.SearchPage;
import dev.vigil.triage.view.TrendPage;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.io.IOException;
import java.sql.SQLException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * Crash buckets for analysts: the top ones for a release and time window, their daily trends, and one with its
 * reports or its history by release.
 */
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
    /** Longer search terms are no bucket's title or function. */
    static final int MAX_TERM = 200;
    /** Buckets one trends request may ask for: a page of the top ones. */
    static final int MAX_TREND_BUCKETS = MAX_LIMIT;
    /** Days a trends request covers unless told: two weeks, today included. */
    static final int TREND_DAYS = 14;
    /** Days a bucket's history covers unless told, today included. */
    static final int HISTORY_DAYS = 30;

    private final BucketViews views;

    BucketResource(BucketViews views) {
        this.views = views;
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
    public BucketPage top(
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
        return views.top(product, release, start, end, limit, offset);
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
        return views.search(query, paging.limit(), paging.offset());
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
    @Path("/trends")
    @Operation(
            summary = "Buckets' daily trends",
            description = "Reports of each given bucket detected on each UTC day of [from, to] (default: the last 14"
                    + " days, today included; at most 366), optionally of one product and/or release, 0 on days"
                    + " without any. A bucket merged into another has none: its reports count in the other one.")
    @APIResponse(responseCode = "200", description = "The days and each bucket's count per day")
    @APIResponse(
            responseCode = "400",
            description = "No bucket, more than 200, one that is not a UUID, or bad days",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    public TrendPage trends(
            @Parameter(
                            description = "A bucket id; repeat for each bucket, 1-200 (a 4,096-character URI holds 92)",
                            required = true)
                    @QueryParam("bucket")
                    List<String> bucket,
            @Parameter(description = "First UTC day, e.g. 2026-11-01; default: to minus 13 days") @QueryParam("from")
                    String from,
            @Parameter(description = "Last UTC day, inclusive; default: today") @QueryParam("to") String to,
            @QueryParam("product") String product,
            @QueryParam("release") String release)
            throws SQLException {
        List<UUID> ids = bucketIds(bucket);
        RequestParams.text("product", product);
        RequestParams.text("release", release);
        DayWindow window = DayWindow.parse(from, to, TREND_DAYS);
        return views.trends(ids, product, release, window.first(), window.last());
    }

    /** The distinct bucket ids of a trends request, in the order given. */
    private static List<UUID> bucketIds(List<String> values) {
        if (values == null || values.isEmpty()) {
            throw ProblemException.badRequest(
                    RequestParams.BAD_PARAMETER, "bucket is required: give one or more, e.g. ?bucket=<id>&bucket=<id>");
        }
        if (values.size() > MAX_TREND_BUCKETS) {
            throw ProblemException.badRequest(
                    RequestParams.BAD_PARAMETER,
                    "at most " + MAX_TREND_BUCKETS + " buckets per request, got " + values.size());
        }
        Set<UUID> ids = new LinkedHashSet<>();
        for (String value : values) {
            ids.add(UUID.fromString(RequestParams.uuid("bucket", value)));
        }
        return new ArrayList<>(ids);
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
    public BucketDetail one(@PathParam("id") String id) throws SQLException, IOException {
        UUID uuid = bucketId(id);
        BucketDetail detail = views.detail(uuid);
        if (detail == null) {
            throw ProblemException.notFound("No such bucket", "no bucket " + uuid);
        }
        return detail;
    }

    @GET
    @Path("/{id}/history")
    @Operation(
            summary = "A bucket's history by release",
            description = "The bucket's reports detected on each UTC day of [from, to] (default: the last 30 days,"
                    + " today included; at most 366) per product and release ('' where reports did not say), the"
                    + " releases with most reports in the window first.")
    @APIResponse(responseCode = "200", description = "The days and the bucket's count per release and day")
    @APIResponse(
            responseCode = "400",
            description = "The id is not a UUID, or bad days",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    @APIResponse(
            responseCode = "404",
            description = "No such bucket",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    public HistoryDto history(
            @PathParam("id") String id,
            @Parameter(description = "First UTC day, e.g. 2026-11-01; default: to minus 29 days") @QueryParam("from")
                    String from,
            @Parameter(description = "Last UTC day, inclusive; default: today") @QueryParam("to") String to)
            throws SQLException {
        UUID uuid = bucketId(id);
        DayWindow window = DayWindow.parse(from, to, HISTORY_DAYS);
        HistoryDto history = views.history(uuid, window.first(), window.last());
        if (history == null) {
            throw ProblemException.notFound("No such bucket", "no bucket " + uuid);
        }
        return history;
    }

    /** A bucket id from a path: anything but a UUID names no bucket, and is a bad request rather than a miss. */
    static UUID bucketId(String id) {
        return UUID.fromString(RequestParams.uuid("the bucket id", id));
    }
}
