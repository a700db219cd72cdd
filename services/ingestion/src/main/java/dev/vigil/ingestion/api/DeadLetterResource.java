package dev.vigil.ingestion.api;

import dev.vigil.ingestion.persistence.ReplayRepository;
import dev.vigil.ingestion.service.DeadLetterReplayService;
import dev.vigil.problem.ProblemDto;
import dev.vigil.problem.ProblemException;
import dev.vigil.problem.RequestParams;
import dev.vigil.schemas.DeadLetterReason;
import dev.vigil.schemas.TopicCatalog;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;
import jakarta.ws.rs.core.UriInfo;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** Operators re-drive dead-lettered records after fixing what refused them, as background jobs they can follow. */
@Path("/api/v1/dead-letters")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Dead letters", description = "Re-drive refused records after a fix")
@RolesAllowed({Roles.OPERATOR, Roles.ADMIN})
@SecurityRequirement(name = "jwt")
@APIResponse(
        responseCode = "401",
        description = "No bearer token, or one that is invalid or expired",
        content = @Content(schema = @Schema(implementation = ProblemDto.class)))
@APIResponse(
        responseCode = "403",
        description = "The token has none of the roles this endpoint allows",
        content = @Content(schema = @Schema(implementation = ProblemDto.class)))
public class DeadLetterResource {

    static final int MAX_LIMIT = 100_000;

    private final DeadLetterReplayService replay;

    DeadLetterResource(DeadLetterReplayService replay) {
        this.replay = replay;
    }

    /** A replay: what it was asked, how far it got, and how it ended. */
    public record ReplayDto(
            String id,
            String requestedBy,
            String reason,
            String sourceTopic,
            int limit,

            @Schema(description = "RUNNING, DONE, FAILED or INTERRUPTED")
            String state,

            @Schema(description = "Dead-letter records read")
            long scanned,

            @Schema(description = "Matching records an earlier replay sent back already, not sent again")
            long alreadyReplayed,

            @Schema(description = "Records sent back whose send the broker acknowledged")
            long replayed,

            @Schema(description = "Records whose send failed; the next replay tries them again")
            long failed,

            Map<String, Long> replayedByReason,
            String error,
            Instant startedAt,
            Instant finishedAt) {

        static ReplayDto of(ReplayRepository.Replay r) {
            return new ReplayDto(
                    r.id().toString(),
                    r.requestedBy(),
                    r.reason(),
                    r.sourceTopic(),
                    r.maxRecords(),
                    r.state(),
                    r.scanned(),
                    r.alreadyReplayed(),
                    r.replayed(),
                    r.failed(),
                    r.replayedByReason(),
                    r.error(),
                    r.startedAt(),
                    r.finishedAt());
        }
    }

    @POST
    @Path("/replays")
    @Operation(
            summary = "Start sending dead-lettered records back to their source topic",
            description = "A background job: reads the dead-letter topic up to its end when it starts; matching"
                    + " records that no earlier replay sent back are sent again and validated again. Follow it at"
                    + " the Location returned.")
    @APIResponse(responseCode = "202", description = "The replay, started")
    @APIResponse(
            responseCode = "400",
            description = "Unknown reason or topic, or a bad limit",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    @APIResponse(
            responseCode = "409",
            description = "Another replay is running",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    public Response start(
            @QueryParam("reason") String reason,
            @QueryParam("sourceTopic") String sourceTopic,
            @Parameter(description = "1-100000, default 1000") @QueryParam("limit") String limitText,
            @Context SecurityContext security,
            @Context UriInfo uri) {
        int limit = RequestParams.wholeNumber("limit", limitText, 1000);
        if (reason != null
                && Arrays.stream(DeadLetterReason.values())
                        .noneMatch(r -> r.name().equals(reason))) {
            throw bad("unknown reason " + ProblemDto.echo(reason) + "; one of "
                    + Arrays.toString(DeadLetterReason.values()));
        }
        if (sourceTopic != null) {
            try {
                TopicCatalog.byName(sourceTopic);
            } catch (NoSuchElementException e) {
                throw bad("unknown source topic " + ProblemDto.echo(sourceTopic));
            }
        }
        if (limit < 1 || limit > MAX_LIMIT) {
            throw bad("limit must be between 1 and " + MAX_LIMIT);
        }
        String who = security.getUserPrincipal() == null
                ? "unknown"
                : security.getUserPrincipal().getName();
        try {
            ReplayDto started = ReplayDto.of(replay.start(reason, sourceTopic, limit, who));
            return Response.accepted(started)
                    .location(uri.getBaseUriBuilder()
                            .path("/api/v1/dead-letters/replays/" + started.id())
                            .build())
                    .build();
        } catch (DeadLetterReplayService.AlreadyRunning e) {
            throw new ProblemException(
                    409,
                    "A replay is running",
                    "replay " + e.running() + " is running; follow it at /api/v1/dead-letters/replays/" + e.running()
                            + " and start another when it is done");
        }
    }

    @GET
    @Path("/replays")
    @Operation(summary = "The latest replays, newest first")
    @APIResponse(responseCode = "200", description = "Up to 50 replays")
    public List<ReplayDto> list() {
        return replay.latest(50).stream().map(ReplayDto::of).toList();
    }

    @GET
    @Path("/replays/{id}")
    @Operation(summary = "One replay: its progress while it runs, its result when done")
    @APIResponse(responseCode = "200", description = "The replay")
    @APIResponse(
            responseCode = "400",
            description = "The id is not a UUID",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    @APIResponse(
            responseCode = "404",
            description = "No replay with this id",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    public ReplayDto get(@PathParam("id") String id) {
        ReplayRepository.Replay found = replay.find(UUID.fromString(RequestParams.uuid("the replay id", id)));
        if (found == null) {
            throw ProblemException.notFound("Replay not found", "no replay with this id");
        }
        return ReplayDto.of(found);
    }

    private static ProblemException bad(String detail) {
        return ProblemException.badRequest("Bad replay request", detail);
    }
}
