package dev.vigil.console.triage;

import dev.vigil.console.triage.TriageViews.BucketDetail;
import dev.vigil.console.triage.TriageViews.BucketPage;
import dev.vigil.console.triage.TriageViews.CollectionPolicyRequest;
import dev.vigil.console.triage.TriageViews.History;
import dev.vigil.console.triage.TriageViews.LinkRequest;
import dev.vigil.console.triage.TriageViews.MergeRequest;
import dev.vigil.console.triage.TriageViews.NoteRequest;
import dev.vigil.console.triage.TriageViews.ReleaseHealth;
import dev.vigil.console.triage.TriageViews.ReleaseList;
import dev.vigil.console.triage.TriageViews.Signature;
import dev.vigil.console.triage.TriageViews.Trends;
import dev.vigil.console.web.SignedInUser;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.List;
import org.eclipse.microprofile.rest.client.annotation.RegisterClientHeaders;
import org.eclipse.microprofile.rest.client.inject.RegisterRestClient;

/** Crash triage's API, called as the signed-in user (their access token), so triage decides what they may do. */
@RegisterRestClient(configKey = "triage")
@RegisterClientHeaders(SignedInUser.class)
@Path("/api/v1")
@Produces(MediaType.APPLICATION_JSON)
public interface TriageApi {

    @GET
    @Path("/buckets")
    BucketPage top(
            @QueryParam("product") String product,
            @QueryParam("release") String release,
            @QueryParam("from") String from,
            @QueryParam("to") String to,
            @QueryParam("limit") int limit);

    @GET
    @Path("/buckets/search")
    BucketPage search(
            @QueryParam("q") String text,
            @QueryParam("product") String product,
            @QueryParam("release") String release,
            @QueryParam("limit") int limit);

    @GET
    @Path("/buckets/trends")
    Trends trends(
            @QueryParam("bucket") List<String> buckets,
            @QueryParam("from") String from,
            @QueryParam("to") String to,
            @QueryParam("product") String product,
            @QueryParam("release") String release);

    @GET
    @Path("/buckets/{id}")
    BucketDetail bucket(@PathParam("id") String id);

    /** A report's evidence, decrypted by triage when the agent encrypted it; the entity is its bytes. */
    @GET
    @Path("/reports/{incident}/artifacts/{kind}")
    @Produces({MediaType.APPLICATION_OCTET_STREAM, "image/png", MediaType.TEXT_PLAIN})
    Response artifact(@PathParam("incident") String incident, @PathParam("kind") String kind);

    @GET
    @Path("/buckets/{id}/history")
    History history(@PathParam("id") String id, @QueryParam("from") String from, @QueryParam("to") String to);

    @POST
    @Path("/buckets/{id}/merge")
    @Consumes(MediaType.APPLICATION_JSON)
    void merge(@PathParam("id") String id, MergeRequest request);

    @POST
    @Path("/buckets/{id}/unmerge")
    void unmerge(@PathParam("id") String id);

    @POST
    @Path("/buckets/{id}/notes")
    @Consumes(MediaType.APPLICATION_JSON)
    void note(@PathParam("id") String id, NoteRequest request);

    @POST
    @Path("/buckets/{id}/links")
    @Consumes(MediaType.APPLICATION_JSON)
    void link(@PathParam("id") String id, LinkRequest request);

    @PUT
    @Path("/buckets/{id}/collection-policy")
    @Consumes(MediaType.APPLICATION_JSON)
    void collectionPolicy(@PathParam("id") String id, CollectionPolicyRequest request);

    @GET
    @Path("/releases")
    ReleaseList releases(@QueryParam("from") String from, @QueryParam("to") String to);

    @GET
    @Path("/releases/health")
    ReleaseHealth health(@QueryParam("product") String product, @QueryParam("release") String release);

    @POST
    @Path("/signatures")
    @Consumes(MediaType.TEXT_PLAIN)
    Signature signature(String consoleText);
}
