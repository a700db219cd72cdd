package dev.vigil.problem;

import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.ForbiddenException;
import io.quarkus.security.UnauthorizedException;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.container.ResourceInfo;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.lang.reflect.Method;
import java.util.List;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * Missing, invalid or expired tokens (401, with the Bearer challenge) and under-privileged ones (403, naming the roles
 * the endpoint allows) as problem bodies, so that a refused caller learns what to send.
 */
public class AccessProblemMapper {

    @ServerExceptionMapper({UnauthorizedException.class, AuthenticationFailedException.class})
    public Response unauthenticated(UriInfo uri) {
        return ProblemMapper.problem(
                        401,
                        "Not authenticated",
                        "send a bearer JWT from the identity provider (Authorization: Bearer ...)",
                        uri)
                .header(HttpHeaders.WWW_AUTHENTICATE, "Bearer")
                .build();
    }

    @ServerExceptionMapper
    public Response forbidden(ForbiddenException e, UriInfo uri, ResourceInfo resource) {
        List<String> roles = allowedRoles(resource);
        String detail = roles.isEmpty()
                ? "the token's roles do not allow this"
                : "the token's roles do not allow this: it needs one of " + String.join(", ", roles);
        return ProblemMapper.problem(403, "Not allowed", detail, uri).build();
    }

    /** The roles of the endpoint's {@link RolesAllowed}, on its method or else its class. */
    static List<String> allowedRoles(ResourceInfo resource) {
        if (resource == null) {
            return List.of();
        }
        Method method = resource.getResourceMethod();
        RolesAllowed allowed = method == null ? null : method.getAnnotation(RolesAllowed.class);
        if (allowed == null && resource.getResourceClass() != null) {
            allowed = resource.getResourceClass().getAnnotation(RolesAllowed.class);
        }
        return allowed == null ? List.of() : List.of(allowed.value());
    }
}
