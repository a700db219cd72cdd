package dev.vigil.dispatch.api;

import dev.vigil.dispatch.domain.Release;
import dev.vigil.dispatch.domain.TemplateParameter;
import dev.vigil.dispatch.service.ImageDeclaration;
import dev.vigil.dispatch.service.RefusedException;
import dev.vigil.dispatch.service.ReleaseService;
import dev.vigil.dispatch.service.UploadStatus;
import io.quarkus.security.identity.SecurityIdentity;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;

/**
 * A product's releases: create one with its domain template, declare its image as chunks, upload the chunks
 * ({@link ChunkResource}), verify, publish.
 */
@Path("/api/v1/products/{product}/releases")
@Produces(MediaType.APPLICATION_JSON)
@SecurityRequirement(name = "jwt")
public class ReleaseResource {

    /** A new release. */
    public record NewRelease(
            String release, String channel, String domainTemplate, List<TemplateParameter> parameters, String notes) {}

    private final ReleaseService releases;
    private final SecurityIdentity identity;

    ReleaseResource(ReleaseService releases, SecurityIdentity identity) {
        this.releases = releases;
        this.identity = identity;
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed({Roles.OPERATOR, Roles.ADMIN})
    public Response create(@PathParam("product") String product, NewRelease body) {
        if (body == null) {
            throw RefusedException.badRequest(
                    "Bad release", "send {release, channel, domainTemplate, parameters, notes}");
        }
        Release release = releases.createRelease(
                product,
                body.release(),
                body.channel(),
                body.domainTemplate(),
                body.parameters(),
                body.notes(),
                identity.getPrincipal().getName());
        return Response.created(URI.create("/api/v1/products/" + product + "/releases/" + release.version()))
                .entity(ReleaseDto.of(release))
                .build();
    }

    @GET
    @RolesAllowed({Roles.ANALYST, Roles.OPERATOR, Roles.ADMIN})
    public List<ReleaseDto> list(@PathParam("product") String product) {
        return releases.releases(product).stream().map(ReleaseDto::of).toList();
    }

    @GET
    @Path("{release}")
    @RolesAllowed({Roles.ANALYST, Roles.OPERATOR, Roles.ADMIN})
    public ReleaseDto get(@PathParam("product") String product, @PathParam("release") String release) {
        return ReleaseDto.of(releases.release(product, release));
    }

    /**
     * Declares the release's image as a manifest of chunks and answers with the chunks still to upload. Declaring
     * the same image again after an interruption answers with what is left.
     */
    @PUT
    @Path("{release}/image")
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed({Roles.OPERATOR, Roles.ADMIN})
    public UploadStatus declareImage(
            @PathParam("product") String product, @PathParam("release") String release, ImageDeclaration body) {
        return releases.declareImage(product, release, body);
    }

    /** Starts the check of the uploaded image; poll the release for the verdict. */
    @POST
    @Path("{release}/image/verify")
    @RolesAllowed({Roles.OPERATOR, Roles.ADMIN})
    public Response verify(@PathParam("product") String product, @PathParam("release") String release) {
        return Response.accepted(ReleaseDto.of(releases.verify(product, release)))
                .build();
    }

    /** Signs a verified release into the product's targets: agents can install it. */
    @POST
    @Path("{release}/publish")
    @RolesAllowed({Roles.OPERATOR, Roles.ADMIN})
    public ReleaseDto publish(@PathParam("product") String product, @PathParam("release") String release) {
        return ReleaseDto.of(
                releases.publish(product, release, identity.getPrincipal().getName()));
    }
}
