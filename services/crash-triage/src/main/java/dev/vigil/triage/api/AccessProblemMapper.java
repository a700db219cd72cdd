package dev.vigil.triage.api;

import dev.vigil.problem.ProblemMapper;
import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.ForbiddenException;
import io.quarkus.security.UnauthorizedException;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Missing, invalid or under-privileged tokens as problem bodies; every other refusal is the shared mapper's. */
class AccessProblemMapper {

    @ServerExceptionMapper({UnauthorizedException.class, AuthenticationFailedException.class})
    Response unauthenticated(UriInfo uri) {
        return ProblemMapper.problem(
                        401,
                        "Not authenticated",
                        "send a bearer JWT from the vendor's identity provider (Authorization: Bearer ...)",
                        uri)
                .header(HttpHeaders.WWW_AUTHENTICATE, "Bearer")
                .build();
    }

    @ServerExceptionMapper
    Response forbidden(ForbiddenException e, UriInfo uri) {
        return ProblemMapper.problem(
                        403,
                        "Not allowed",
                        "the token's roles do not allow this: analyst reads and writes notes; admin also merges,"
                                + " runs rules dry runs and sets collection policy",
                        uri)
                .build();
    }
}
