package dev.vigil.ingestion.api;

import dev.vigil.ingestion.persistence.FleetRepository;
import dev.vigil.ingestion.persistence.UptimeRepository;
import dev.vigil.problem.ProblemDto;
import dev.vigil.problem.ProblemException;
import dev.vigil.problem.RequestParams;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** The fleet's books: releases and agent versions in the fleet, and the uptime ledger behind crash rates. */
@Path("/api/v1/fleet")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Fleet", description = "Releases, agent versions, and uptime per release: the denominator of crash rates")
@RolesAllowed({Roles.ANALYST, Roles.OPERATOR, Roles.ADMIN})
@SecurityRequirement(name = "jwt")
@APIResponse(
        responseCode = "401",
        description = "No bearer token, or one that is invalid or expired",
        content = @Content(schema = @Schema(implementation = ProblemDto.class)))
@APIResponse(
        responseCode = "403",
        description = "The token has none of the roles this endpoint allows",
        content = @Content(schema = @Schema(implementation = ProblemDto.class)))
public class FleetResource {

    static final int MAX_DAYS = 366;
    private static final String BAD_DATES = "Bad dates";

    private final UptimeRepository uptime;
    private final FleetRepository fleet;

    FleetResource(UptimeRepository uptime, FleetRepository fleet) {
        this.uptime = uptime;
        this.fleet = fleet;
    }

    @GET
    @Path("/releases")
    @Operation(
            summary = "VMs per tenant, product and release",
            description = "How many VMs run each release (as their images declare it) and how many are running now.")
    @APIResponse(responseCode = "200", description = "One row per tenant, product and release")
    public List<FleetRepository.ReleaseCount> releases() {
        return fleet.releases();
    }

    @GET
    @Path("/agent-versions")
    @Operation(
            summary = "Hosts per tenant and agent version",
            description = "Which agent versions the fleet runs, and when a host on each was last heard from.")
    @APIResponse(responseCode = "200", description = "One row per tenant and agent version")
    public List<FleetRepository.AgentVersionCount> agentVersions() {
        return fleet.agentVersions();
    }

    @GET
    @Path("/uptime")
    @Operation(
            summary = "VM-hours per UTC day, tenant, product and release",
            description = "From VMs' lifecycle events and their hosts' heartbeats. An empty product or release is a"
                    + " VM whose image does not declare one.")
    @APIResponse(responseCode = "200", description = "Ledger rows by day")
    @APIResponse(
            responseCode = "400",
            description = "Bad dates or a range over a year, or text with a NUL character",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    public List<UptimeDto> uptime(
            @QueryParam("from") String from,
            @QueryParam("to") String to,
            @QueryParam("product") String product,
            @QueryParam("release") String release) {
        LocalDate first = day("from", from);
        LocalDate last = day("to", to);
        if (last.isBefore(first) || ChronoUnit.DAYS.between(first, last) >= MAX_DAYS) {
            throw ProblemException.badRequest(
                    BAD_DATES, "to must not be before from, and the range at most " + MAX_DAYS + " days");
        }
        return uptime
                .between(first, last, RequestParams.text("product", product), RequestParams.text("release", release))
                .stream()
                .map(r -> new UptimeDto(r.day(), r.tenant(), r.product(), r.release(), r.vmSeconds() / 3600.0))
                .toList();
    }

    private static LocalDate day(String name, String value) {
        if (value == null) {
            throw ProblemException.badRequest(BAD_DATES, name + " is required, as an ISO date such as 2026-11-24");
        }
        try {
            return LocalDate.parse(value);
        } catch (DateTimeParseException e) {
            throw ProblemException.badRequest(
                    BAD_DATES, name + " must be an ISO date such as 2026-11-24 (got " + ProblemDto.echo(value) + ")");
        }
    }
}
