package dev.vigil.ingestion.api;

import dev.vigil.ingestion.mapping.VmDtoMapper;
import dev.vigil.ingestion.persistence.HostEntity;
import dev.vigil.ingestion.persistence.HostRepository;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** The fleet's hosts and their agents. */
@Path("/api/v1/hosts")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Hosts", description = "Fleet inventory: hosts and the agent versions they run")
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
    @APIResponse(responseCode = "400", description = "Bad page or size")
    public PageDto<HostDto> list(
            @QueryParam("page") @DefaultValue("0") int page, @QueryParam("size") @DefaultValue("50") int size) {
        VmResource.checkPaging(page, size);
        var items = hosts.page(page, size).stream().map(mapper::toDto).toList();
        return new PageDto<>(items, page, size, hosts.count());
    }

    @GET
    @Path("/{id}")
    @Operation(summary = "One host by its id", description = "What dispatch asks before it addresses a command.")
    @APIResponse(responseCode = "200", description = "The host")
    @APIResponse(
            responseCode = "404",
            description = "No host with this id has reported",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    public Response get(@PathParam("id") String id) {
        HostEntity host = hosts.findById(id);
        if (host == null) {
            return Response.status(Response.Status.NOT_FOUND)
                    .type(MediaType.APPLICATION_JSON)
                    .entity(ProblemDto.of(404, "Host not found", "no host with this id has reported"))
                    .build();
        }
        return Response.ok(mapper.toDto(host)).build();
    }
}
