package dev.vigil.ingestion.api;

import dev.vigil.ingestion.service.IncidentQueries;
import dev.vigil.problem.ProblemDto;
import dev.vigil.problem.ProblemException;
import dev.vigil.problem.RequestParams;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** Incidents as ingestion assembles them into crash reports. */
@Path("/api/v1/incidents")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Incidents", description = "Crashes, hangs, watchdogs and I/O-error pauses with their evidence")
public class IncidentResource {

    private final IncidentQueries incidents;

    IncidentResource(IncidentQueries incidents) {
        this.incidents = incidents;
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
