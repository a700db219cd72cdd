package dev.vigil.ingestion.api;

import dev.vigil.ingestion.service.DeadLetterReplayService;
import dev.vigil.schemas.DeadLetterReason;
import dev.vigil.schemas.TopicCatalog;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.Arrays;
import java.util.NoSuchElementException;
import org.eclipse.microprofile.openapi.annotations.Operation;
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
    @APIResponse(responseCode = "400", description = "Unknown reason or topic, or a bad limit")
    public Response replay(
            @QueryParam("reason") String reason,
            @QueryParam("sourceTopic") String sourceTopic,
            @QueryParam("limit") @DefaultValue("1000") int limit) {
        if (reason != null
                && Arrays.stream(DeadLetterReason.values())
                        .noneMatch(r -> r.name().equals(reason))) {
            return bad("unknown reason " + reason + "; one of " + Arrays.toString(DeadLetterReason.values()));
        }
        if (sourceTopic != null) {
            try {
                TopicCatalog.byName(sourceTopic);
            } catch (NoSuchElementException e) {
                return bad(e.getMessage());
            }
        }
        if (limit < 1 || limit > MAX_LIMIT) {
            return bad("limit must be between 1 and " + MAX_LIMIT);
        }
        DeadLetterReplayService.Report report = replay.replay(reason, sourceTopic, limit);
        return Response.ok(new ReplayDto(report.scanned(), report.replayed(), report.replayedByReason()))
                .build();
    }

    private static Response bad(String detail) {
        return Response.status(Response.Status.BAD_REQUEST)
                .type(MediaType.APPLICATION_JSON)
                .entity(ProblemDto.of(400, "Bad replay request", detail))
                .build();
    }
}
