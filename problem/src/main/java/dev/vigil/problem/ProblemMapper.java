package dev.vigil.problem;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import jakarta.ws.rs.NotAcceptableException;
import jakarta.ws.rs.NotAllowedException;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.NotSupportedException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.util.List;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Answers every refused or failed request, whether our code or the framework refused it, with a problem body. */
public class ProblemMapper {

    public static final String PROBLEM_JSON = "application/problem+json";

    /** A detail longer than this is cut: a net under any detail that quotes a client at length. */
    static final int MAX_DETAIL = 1000;

    private static final MediaType PROBLEM_JSON_TYPE = MediaType.valueOf(PROBLEM_JSON);
    private static final Logger LOG = Logger.getLogger(ProblemMapper.class);

    /** Headers of a refusal that its problem body must not lose (Allow, an authentication challenge, Retry-After). */
    private static final List<String> KEPT_HEADERS =
            List.of(HttpHeaders.ALLOW, HttpHeaders.WWW_AUTHENTICATE, HttpHeaders.RETRY_AFTER);

    @ServerExceptionMapper
    public Response refused(ProblemException e, UriInfo uri) {
        return problem(e.status(), e.title(), e.detail(), uri).build();
    }

    @ServerExceptionMapper
    public Response framework(WebApplicationException e, UriInfo uri, HttpHeaders request) {
        if (e.getCause() instanceof JsonProcessingException json) {
            return unreadableJson(json, uri);
        }
        Response answer = e.getResponse();
        int status = answer.getStatus();
        Response.ResponseBuilder problem = problem(status, title(status), detail(e, status, request), uri);
        for (String name : KEPT_HEADERS) {
            for (Object value : answer.getHeaders().getOrDefault(name, List.of())) {
                problem.header(name, value);
            }
        }
        return problem.build();
    }

    /** Named as well as its supertype: the framework maps this one itself, with a body of its own. */
    @ServerExceptionMapper({MismatchedInputException.class, JsonProcessingException.class})
    public Response unreadableJson(JsonProcessingException e, UriInfo uri) {
        return problem(
                        400,
                        "Bad JSON",
                        "the body is not the JSON this endpoint reads: " + ProblemDto.echo(e.getOriginalMessage()),
                        uri)
                .build();
    }

    @ServerExceptionMapper
    public Response unexpected(Exception e, UriInfo uri) {
        LOG.errorf(e, "Unexpected failure answering %s", ProblemDto.echo(path(uri)));
        return problem(500, "Internal error", "the service failed to answer; the failure is logged", uri)
                .build();
    }

    /** A problem answer; {@code detail} is cut at {@link #MAX_DETAIL} characters. */
    public static Response.ResponseBuilder problem(int status, String title, String detail, UriInfo uri) {
        String shown = detail.length() > MAX_DETAIL ? detail.substring(0, MAX_DETAIL) + "..." : detail;
        return Response.status(status)
                .type(PROBLEM_JSON_TYPE)
                .entity(new ProblemDto("about:blank", title, status, shown, ProblemDto.echo(path(uri))));
    }

    private static String title(int status) {
        Response.Status known = Response.Status.fromStatusCode(status);
        if (known != null) {
            return known.getReasonPhrase();
        }
        return status >= 500 ? "Server error" : "Client error";
    }

    private static String detail(WebApplicationException e, int status, HttpHeaders request) {
        if (e instanceof NotFoundException) {
            return "nothing is served at this path; /q/openapi lists the API";
        }
        if (e instanceof NotAllowedException) {
            // The framework's 405 names no methods; its answer to OPTIONS does.
            return "this path does not answer the request's method; an OPTIONS request lists the methods it does";
        }
        if (e instanceof NotAcceptableException) {
            return "this path answers " + MediaType.APPLICATION_JSON + " (and problems as " + PROBLEM_JSON
                    + "), which the request's Accept header does not take";
        }
        if (e instanceof NotSupportedException) {
            MediaType sent = request.getMediaType();
            return "this path does not read a body of type "
                    + (sent == null ? "(none)" : ProblemDto.echo(sent.toString()))
                    + "; /q/openapi lists the types it reads";
        }
        if (status == 414) {
            return "the request's path and query are at most " + UriLengthFilter.MAX_URI_LENGTH + " characters";
        }
        if (e.getCause() != null && status == 400) {
            return "the request could not be read: "
                    + ProblemDto.echo(e.getCause().getMessage());
        }
        return title(status);
    }

    private static String path(UriInfo uri) {
        return uri == null ? "" : uri.getRequestUri().getRawPath();
    }
}
