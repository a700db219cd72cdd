package dev.vigil.dispatch.api;

import dev.vigil.dispatch.domain.Program;
import dev.vigil.dispatch.service.EnrolmentService;
import dev.vigil.dispatch.service.RefusedException;
import io.quarkus.security.identity.SecurityIdentity;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.time.Instant;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;

/** Beta programmes users enrol in (admin creates them; their page is {@code /enrol/<id>}). */
@Path("/api/v1/programs")
@Produces(MediaType.APPLICATION_JSON)
@SecurityRequirement(name = "jwt")
public class ProgramResource {

    /** A new programme; {@code invitationCode} is needed unless it is open. */
    public record NewProgram(
            String id,
            String product,
            String channel,
            String title,
            String description,
            Boolean open,
            String invitationCode,
            Integer licenseDays,
            List<String> features) {}

    /** A programme as the API shows it. */
    public record ProgramDto(
            String id,
            String product,
            String channel,
            String title,
            String description,
            boolean open,
            int licenseDays,
            List<String> features,
            String page,
            String createdBy,
            Instant createdAt) {

        static ProgramDto of(Program p) {
            return new ProgramDto(
                    p.id(),
                    p.product(),
                    p.channel(),
                    p.title(),
                    p.description(),
                    p.open(),
                    p.licenseDays(),
                    p.features(),
                    "/enrol/" + p.id(),
                    p.createdBy(),
                    p.createdAt());
        }
    }

    private final EnrolmentService enrolments;
    private final SecurityIdentity identity;

    ProgramResource(EnrolmentService enrolments, SecurityIdentity identity) {
        this.enrolments = enrolments;
        this.identity = identity;
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed(Roles.ADMIN)
    public Response create(NewProgram body) {
        if (body == null) {
            throw RefusedException.badRequest("Bad programme", "send {id, product, channel, title, ...}");
        }
        Program program = enrolments.createProgram(
                body.id(),
                body.product(),
                body.channel(),
                body.title(),
                body.description(),
                body.open() == null || body.open(),
                body.invitationCode(),
                body.licenseDays(),
                body.features(),
                identity.getPrincipal().getName());
        return Response.created(URI.create("/api/v1/programs/" + program.id()))
                .entity(ProgramDto.of(program))
                .build();
    }

    @GET
    @RolesAllowed({Roles.ANALYST, Roles.OPERATOR, Roles.ADMIN})
    public List<ProgramDto> list() {
        return enrolments.programs(false).stream().map(ProgramDto::of).toList();
    }

    @GET
    @Path("{id}")
    @RolesAllowed({Roles.ANALYST, Roles.OPERATOR, Roles.ADMIN})
    public ProgramDto get(@PathParam("id") String id) {
        return ProgramDto.of(enrolments.program(id));
    }
}
