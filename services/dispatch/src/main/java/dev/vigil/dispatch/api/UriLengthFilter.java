package dev.vigil.dispatch.api;

import dev.vigil.dispatch.service.RefusedException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.UriInfo;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * Refuses, before any resource reads them, over-long URIs with a 414 problem (the HTTP server's own limit, set well
 * above in {@code quarkus.http.limits.max-initial-line-length}, answers with no body) and paths or queries holding NUL
 * with a 400 (PostgreSQL cannot hold NUL in text, so every id and parameter would otherwise fail as a 500).
 */
class UriLengthFilter {

    static final int MAX_URI_LENGTH = 4096;

    @ServerRequestFilter(preMatching = true)
    void refuseLongUris(UriInfo uri) {
        String path = uri.getRequestUri().getRawPath();
        String query = uri.getRequestUri().getRawQuery();
        if (path.length() + (query == null ? 0 : query.length() + 1) > MAX_URI_LENGTH) {
            throw new WebApplicationException(414);
        }
        if (path.contains("%00") || (query != null && query.contains("%00"))) {
            throw RefusedException.badRequest("Bad parameter", "the path or query holds a NUL character (%00)");
        }
    }
}
