package dev.vigil.dispatch.api;

import dev.vigil.dispatch.config.DispatchConfig;
import dev.vigil.dispatch.domain.Host;
import dev.vigil.dispatch.persistence.MetadataRepository.Stored;
import dev.vigil.dispatch.service.AgentRepositoryService;
import dev.vigil.schemas.delivery.Role;
import io.quarkus.security.identity.SecurityIdentity;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.CacheControl;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;

/**
 * The signed delivery repository, for enrolled agents: root versions, the current timestamp, snapshots and each
 * product's targets by version (so what a timestamp pins can always be fetched), image manifests, and chunks
 * (redirected to a short-lived link of the object store). Documents are the exact signed bytes
 * ({@code SignedMetadata}, Avro single-object encoding); agents verify them with {@code TrustedMetadata}.
 */
@Path("/api/v1/agent/repository")
@Produces(MediaType.APPLICATION_OCTET_STREAM)
@RolesAllowed(Roles.HOST)
@SecurityRequirement(name = "host")
public class AgentRepositoryResource {

    private final AgentRepositoryService repository;
    private final SecurityIdentity identity;
    private final DispatchConfig config;

    AgentRepositoryResource(AgentRepositoryService repository, SecurityIdentity identity, DispatchConfig config) {
        this.repository = repository;
        this.identity = identity;
        this.config = config;
    }

    @GET
    @Path("root/{version}")
    public Response root(@PathParam("version") long version) {
        return document(repository.version(Role.ROOT, "root", version), true);
    }

    /** The one document fetched without a version: it says which snapshot is current. */
    @GET
    @Path("timestamp")
    public Response timestamp() {
        return document(repository.latest(Role.TIMESTAMP, "timestamp"), false);
    }

    @GET
    @Path("snapshot/{version}")
    public Response snapshot(@PathParam("version") long version) {
        return document(repository.version(Role.SNAPSHOT, "snapshot", version), true);
    }

    @GET
    @Path("targets/{product}/{version}")
    public Response targets(@PathParam("product") String product, @PathParam("version") long version) {
        repository.requireProduct(host(), product);
        return document(repository.version(Role.TARGETS, product, version), true);
    }

    @GET
    @Path("images/{product}/{release}/manifest")
    public Response manifest(@PathParam("product") String product, @PathParam("release") String release) {
        repository.requireProduct(host(), product);
        return Response.ok(repository.manifest(product, release))
                .cacheControl(immutable())
                .build();
    }

    /** A chunk: a redirect to the object store, valid for {@code vigil.dispatch.chunk-link-ttl}. */
    @GET
    @Path("chunks/{sha256}")
    public Response chunk(@PathParam("sha256") String sha256) {
        return Response.temporaryRedirect(URI.create(
                        repository.chunkLink(sha256, config.dispatch().chunkLinkTtl())))
                .build();
    }

    private Host host() {
        return repository.host(identity.getPrincipal().getName());
    }

    private static Response document(Stored document, boolean versioned) {
        CacheControl cache = versioned ? immutable() : noStore();
        return Response.ok(document.body())
                .cacheControl(cache)
                .tag(document.sha256())
                .build();
    }

    private static CacheControl immutable() {
        CacheControl cache = new CacheControl();
        cache.setMaxAge(31_536_000);
        cache.setPrivate(true);
        return cache;
    }

    private static CacheControl noStore() {
        CacheControl cache = new CacheControl();
        cache.setNoStore(true);
        return cache;
    }
}
