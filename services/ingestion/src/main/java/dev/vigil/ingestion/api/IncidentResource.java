package dev.vigil.ingestion.api;

import dev.vigil.ingestion.mapping.AgentEventMapper;
import dev.vigil.ingestion.persistence.IncidentRepository;
import dev.vigil.ingestion.service.IncidentQueries;
import dev.vigil.problem.ProblemDto;
import dev.vigil.problem.ProblemException;
import dev.vigil.problem.RequestParams;
import dev.vigil.schemas.crash.IncidentTrigger;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** Incidents as ingestion assembles them into crash reports. */
@Path("/api/v1/incidents")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Incidents", description = "Crashes, hangs, watchdogs and I/O-error pauses with their evidence")
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
public class IncidentResource {

    private final IncidentQueries incidents;

    IncidentResource(IncidentQueries incidents) {
        this.incidents = incidents;
    }

    /** What opens an incident: the kinds crash reports say, and the vendor's interrupt (kept, not triaged). */
    private static final String[] TRIGGERS = {
        IncidentTrigger.CRASH.name(),
        IncidentTrigger.HANG.name(),
        IncidentTrigger.WATCHDOG.name(),
        IncidentTrigger.IO_ERROR.name(),
        AgentEventMapper.INTERRUPT
    };

    @GET
    @Operation(
            summary = "List incidents",
            description = "The most recently opened first, each with its artifacts; an open one says which evidence it"
                    + " still waits for (waitingFor) and until when (deadline).")
    @APIResponse(responseCode = "200", description = "A page of incidents")
    @APIResponse(
            responseCode = "400",
            description = "Bad page, size or filter",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    public PageDto<IncidentDto> list(
            @Parameter(description = "open (not reported yet) or reported") @QueryParam("state") String state,
            @Parameter(description = "true or false: whether the report had every expected kind of evidence")
                    @QueryParam("complete")
                    String complete,
            @Parameter(description = "CRASH, HANG, WATCHDOG, IO_ERROR or INTERRUPT") @QueryParam("trigger")
                    String trigger,
            @Parameter(description = "The host's id") @QueryParam("host") String host,
            @Parameter(description = "The VM's libvirt UUID") @QueryParam("vm") String vm,
            @Parameter(description = "From 0, default 0") @QueryParam("page") String page,
            @Parameter(description = "1-500, default 50") @QueryParam("size") String size) {
        PageRequest paging = PageRequest.parse(page, size, 50);
        IncidentRepository.Filter filter = new IncidentRepository.Filter(
                state == null
                        ? null
                        : choice("state", state, "open", "reported").equals("open"),
                complete == null ? null : Boolean.valueOf(choice("complete", complete, "true", "false")),
                trigger == null ? null : choice("trigger", trigger, TRIGGERS),
                host == null ? null : RequestParams.text("host", host),
                vm == null ? null : RequestParams.uuid("the VM id", vm));
        long total = incidents.count(filter);
        List<IncidentDto> items =
                paging.pastEnd(total) ? List.of() : incidents.page(filter, paging.page(), paging.size());
        return new PageDto<>(items, paging.page(), paging.size(), total);
    }

    /** A query parameter that must be one of {@code allowed}; anything else is a 400 naming them. */
    private static String choice(String name, String value, String... allowed) {
        for (String a : allowed) {
            if (a.equals(value)) {
                return a;
            }
        }
        throw ProblemException.badRequest(
                RequestParams.BAD_PARAMETER,
                name + " is one of " + String.join(", ", allowed) + " (got '" + ProblemDto.echo(value) + "')");
    }

    @GET
    @Path("/{id}")
    @Operation(
            summary = "One incident",
            description = "By its id (the event id of the trigger that opened it, or of any trigger that joined it),"
                    + " with every artifact that names it and whether its crash report went out.")
    @APIResponse(responseCode = "200", description = "The incident")
    @APIResponse(
            responseCode = "400",
            description = "The id is not a UUID",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    @APIResponse(
            responseCode = "404",
            description = "No incident with this id",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    public Response get(@PathParam("id") String id) {
        // Incident ids are event ids, which ingestion only accepts as UUIDs.
        String incident = RequestParams.uuid("the incident id", id);
        return incidents
                .find(incident)
                .map(found -> Response.ok(found).build())
                .orElseThrow(() -> ProblemException.notFound("Incident not found", "no incident has id " + incident));
    }
}
