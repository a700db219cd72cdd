package dev.vigil.dispatch.api;

import dev.vigil.dispatch.persistence.HostRepository.Revocation;
import dev.vigil.dispatch.service.HostRevocationService;
import io.quarkus.security.identity.SecurityIdentity;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;

/** Hosts: revoking one for good (admin), and reading whether it is revoked (analyst). */
@Path("/api/v1/hosts")
@Produces(MediaType.APPLICATION_JSON)
@SecurityRequirement(name = "jwt")
public class HostResource {

    /** Why a host is revoked. */
    public record RevocationRequest(String reason) {}

    private final HostRevocationService revocations;
    private final SecurityIdentity identity;

    HostResource(HostRevocationService revocations, SecurityIdentity identity) {
        this.revocations = revocations;
        this.identity = identity;
    }

    /**
     * Revokes the host: its token opens nothing from now on, it cannot enrol again, and ingestion refuses its records
     * once the revocation is on {@code vigil.dispatch.host-revocations.v1} (within a sweep).
     */
    @POST
    @Path("{id}/revocation")
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed(Roles.ADMIN)
    public Revocation revoke(@PathParam("id") String id, RevocationRequest body) {
        return revocations.revoke(
                Queries.hostId(id),
                body == null ? null : body.reason(),
                identity.getPrincipal().getName());
    }

    /** The host's revocation; 404 when it is not revoked. */
    @GET
    @Path("{id}/revocation")
    @RolesAllowed({Roles.ANALYST, Roles.OPERATOR, Roles.ADMIN})
    public Revocation revocation(@PathParam("id") String id) {
        return revocations.revocation(Queries.hostId(id));
    }
}
