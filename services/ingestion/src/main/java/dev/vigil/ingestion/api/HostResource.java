package dev.vigil.ingestion.api;

import dev.vigil.ingestion.mapping.VmDtoMapper;
import dev.vigil.ingestion.persistence.HostEntity;
import dev.vigil.ingestion.persistence.HostRepository;
import dev.vigil.problem.ProblemDto;
import dev.vigil.problem.ProblemException;
import dev.vigil.problem.RequestParams;
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

/** The fleet's hosts and their agents. */
@Path("/api/v1/hosts")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Hosts", description = "Fleet inventory: hosts and the agent versions they run")
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
public class HostResource {

    private final HostRepository hosts;
    private final VmDtoMapper mapper;

    HostResource(HostRepository hosts, VmDtoMapper mapper) {
        this.hosts = hosts;
        this.mapper = mapper;
    }

    @GET
    @Operation(summary = "List hosts", description = "Most recently seen first.")
    @APIResponse(responseCode = "200", description = "A page of hosts")
    @APIResponse(
            responseCode = "400",
            description = "Bad page or size",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    public PageDto<HostDto> list(
            @Parameter(description = "From 0, default 0") @QueryParam("page") String page,
            @Parameter(description = "1-500, default 50") @QueryParam("size") String size) {
        PageRequest paging = PageRequest.parse(page, size, 50);
        long total = hosts.count();
        List<HostDto> items = paging.pastEnd(total)
                ? List.of()
                : hosts.page(paging.page(), paging.size()).stream()
                        .map(mapper::toDto)
                        .toList();
        return new PageDto<>(items, paging.page(), paging.size(), total);
    }

    @GET
    @Path("/{id}")
    @Operation(summary = "One host by its id", description = "What dispatch asks before it addresses a command.")
    @APIResponse(responseCode = "200", description = "The host")
    @APIResponse(
            responseCode = "400",
            description = "An id with a NUL character",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    @APIResponse(
            responseCode = "404",
            description = "No host with this id has reported",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    public Response get(@PathParam("id") String id) {
        HostEntity host = hosts.findById(RequestParams.text("the host id", id));
        if (host == null) {
            throw ProblemException.notFound("Host not found", "no host with this id has reported");
        }
        return Response.ok(mapper.toDto(host)).build();
    }
}
