package dev.vigil.dispatch.api;

import dev.vigil.dispatch.service.EnrolmentService;
import dev.vigil.dispatch.service.Redemption;
import dev.vigil.dispatch.service.RefusedException;
import jakarta.annotation.security.PermitAll;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Where an agent redeems a user's enrolment token. The token is the credential: it works once, before it expires;
 * a malformed token is a 400, an unknown one a 404, a used one a 409 and an expired one a 410.
 */
@Path("/api/v1/enrolments")
public class EnrolmentResource {

    /** A redemption: the token and the host it enrols. */
    public record Redeem(String token, String hostId, String agentVersion) {}

    /** The record key a host seals its records with (ADR 0007); the key in base64. */
    public record RecordKey(String tenant, int epoch, String key) {}

    /** What the agent gets: see {@link Redemption}; signed documents and the record key in base64. */
    public record Redeemed(
            String hostId,
            String hostToken,
            String product,
            String channel,
            String release,
            List<String> roots,
            String license,
            Map<String, String> parameters,
            RecordKey recordKey) {}

    private final EnrolmentService enrolments;

    EnrolmentResource(EnrolmentService enrolments) {
        this.enrolments = enrolments;
    }

    @POST
    @Path("redeem")
    @PermitAll
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    public Redeemed redeem(Redeem body) {
        if (body == null) {
            throw RefusedException.badRequest("Bad redemption", "send {token, hostId, agentVersion}");
        }
        Redemption r = enrolments.redeem(body.token(), body.hostId(), body.agentVersion());
        Base64.Encoder base64 = Base64.getEncoder();
        return new Redeemed(
                r.hostId(),
                r.hostToken(),
                r.product(),
                r.channel(),
                r.release(),
                r.roots().stream().map(base64::encodeToString).toList(),
                base64.encodeToString(r.license()),
                r.parameters(),
                new RecordKey(
                        r.recordKey().tenant(),
                        r.recordKey().epoch(),
                        base64.encodeToString(r.recordKey().key())));
    }
}
