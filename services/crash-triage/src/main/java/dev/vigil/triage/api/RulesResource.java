package dev.vigil.triage.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vigil.problem.ProblemDto;
import dev.vigil.problem.ProblemException;
import dev.vigil.problem.RequestParams;
import dev.vigil.triage.rules.RulesDryRun;
import dev.vigil.triage.rules.RulesService;
import dev.vigil.triage.signature.InvalidRulesException;
import dev.vigil.triage.signature.SignatureRules;
import dev.vigil.triage.signature.Signatures;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.io.IOException;
import java.sql.SQLException;
import java.util.List;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** Admins try candidate signature rules on the stored reports before rolling them out. */
@Path("/api/v1/rules")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Rules", description = "Dry runs of candidate signature rules")
@SecurityRequirement(name = "jwt")
@APIResponse(
        responseCode = "401",
        description = "No valid bearer token",
        content = @Content(schema = @Schema(implementation = ProblemDto.class)))
@APIResponse(
        responseCode = "403",
        description = "The token lacks the admin role",
        content = @Content(schema = @Schema(implementation = ProblemDto.class)))
public class RulesResource {

    static final int DEFAULT_LIMIT = 10_000;
    static final int MAX_LIMIT = 50_000;
    static final int MAX_CURSOR = 200;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final RulesService rules;

    RulesResource(RulesService rules) {
        this.rules = rules;
    }

    /**
     * Reports moving from a bucket into a candidate group.
     *
     * @param toKey the group's symbolic key under the candidate rules
     * @param toSymbolic what the key hashes, readable
     * @param sample up to 5 of the reports' incident ids
     */
    public record MoveDto(
            UUID fromBucket,
            String fromTitle,
            String toKey,
            String toTitle,
            String toSymbolic,
            long reports,
            List<String> sample) {}

    /**
     * A dry run over one page of stored reports (in incident id order).
     *
     * @param scanned reports signed again in this page
     * @param moved of them, those the candidate groups differently from the rules in force
     * @param unsignable reports whose stored facts do not make a signature
     * @param mismatched reports whose stored facts, under the rules in force, do not give their stored key
     * @param moves per bucket and candidate group, most reports first, at most 200
     * @param movesTruncated more pairs moved than listed
     * @param truncated more reports remain after this page: ask again with {@code after=next}
     * @param next the last incident id of this page when truncated, else null
     */
    public record DryRunDto(
            int currentVersion,
            int candidateVersion,
            long scanned,
            long moved,
            long unsignable,
            long mismatched,
            List<MoveDto> moves,
            boolean movesTruncated,
            boolean truncated,
            String next) {}

    @POST
    @Path("/dry-run")
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed(Roles.ADMIN)
    @Operation(
            summary = "Dry run of candidate rules",
            description = "Signs stored reports again from their stored facts under the rules in force and under the"
                    + " candidate (a rules.json document, at most 256 KiB) and answers which would move from which"
                    + " bucket into which new group, with counts per pair and sample incident ids. Changes nothing."
                    + " Bounded: up to limit reports (default 10,000, at most 50,000) after the incident id after;"
                    + " truncated and next say how to go on.")
    @APIResponse(responseCode = "200", description = "What would move")
    @APIResponse(
            responseCode = "400",
            description = "Not valid rules, or a bad limit or cursor",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    @APIResponse(
            responseCode = "413",
            description = "Rules over 256 KiB",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    public DryRunDto dryRun(
            byte[] body,
            @Parameter(description = "1-50000, default 10000") @QueryParam("limit") String limitText,
            @Parameter(description = "Start after this incident id (the previous page's next)") @QueryParam("after")
                    String after)
            throws SQLException {
        if (body != null && body.length > SignatureRules.MAX_BYTES) {
            throw new ProblemException(
                    413, "Rules too large", "rules are at most " + SignatureRules.MAX_BYTES + " bytes");
        }
        int limit = limit(limitText);
        if (after != null && after.length() > MAX_CURSOR) {
            throw ProblemException.badRequest("Bad cursor", "after is an incident id from a previous page's next");
        }
        RequestParams.text("after", after);
        Signatures candidate = new Signatures(candidate(body));
        RulesService.DryRun run = rules.dryRun(candidate, after == null || after.isBlank() ? null : after, limit);
        RulesDryRun.Outcome o = run.outcome();
        return new DryRunDto(
                run.currentVersion(),
                run.candidateVersion(),
                o.scanned(),
                o.moved(),
                o.unsignable(),
                o.mismatched(),
                o.moves().stream()
                        .map(m -> new MoveDto(
                                m.fromBucket(),
                                run.bucketTitles().get(m.fromBucket()),
                                m.toKey(),
                                m.toTitle(),
                                m.toSymbolic(),
                                m.reports(),
                                m.sample()))
                        .toList(),
                o.movesTruncated(),
                run.truncated(),
                run.next());
    }

    private static SignatureRules candidate(byte[] body) {
        if (body == null || body.length == 0) {
            throw ProblemException.badRequest("Bad rules", "send candidate rules in the format of rules.json");
        }
        JsonNode json;
        try {
            json = JSON.readTree(body);
        } catch (JsonProcessingException e) {
            throw ProblemException.badRequest("Bad rules", "not JSON: " + ProblemDto.echo(e.getOriginalMessage()));
        } catch (IOException e) {
            throw ProblemException.badRequest("Bad rules", "not JSON");
        }
        try {
            return SignatureRules.parse(json);
        } catch (InvalidRulesException e) {
            throw ProblemException.badRequest("Bad rules", e.getMessage());
        }
    }

    private static int limit(String text) {
        if (text == null || text.isBlank()) {
            return DEFAULT_LIMIT;
        }
        try {
            int limit = Integer.parseInt(text.strip());
            if (limit >= 1 && limit <= MAX_LIMIT) {
                return limit;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw ProblemException.badRequest("Bad limit", "limit is a whole number from 1 to " + MAX_LIMIT);
    }
}
