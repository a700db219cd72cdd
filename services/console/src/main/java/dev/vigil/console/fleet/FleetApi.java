package dev.vigil.console.fleet;

import dev.vigil.console.fleet.FleetViews.Event;
import dev.vigil.console.fleet.FleetViews.Feedback;
import dev.vigil.console.fleet.FleetViews.Incident;
import dev.vigil.console.fleet.FleetViews.Page;
import dev.vigil.console.fleet.FleetViews.Vm;
import dev.vigil.console.web.SignedInUser;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.rest.client.annotation.RegisterClientHeaders;
import org.eclipse.microprofile.rest.client.inject.RegisterRestClient;

/** Ingestion's inventory and timelines, called as the signed-in user. */
@RegisterRestClient(configKey = "ingestion")
@RegisterClientHeaders(SignedInUser.class)
@Path("/api/v1")
@Produces(MediaType.APPLICATION_JSON)
public interface FleetApi {

    @GET
    @Path("/vms")
    Page<Vm> vms(@QueryParam("page") int page, @QueryParam("size") int size);

    @GET
    @Path("/vms/{id}")
    Vm vm(@PathParam("id") String id);

    @GET
    @Path("/vms/{id}/events")
    Page<Event> events(@PathParam("id") String id, @QueryParam("page") int page, @QueryParam("size") int size);

    @GET
    @Path("/vms/{id}/feedback")
    Page<Feedback> feedback(@PathParam("id") String id, @QueryParam("page") int page, @QueryParam("size") int size);

    @GET
    @Path("/incidents")
    Page<Incident> incidents(
            @QueryParam("vm") String vm, @QueryParam("state") String state, @QueryParam("size") int size);
}
