package dev.vigil.dispatch.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import dev.vigil.dispatch.service.RefusedException;
import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.ForbiddenException;
import io.quarkus.security.UnauthorizedException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Every refusal as an RFC 9457 problem body ({@code application/problem+json}), never an empty or HTML page. */
class ProblemMapper {

    private static final Logger LOG = Logger.getLogger(ProblemMapper.class);

    static final String PROBLEM_JSON = "application/problem+json";

    @ServerExceptionMapper
    Response refused(RefusedException e) {
        int status = switch (e.why()) {
            case INVALID -> 400;
            case NOT_FOUND -> 404;
            case CONFLICT -> 409;
            case GONE -> 410;
            case TOO_LARGE -> 413;
            case UNPROCESSABLE -> 422;
            case UNAVAILABLE -> 503;
        };
        return problem(status, ProblemDto.of(status, e.title(), e.getMessage()));
    }

    @ServerExceptionMapper({UnauthorizedException.class, AuthenticationFailedException.class})
    Response unauthenticated() {
        return Response.fromResponse(problem(
                        401,
                        ProblemDto.of(
                                401,
                                "Not authenticated",
                                "vendor staff send a bearer JWT from the identity provider (Authorization: Bearer"
                                        + " ...); agents send the host token their enrolment gave them"
                                        + " (Authorization: VigilHost ...)")))
                .header(HttpHeaders.WWW_AUTHENTICATE, "Bearer")
                .header(HttpHeaders.WWW_AUTHENTICATE, "VigilHost")
                .build();
    }

    @ServerExceptionMapper
    Response forbidden(ForbiddenException e) {
        return problem(
                403,
                ProblemDto.of(
                        403,
                        "Not allowed",
                        "the token's roles do not allow this: analyst reads; operator also uploads and publishes"
                                + " releases, issues licenses and commands and runs rollouts; admin also manages"
                                + " products, programmes and keys"));
    }

    @ServerExceptionMapper
    Response unreadable(JsonProcessingException e) {
        return problem(400, ProblemDto.of(400, "Unreadable JSON", e.getOriginalMessage()));
    }

    /** A body whose JSON parses but does not fit (a wrong type, a NUL in text): the framework's own mapper otherwise. */
    @ServerExceptionMapper
    Response mismatched(MismatchedInputException e) {
        return unreadable(e);
    }

    /** The framework's refusals (no such path, 405, 406, 414, 415, and any other) with their status and a title. */
    @ServerExceptionMapper
    Response web(WebApplicationException e) {
        if (e.getCause() instanceof JsonProcessingException json) {
            return unreadable(json);
        }
        int status = e.getResponse().getStatus();
        String title = switch (status) {
            case 404 -> "Not found";
            case 405 -> "Method not allowed";
            case 406 -> "Not acceptable";
            case 414 -> "URI too long";
            case 415 -> "Unsupported media type";
            default -> status >= 500 ? "Internal error" : "Refused";
        };
        String detail = switch (status) {
            case 406 -> "this endpoint answers application/json (and problems as application/problem+json)";
            case 414 -> "the path and query are over " + UriLengthFilter.MAX_URI_LENGTH + " characters";
            default -> e.getMessage() == null ? title : e.getMessage();
        };
        Response.ResponseBuilder answer = Response.fromResponse(problem(status, ProblemDto.of(status, title, detail)));
        Object allow = e.getResponse().getHeaders().getFirst(HttpHeaders.ALLOW);
        if (allow != null) {
            answer.header(HttpHeaders.ALLOW, allow);
        }
        return answer.build();
    }

    /** Anything else: logged with its stack trace, which the answer never carries. */
    @ServerExceptionMapper
    Response unexpected(Exception e) {
        LOG.error("unexpected failure answering a request", e);
        return problem(500, ProblemDto.of(500, "Internal error", "dispatch failed to answer; the failure is logged"));
    }

    static Response problem(int status, ProblemDto body) {
        return Response.status(status).type(PROBLEM_JSON).entity(body).build();
    }
}
