package dev.vigil.ingestion.api;

import dev.vigil.ingestion.service.DeadLetterReplayService;
import dev.vigil.problem.ProblemDto;
import dev.vigil.problem.ProblemException;
import dev.vigil.problem.RequestParams;
import dev.vigil.schemas.DeadLetterReason;
import dev.vigil.schemas.TopicCatalog;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.Arrays;
import java.util.NoSuchElementException;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** Operators re-drive dead-lettered records after fixing what refused them. */
@Path("/api/v1/dead-letters")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Dead letters", description = "Re-drive refused records after a fix")
public class DeadLetterResource {

    static final int MAX_LIMIT = 100_000;

    private final DeadLetterReplayService replay;

    DeadLetterResource(DeadLetterReplayService replay) {
        this.replay = replay;
    }

    /** What a replay did. */
    public record ReplayDto(long scanned, long replayed, java.util.Map<String, Long> replayedByReason) {}

    @POST
    @Path("/replay")
    @Operation(
            summary = "Send dead-lettered records back to their source topic",
            description = "Reads the dead-letter topic to its current end; matching records are validated again.")
    @APIResponse(responseCode = "200", description = "What was scanned and sent back")
    @APIResponse(
            responseCode = "400",
            description = "Unknown reason or topic, or a bad limit",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    public Response replay(
            @QueryParam("reason") String reason,
            @QueryParam("sourceTopic") String sourceTopic,
            @Parameter(description = "1-100000, default 1000") @QueryParam("limit") String limitText) {
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
        DeadLetterReplayService.Report report = replay.replay(reason, sourceTopic, limit);
        return Response.ok(new ReplayDto(report.scanned(), report.replayed(), report.replayedByReason()))
                .build();
    }

    private static ProblemException bad(String detail) {
        return ProblemException.badRequest("Bad replay request", detail);
    }
}
