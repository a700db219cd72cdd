package dev.vigil.triage.api;

import dev.vigil.problem.ProblemDto;
import dev.vigil.problem.ProblemException;
import dev.vigil.triage.evidence.LinuxConsoleParser;
import dev.vigil.triage.evidence.VmcoreParser;
import dev.vigil.triage.evidence.WindowsDumpHeader;
import dev.vigil.triage.rules.RulesProvider;
import dev.vigil.triage.signature.Signature;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** Signatures of raw evidence, for analysts pasting a crash and for tools. Stateless: nothing is stored. */
@Path("/api/v1/signatures")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Signatures", description = "Parse a crash and get its title and keys")
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
public class SignatureResource {

    /** Larger bodies are refused; a console capture around a crash is far smaller. */
    static final int MAX_BYTES = 4 << 20;

    private final RulesProvider rules;

    SignatureResource(RulesProvider rules) {
        this.rules = rules;
    }

    @POST
    @Consumes(MediaType.TEXT_PLAIN)
    @Operation(
            summary = "Signature of Linux kernel console text",
            description = "The first kernel report in the text (Oops, BUG, WARNING, general protection fault, page"
                    + " fault, KASAN/KFENCE/UBSAN, hung task, soft/hard lockup, RCU stall, or a panic): the facts"
                    + " read from it, its title and its keys. Timestamps and surrounding noise are fine.")
    @APIResponse(responseCode = "200", description = "The signature")
    @APIResponse(
            responseCode = "400",
            description = "No kernel report in the text",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    @APIResponse(
            responseCode = "413",
            description = "Over 4 MiB",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    public Response console(
            byte[] body,
            @Parameter(description = "The release of the image the crash came from, for the instant key")
                    @QueryParam("release")
                    String release) {
        if (body.length > MAX_BYTES) {
            throw new ProblemException(
                    413, "Evidence too large", "send at most " + MAX_BYTES + " bytes around the crash");
        }
        String text = new String(body, StandardCharsets.UTF_8);
        return LinuxConsoleParser.parse(text)
                .map(report -> ok("linux-console", report, rules.signatures().of(report, release)))
                .orElseThrow(() -> ProblemException.badRequest(
                        "Unrecognized evidence",
                        "no kernel report (Oops, BUG, WARNING, panic, ...) found in " + body.length
                                + " bytes of text"));
    }

    @POST
    @Consumes(MediaType.APPLICATION_OCTET_STREAM)
    @Operation(
            summary = "Signature of the head of a crash dump",
            description = "The first 8 KiB (or more) of a 64-bit Windows crash dump (PAGEDU64): the bugcheck, its"
                    + " parameters, the processor count and the crash time. Or the head of a Linux memory dump, a"
                    + " kdump-compressed file or an ELF core (up to the end of its notes): the kernel release, the"
                    + " KASLR offset, and each CPU's instruction pointer. With the title and keys.")
    @APIResponse(responseCode = "200", description = "The signature")
    @APIResponse(
            responseCode = "400",
            description = "Not the head of a dump Vigil reads",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    @APIResponse(
            responseCode = "413",
            description = "Over 4 MiB",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    public Response dumpHeader(byte[] body, @QueryParam("release") String release) {
        if (body.length > MAX_BYTES) {
            throw new ProblemException(
                    413, "Evidence too large", "send the first 8 KiB of the dump, at most " + MAX_BYTES);
        }
        if (VmcoreParser.recognizes(body)) {
            return VmcoreParser.parse(body)
                    .map(facts -> ok("linux-vmcore", facts, rules.signatures().of(facts, release)))
                    .orElseThrow(() ->
                            ProblemException.badRequest("Unrecognized evidence", "a damaged or truncated dump header"));
        }
        if (body.length >= 12 && new String(body, 0, 12, StandardCharsets.US_ASCII).equals("makedumpfile")) {
            throw ProblemException.badRequest(
                    "Unrecognized evidence",
                    "a flattened kdump stream: rebuild the file with `makedumpfile -R` (Vigil's agent stores regular"
                            + " kdump files)");
        }
        return WindowsDumpHeader.parse(body)
                .map(header ->
                        ok("windows-dump-header", header, rules.signatures().of(header, release)))
                .orElseThrow(() -> ProblemException.badRequest(
                        "Unrecognized evidence",
                        WindowsDumpHeader.looksLikeOne(body)
                                ? "a PAGEDU64 header needs at least 96 bytes, got " + body.length
                                : "not a crash dump Vigil reads: expected PAGEDU64 (Windows), KDUMP or an ELF core"));
    }

    private static Response ok(String evidence, Object facts, Signature s) {
        return Response.ok(new SignatureDto(
                        evidence,
                        facts,
                        s.title(),
                        Map.of("instant", s.instantKey(), "symbolic", s.symbolicKey()),
                        s.symbolicText(),
                        s.frames(),
                        s.rulesVersion(),
                        s.corrupted()))
                .build();
    }
}
