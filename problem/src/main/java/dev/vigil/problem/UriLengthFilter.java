package dev.vigil.problem;

import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.UriInfo;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * Refuses over-long URIs with 414 before any resource reads them. The HTTP server's own limit answers 414 with no
 * body and offers no hook for one, so services set theirs well above this one
 * ({@code quarkus.http.limits.max-initial-line-length}) and this filter answers the common case with a problem.
 */
public class UriLengthFilter {

    /** The HTTP server's default request-line limit, kept as the API's limit on path and query. */
    public static final int MAX_URI_LENGTH = 4096;

    @ServerRequestFilter(preMatching = true)
    public void refuseLongUris(UriInfo uri) {
        String raw = uri.getRequestUri().getRawPath();
        String query = uri.getRequestUri().getRawQuery();
        int length = raw.length() + (query == null ? 0 : query.length() + 1);
        if (length > MAX_URI_LENGTH) {
            throw new WebApplicationException(414);
        }
    }
}
