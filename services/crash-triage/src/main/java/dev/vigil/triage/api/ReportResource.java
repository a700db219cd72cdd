package dev.vigil.triage.api;

import dev.vigil.problem.ProblemDto;
import dev.vigil.problem.ProblemException;
import dev.vigil.triage.bucket.EvidenceDownloads;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;
import java.io.IOException;
import java.io.InputStream;
import java.sql.SQLException;
import java.util.regex.Pattern;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** A report's evidence, decrypted when the agent encrypted it and triage holds its key. */
@Path("/api/v1/reports")
@Tag(name = "Buckets", description = "One bucket per crash signature, with its reports and evidence links")
@RolesAllowed({Roles.ANALYST, Roles.ADMIN})
@SecurityRequirement(name = "jwt")
@APIResponse(
        responseCode = "401",
        description = "No valid bearer token",
        content = @Content(schema = @Schema(implementation = ProblemDto.class)))
@APIResponse(
        responseCode = "403",
        description = "The token has neither the analyst nor the admin role",
        content = @Content(schema = @Schema(implementation = ProblemDto.class)))
public class ReportResource {

    private static final Pattern KIND = Pattern.compile("[A-Z][A-Z_]{0,39}");
    private static final int MAX_INCIDENT = 200;

    private final EvidenceDownloads downloads;

    ReportResource(EvidenceDownloads downloads) {
        this.downloads = downloads;
    }

    /** How the bytes of an artifact's format are served: pictures and text as such, anything else as bytes. */
    static String mediaType(String format) {
        return switch (format) {
            case "png" -> "image/png";
            case "text/plain" -> "text/plain; charset=utf-8";
            default -> MediaType.APPLICATION_OCTET_STREAM;
        };
    }

    /** A file name's extension for an artifact's format: a MIME type's subtype ({@code txt} for plain text). */
    static String extension(String format) {
        String subtype = format.substring(format.indexOf('/') + 1).replaceAll("[^A-Za-z0-9]", "");
        if (subtype.equals("plain")) {
            return "txt";
        }
        return subtype.isEmpty() ? "bin" : subtype;
    }

    @GET
    @Path("/{incident}/artifacts/{kind}")
    @Produces({MediaType.APPLICATION_OCTET_STREAM, "image/png", MediaType.TEXT_PLAIN})
    @Operation(
            summary = "A report's evidence",
            description = "The verified artifact of this kind (CONSOLE_TEXT, SCREENSHOT, MEMORY_DUMP, ...) of the"
                    + " incident's report, streamed: evidence the agent encrypted is decrypted with the key its"
                    + " manifest names (vigil.triage.evidence-keys); other evidence is served as stored.")
    @APIResponse(responseCode = "200", description = "The evidence's bytes")
    @APIResponse(
            responseCode = "400",
            description = "The incident id or kind is malformed",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    @APIResponse(
            responseCode = "404",
            description = "No such report, or no verified evidence of that kind in it",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    @APIResponse(
            responseCode = "409",
            description = "The evidence is encrypted with a key crash triage does not hold",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    public Response artifact(@PathParam("incident") String incident, @PathParam("kind") String kind)
            throws IOException, SQLException {
        if (incident.isEmpty() || incident.length() > MAX_INCIDENT || incident.indexOf('\0') >= 0) {
            throw ProblemException.badRequest(
                    "Bad incident id", "an incident id is 1-" + MAX_INCIDENT + " characters without NUL");
        }
        if (!KIND.matcher(kind).matches()) {
            throw ProblemException.badRequest(
                    "Bad kind", "an artifact kind is a name such as CONSOLE_TEXT, SCREENSHOT or MEMORY_DUMP");
        }
        EvidenceDownloads.Download download = downloads.open(incident, kind);
        StreamingOutput body = out -> {
            try (InputStream in = download.content()) {
                in.transferTo(out);
            }
        };
        return Response.ok(body, mediaType(download.format()))
                .header(
                        "Content-Disposition",
                        "attachment; filename=\"" + kind.toLowerCase(java.util.Locale.ROOT) + "."
                                + extension(download.format()) + "\"")
                .header("X-Vigil-Decrypted", download.decrypted())
                .build();
    }
}
