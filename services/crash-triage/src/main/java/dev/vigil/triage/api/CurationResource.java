package dev.vigil.triage.api;

import dev.vigil.problem.ProblemDto;
import dev.vigil.problem.ProblemException;
import dev.vigil.triage.bucket.CurationException;
import dev.vigil.triage.bucket.CurationService;
import dev.vigil.triage.bucket.CurationService.Note;
import dev.vigil.triage.collection.CollectionPolicyService;
import dev.vigil.triage.collection.DumpPolicy;
import dev.vigil.triage.collection.PolicyRefusedException;
import dev.vigil.triage.view.CollectionPolicyDto;
import dev.vigil.triage.view.MergeDto;
import dev.vigil.triage.view.NoteDto;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;
import java.net.URI;
import java.net.URISyntaxException;
import java.sql.SQLException;
import java.util.Locale;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * What analysts change about buckets: merges, unmerges and collection policy (admins), notes and links (analysts).
 */
@Path("/api/v1/buckets/{id}")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Curation", description = "Merge and unmerge buckets; notes and bug-tracker links")
@SecurityRequirement(name = "jwt")
@APIResponse(
        responseCode = "401",
        description = "No valid bearer token",
        content = @Content(schema = @Schema(implementation = ProblemDto.class)))
@APIResponse(
        responseCode = "403",
        description = "The token lacks the role this needs",
        content = @Content(schema = @Schema(implementation = ProblemDto.class)))
@APIResponse(
        responseCode = "400",
        description = "The bucket id is not a UUID",
        content = @Content(schema = @Schema(implementation = ProblemDto.class)))
@APIResponse(
        responseCode = "404",
        description = "No such bucket",
        content = @Content(schema = @Schema(implementation = ProblemDto.class)))
public class CurationResource {

    static final int MAX_NOTE = 4000;
    static final int MAX_URL = 2048;
    static final int MAX_TITLE = 200;
    static final int MAX_REASON = 500;

    private final CurationService curation;
    private final CollectionPolicyService collection;

    CurationResource(CurationService curation, CollectionPolicyService collection) {
        this.curation = curation;
        this.collection = collection;
    }

    /** A merge request: the bucket to merge into, and why. */
    public record MergeRequest(String into, String reason) {}

    /** A note to add. */
    public record NoteRequest(String text) {}

    /** A link to add: a bug-tracker issue, a patch, a thread. */
    public record LinkRequest(String url, String title) {}

    /** An admin's collection policy: {@code full}, {@code kernel}, {@code none}, or {@code auto} to hand it back. */
    public record CollectionPolicyRequest(String dump) {}

    @POST
    @Path("/merge")
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed(Roles.ADMIN)
    @Operation(
            summary = "Merge this bucket into another",
            description = "Its reports, and every report filed later under its signature, count in the other bucket"
                    + " until it is unmerged. Buckets merged into this one follow it.")
    @APIResponse(responseCode = "200", description = "The merge")
    @APIResponse(
            responseCode = "409",
            description = "Already merged, merging into itself, or into a bucket that is itself merged",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    public MergeDto merge(@PathParam("id") String id, MergeRequest request, @Context SecurityContext who)
            throws SQLException {
        if (request == null || request.into() == null) {
            throw ProblemException.badRequest("Bad merge", "send {\"into\": \"<bucket id>\", \"reason\": \"...\"}");
        }
        String reason = bounded("reason", request.reason(), MAX_REASON, false);
        try {
            return MergeDto.of(curation.merge(bucket(id), bucket(request.into()), author(who), reason));
        } catch (CurationException e) {
            throw refused(e);
        }
    }

    @POST
    @Path("/unmerge")
    @RolesAllowed(Roles.ADMIN)
    @Operation(
            summary = "Undo this bucket's merge",
            description = "Its own reports count in it again, and both buckets' counts are what their reports say.")
    @APIResponse(responseCode = "200", description = "The merge that was undone")
    @APIResponse(
            responseCode = "409",
            description = "The bucket is not merged",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    public MergeDto unmerge(@PathParam("id") String id, @Context SecurityContext who) throws SQLException {
        try {
            return MergeDto.of(curation.unmerge(bucket(id), author(who)));
        } catch (CurationException e) {
            throw refused(e);
        }
    }

    @PUT
    @Path("/collection-policy")
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed(Roles.ADMIN)
    @Operation(
            summary = "Set the bucket's memory dump policy",
            description = "full, kernel or none holds until set again, whatever the bucket's full dumps; auto hands it"
                    + " back to them (full below vigil.triage.collection.full-dumps, none after). A change is"
                    + " published as a COLLECTION_POLICY request on vigil.crash.triaged.v1; setting the policy in"
                    + " force changes nothing.")
    @APIResponse(responseCode = "200", description = "The bucket's policy now")
    @APIResponse(
            responseCode = "400",
            description = "Not full, kernel, none or auto",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    @APIResponse(
            responseCode = "409",
            description = "The bucket is merged into another, whose policy its reports follow",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    public CollectionPolicyDto collectionPolicy(
            @PathParam("id") String id, CollectionPolicyRequest request, @Context SecurityContext who)
            throws SQLException {
        String value = request == null || request.dump() == null
                ? ""
                : request.dump().strip().toLowerCase(Locale.ROOT);
        DumpPolicy dump = DumpPolicy.ofWire(value);
        if (dump == null && !value.equals("auto")) {
            throw ProblemException.badRequest(
                    "Bad collection policy", "send {\"dump\": \"full\"}, \"kernel\", \"none\" or \"auto\"");
        }
        try {
            return CollectionPolicyDto.of(collection.set(bucket(id), dump, author(who)));
        } catch (PolicyRefusedException e) {
            throw switch (e.reason()) {
                case NO_SUCH_BUCKET -> new ProblemException(404, "No such bucket", e.getMessage());
                case MERGED -> new ProblemException(409, "Conflict", e.getMessage());
            };
        }
    }

    @POST
    @Path("/notes")
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed({Roles.ANALYST, Roles.ADMIN})
    @Operation(summary = "Add a note", description = "Text up to 4,000 characters; the author is the token's name.")
    @APIResponse(responseCode = "201", description = "The note")
    @APIResponse(
            responseCode = "400",
            description = "Empty or too long",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    public Response note(@PathParam("id") String id, NoteRequest request, @Context SecurityContext who)
            throws SQLException {
        String text = bounded("text", request == null ? null : request.text(), MAX_NOTE, true);
        return created(id, "note", text, null, who);
    }

    @POST
    @Path("/links")
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed({Roles.ANALYST, Roles.ADMIN})
    @Operation(
            summary = "Add a link",
            description = "An absolute http(s) URL up to 2,048 characters (e.g. the bug-tracker issue) with an"
                    + " optional title up to 200; the author is the token's name.")
    @APIResponse(responseCode = "201", description = "The link")
    @APIResponse(
            responseCode = "400",
            description = "Not an http(s) URL, or too long",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    public Response link(@PathParam("id") String id, LinkRequest request, @Context SecurityContext who)
            throws SQLException {
        String url = url(request == null ? null : request.url());
        String title = bounded("title", request.title(), MAX_TITLE, false);
        return created(id, "link", title, url, who);
    }

    private Response created(String id, String kind, String text, String url, SecurityContext who) throws SQLException {
        try {
            Note n = curation.annotate(bucket(id), kind, text, url, author(who));
            return Response.status(201).entity(NoteDto.of(n)).build();
        } catch (CurationException e) {
            throw refused(e);
        }
    }

    static String url(String value) {
        if (value == null || value.isBlank() || value.length() > MAX_URL) {
            throw ProblemException.badRequest("Bad link", "url is required, at most " + MAX_URL + " characters");
        }
        try {
            URI uri = new URI(value.strip());
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!(scheme.equals("http") || scheme.equals("https"))
                    || uri.getHost() == null
                    || uri.getUserInfo() != null) {
                throw ProblemException.badRequest(
                        "Bad link", "url must be an absolute http or https URL with a host and no credentials");
            }
            return uri.toString();
        } catch (URISyntaxException e) {
            throw ProblemException.badRequest("Bad link", "url is not a URL: " + e.getReason());
        }
    }

    private static String bounded(String name, String value, int max, boolean required) {
        if (value == null || value.isBlank()) {
            if (required) {
                throw ProblemException.badRequest("Bad " + name, name + " is required");
            }
            return null;
        }
        if (value.length() > max) {
            throw ProblemException.badRequest("Bad " + name, name + " is at most " + max + " characters");
        }
        if (value.indexOf('\0') >= 0) {
            // PostgreSQL text cannot hold NUL.
            throw ProblemException.badRequest("Bad " + name, name + " must not contain a NUL character");
        }
        return value.strip();
    }

    private static UUID bucket(String id) {
        return BucketResource.bucketId(id);
    }

    private static String author(SecurityContext who) {
        return who.getUserPrincipal().getName();
    }

    private static ProblemException refused(CurationException e) {
        return switch (e.reason()) {
            case NO_SUCH_BUCKET -> new ProblemException(404, "No such bucket", e.getMessage());
            case SAME_BUCKET, ALREADY_MERGED, TARGET_MERGED, NOT_MERGED ->
                new ProblemException(409, "Conflict", e.getMessage());
        };
    }
}
