package dev.vigil.console.dispatch;

import dev.vigil.console.dispatch.DispatchViews.Command;
import dev.vigil.console.dispatch.DispatchViews.Release;
import dev.vigil.console.dispatch.DispatchViews.Rollout;
import dev.vigil.console.web.SignedInUser;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.util.List;
import org.eclipse.microprofile.rest.client.annotation.RegisterClientHeaders;
import org.eclipse.microprofile.rest.client.inject.RegisterRestClient;

/** Dispatch's rollouts and commands, read as the signed-in user. */
@RegisterRestClient(configKey = "dispatch")
@RegisterClientHeaders(SignedInUser.class)
@Path("/api/v1")
@Produces(MediaType.APPLICATION_JSON)
public interface DispatchApi {

    /** A release of a product. */
    @GET
    @Path("/products/{product}/releases/{release}")
    Release release(@PathParam("product") String product, @PathParam("release") String release);

    /** A product's rollouts, newest first, without their decisions. */
    @GET
    @Path("/rollouts")
    List<Rollout> rollouts(@QueryParam("product") String product, @QueryParam("limit") int limit);

    /** One rollout with every decision. */
    @GET
    @Path("/rollouts/{id}")
    Rollout rollout(@PathParam("id") String id);

    /** The commands sent for a VM, newest first. */
    @GET
    @Path("/commands")
    List<Command> commands(@QueryParam("vm") String vm, @QueryParam("limit") int limit);
}
