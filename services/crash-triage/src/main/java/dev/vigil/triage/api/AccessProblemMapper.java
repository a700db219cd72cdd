package dev.vigil.triage.api;

import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.ForbiddenException;
import io.quarkus.security.UnauthorizedException;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Refusals as RFC 9457 problem bodies: bad requests, and missing, invalid or under-privileged tokens. */
class ProblemMapper {

    @ServerExceptionMapper
    Response refused(ProblemException e) {
        return problem(e.status(), e.problem());
    }

    @ServerExceptionMapper({UnauthorizedException.class, AuthenticationFailedException.class})
    Response unauthenticated() {
        return Response.fromResponse(problem(
                        401,
                        ProblemDto.of(
                                401,
                                "Not authenticated",
                                "send a bearer JWT from the vendor's identity provider (Authorization: Bearer ...)")))
                .header(HttpHeaders.WWW_AUTHENTICATE, "Bearer")
                .build();
    }

    @ServerExceptionMapper
    Response forbidden(ForbiddenException e) {
        return problem(
                403,
                ProblemDto.of(
                        403,
                        "Not allowed",
                        "the token's roles do not allow this: analyst reads and writes notes; admin also merges,"
                                + " runs rules dry runs and sets collection policy"));
    }

    private static Response problem(int status, ProblemDto body) {
        return Response.status(status)
                .type(MediaType.APPLICATION_JSON)
                .entity(body)
                .build();
    }
}
