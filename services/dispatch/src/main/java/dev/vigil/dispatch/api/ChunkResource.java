package dev.vigil.dispatch.api;

import dev.vigil.dispatch.service.ReleaseService;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;

/** Image chunks, uploaded by the hash that names them; a chunk whose bytes do not match it is refused. */
@Path("/api/v1/chunks")
@SecurityRequirement(name = "jwt")
public class ChunkResource {

    /** What became of an uploaded chunk. */
    public record ChunkDto(String sha256, int length, boolean stored) {}

    private final ReleaseService releases;

    ChunkResource(ReleaseService releases) {
        this.releases = releases;
    }

    @PUT
    @Path("{sha256}")
    @Consumes(MediaType.APPLICATION_OCTET_STREAM)
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed({Roles.OPERATOR, Roles.ADMIN})
    public Response put(@PathParam("sha256") String sha256, byte[] body) {
        byte[] bytes = body == null ? new byte[0] : body;
        boolean stored = releases.putChunk(sha256, bytes);
        return Response.status(stored ? 201 : 200)
                .entity(new ChunkDto(sha256, bytes.length, stored))
                .build();
    }
}
