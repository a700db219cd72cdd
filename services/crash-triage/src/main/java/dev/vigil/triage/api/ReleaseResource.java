package dev.vigil.triage.api;

import dev.vigil.problem.ProblemDto;
import dev.vigil.problem.ProblemException;
import dev.vigil.problem.RequestParams;
import dev.vigil.triage.regression.ReleaseHealthService;
import dev.vigil.triage.view.BucketViews;
import dev.vigil.triage.view.ReleaseListDto;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.sql.SQLException;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * Product releases for rollout gates and the console: those with crash reports, and a release's crash rate against
 * its previous release's.
 */
@Path("/api/v1/releases")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Releases", description = "Crash rates of product releases, tested against the previous release")
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
public class ReleaseResource {

    /** Longer text is no product's or release's name. */
    static final int MAX_NAME = 200;
    /** Days the list of releases covers unless told, today included. */
    static final int LIST_DAYS = 90;

    private final ReleaseHealthService health;
    private final BucketViews views;

    ReleaseResource(ReleaseHealthService health, BucketViews views) {
        this.health = health;
        this.views = views;
    }

    @GET
    @Operation(
            summary = "Releases with reports",
            description = "The products and releases with crash reports detected in whole UTC days [from, to]"
                    + " (default: the last 90 days, today included; at most 366), each with its reports, the buckets"
                    + " they count in and its first and last report in the window, latest report first. A product"
                    + " or release the reports did not say is ''; reports that said neither are left out.")
    @APIResponse(responseCode = "200", description = "The releases")
    @APIResponse(
            responseCode = "400",
            description = "Bad days, or a window over 366 days",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    public ReleaseListDto list(
            @Parameter(description = "First UTC day, e.g. 2026-11-01; default: to minus 89 days") @QueryParam("from")
                    String from,
            @Parameter(description = "Last UTC day, inclusive; default: today") @QueryParam("to") String to)
            throws SQLException {
        DayWindow window = DayWindow.parse(from, to, LIST_DAYS);
        return views.releases(window.first(), window.last());
    }

    @GET
    @Path("/health")
    @Operation(
            summary = "Release health",
            description = "A product release's crash reports detected in whole UTC days [from, to] (default: the"
                    + " last 30 days, today included), its VM-hours over those days from ingestion's uptime ledger"
                    + " (null when unknown, never guessed) and its rate per 1,000 VM-hours; the same for the"
                    + " previous release (default: the one whose first report came last before this release's); the"
                    + " one-sided exact conditional binomial test of the two rates against minRateRatio at"
                    + " significance (null unless both VM-hours are known and above 0); and the release's recorded"
                    + " regression verdicts.")
    @APIResponse(
            responseCode = "200",
            description = "The release's health",
            content = @Content(schema = @Schema(implementation = ReleaseHealthDto.class)))
    @APIResponse(
            responseCode = "400",
            description = "A missing or too long product or release, bad days, a window over 366 days, or a bad"
                    + " minRateRatio or significance",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    public ReleaseHealthDto health(
            @Parameter(description = "The product, as VM images declare it", required = true) @QueryParam("product")
                    String product,
            @Parameter(description = "The release", required = true) @QueryParam("release") String release,
            @Parameter(description = "The release to compare with; default: triage's previous release")
                    @QueryParam("previous")
                    String previous,
            @Parameter(description = "First UTC day, e.g. 2026-11-01; default: to minus 29 days") @QueryParam("from")
                    String from,
            @Parameter(description = "Last UTC day, inclusive; default: today") @QueryParam("to") String to,
            @Parameter(description = "At least 1; default vigil.triage.regression.min-rate-ratio")
                    @QueryParam("minRateRatio")
                    String minRateRatio,
            @Parameter(description = "Between 0 and 1; default vigil.triage.regression.significance")
                    @QueryParam("significance")
                    String significance)
            throws SQLException {
        String productName = name("product", product);
        String releaseName = name("release", release);
        String previousName = previous == null || previous.isBlank() ? null : name("previous", previous);
        if (releaseName.equals(previousName)) {
            throw ProblemException.badRequest(
                    "Bad product or release", "previous must be another release than release");
        }
        LocalDate last = day("to", to, LocalDate.now(ZoneOffset.UTC));
        LocalDate first = day("from", from, last.minusDays(ReleaseHealthService.DEFAULT_WINDOW_DAYS - 1));
        if (first.isAfter(last)) {
            throw ProblemException.badRequest("Bad window", "from (" + first + ") is after to (" + last + ")");
        }
        if (ChronoUnit.DAYS.between(first, last) >= ReleaseHealthService.MAX_WINDOW_DAYS) {
            throw ProblemException.badRequest(
                    "Bad window",
                    "the window is at most " + ReleaseHealthService.MAX_WINDOW_DAYS + " days, from and to included"
                            + " (the uptime ledger's limit), got " + (ChronoUnit.DAYS.between(first, last) + 1));
        }
        Double ratio = number("minRateRatio", minRateRatio);
        if (ratio != null && ratio < 1) {
            throw ProblemException.badRequest(
                    "Bad rate test", "minRateRatio must be at least 1, got " + ProblemDto.echo(minRateRatio));
        }
        Double alpha = number("significance", significance);
        if (alpha != null && !(alpha > 0 && alpha < 1)) {
            throw ProblemException.badRequest(
                    "Bad rate test",
                    "significance must be between 0 and 1 (exclusive), got " + ProblemDto.echo(significance));
        }
        return ReleaseHealthDto.of(health.health(
                new ReleaseHealthService.Query(productName, releaseName, previousName, first, last, ratio, alpha)));
    }

    private static String name(String parameter, String value) {
        if (value == null || value.isBlank()) {
            throw ProblemException.badRequest("Bad product or release", parameter + " is required");
        }
        if (value.length() > MAX_NAME) {
            throw ProblemException.badRequest(
                    "Bad product or release", parameter + " is at most " + MAX_NAME + " characters");
        }
        return RequestParams.text(parameter, value);
    }

    private static LocalDate day(String parameter, String value, LocalDate fallback) {
        if (value == null || value.isBlank()) {
            return fallback;
        }
        try {
            return LocalDate.parse(value.strip());
        } catch (DateTimeParseException e) {
            throw ProblemException.badRequest(
                    "Bad window",
                    parameter + " must be a UTC day such as 2026-11-24, got '" + ProblemDto.echo(value) + "'");
        }
    }

    private static Double number(String parameter, String value) {
        if (value == null || value.isBlank()) {
            return null;
        }
        double number;
        try {
            number = Double.parseDouble(value.strip());
        } catch (NumberFormatException e) {
            number = Double.NaN;
        }
        if (!Double.isFinite(number)) {
            throw ProblemException.badRequest(
                    "Bad rate test", parameter + " must be a number such as 1.5, got '" + ProblemDto.echo(value) + "'");
        }
        return number;
    }
}
