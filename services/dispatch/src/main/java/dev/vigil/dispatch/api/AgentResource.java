package dev.vigil.dispatch.api;

import dev.vigil.dispatch.domain.LicenseRecord;
import dev.vigil.dispatch.service.DomainService;
import dev.vigil.dispatch.service.LicenseService;
import dev.vigil.dispatch.service.RefusedException;
import io.quarkus.security.identity.SecurityIdentity;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;

/** What an enrolled agent asks dispatch for besides the repository: its VM's domain, and its license leases. */
@Path("/api/v1/agent")
@RolesAllowed(Roles.HOST)
@SecurityRequirement(name = "host")
public class AgentResource {

    /** A domain request: every field may be left out. */
    public record DomainRequest(String release, String vmName, String vmUuid, Map<String, String> parameters) {}

    /** A license as its agent holds it: the signed document in base64. */
    public record AgentLicenseDto(String licenseId, String product, long sequence, String document) {}

    private final DomainService domains;
    private final LicenseService licenses;
    private final SecurityIdentity identity;

    AgentResource(DomainService domains, LicenseService licenses, SecurityIdentity identity) {
        this.domains = domains;
        this.licenses = licenses;
        this.identity = identity;
    }

    /** The signed domain definition of a VM (a {@code SignedMetadata} of a {@code DomainDefinition}). */
    @POST
    @Path("domains")
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_OCTET_STREAM)
    public byte[] domain(DomainRequest body) {
        DomainRequest request = body == null ? new DomainRequest(null, null, null, null) : body;
        return domains.render(host(), request.release(), request.vmName(), request.vmUuid(), request.parameters());
    }

    /** This host's licenses, with the signed document of each. */
    @GET
    @Path("licenses")
    @Produces(MediaType.APPLICATION_JSON)
    public List<AgentLicenseDto> licenses() {
        return licenses.search(host(), null, 100).stream()
                .map(AgentResource::dto)
                .toList();
    }

    /** A lease renewal: the new signed document (or the revoked or ended one, which says to stop). */
    @POST
    @Path("licenses/{id}/renew")
    @Produces(MediaType.APPLICATION_OCTET_STREAM)
    public byte[] renew(@PathParam("id") String id) {
        return licenses.renewLease(Queries.id("license", id), host());
    }

    private String host() {
        if (identity.isAnonymous()) {
            throw RefusedException.badRequest("No host", "send the host token");
        }
        return identity.getPrincipal().getName();
    }

    private static AgentLicenseDto dto(LicenseRecord l) {
        return new AgentLicenseDto(
                l.id().toString(),
                l.product(),
                l.sequence(),
                Base64.getEncoder().encodeToString(l.document()));
    }
}
