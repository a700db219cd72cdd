package dev.vigil.ingestion.api;

import dev.vigil.ingestion.mapping.VmDtoMapper;
import dev.vigil.ingestion.persistence.HostRepository;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;
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
}
