package dev.vigil.console.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.qute.CheckedTemplate;
import io.quarkus.qute.TemplateInstance;
import jakarta.inject.Inject;
import jakarta.ws.rs.ProcessingException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * What a person sees when a page cannot be shown: the status, and the service's own explanation when a service
 * refused (its problem body's title and detail), e.g. "merging needs the admin role".
 */
public class ErrorPages {

    private static final Logger LOG = Logger.getLogger(ErrorPages.class);

    @CheckedTemplate
    static class Templates {
        static native TemplateInstance error(int status, String title, String detail);
    }

    @Inject
    ObjectMapper json;

    @ServerExceptionMapper
    public Response page(PageException e) {
        return render(e.status(), e.title(), e.getMessage());
    }

    /** A service answered with an error: its status is the page's, and its problem body explains it. */
    @ServerExceptionMapper
    public Response service(WebApplicationException e) {
        Response answer = e.getResponse();
        int status = answer.getStatus();
        String title = answer.getStatusInfo().getReasonPhrase();
        String detail = null;
        try {
            if (answer.hasEntity()) {
                JsonNode problem = json.readTree(answer.readEntity(String.class));
                title = problem.path("title").asText(title);
                detail = problem.path("detail").asText(null);
            }
        } catch (Exception unreadable) {
            // No problem body: the status says it.
        }
        if (status == 403) {
            title = "Not allowed";
            detail = (detail == null ? "" : detail + ". ") + "Your roles do not allow this; an admin can.";
        }
        return render(status >= 400 ? status : 502, title, detail);
    }

    /** A service could not be reached at all. */
    @ServerExceptionMapper
    public Response unreachable(ProcessingException e) {
        LOG.warnf("a service is unreachable: %s", e.getMessage());
        return render(
                503, "A service is unreachable", "The console could not reach a Vigil service: " + e.getMessage());
    }

    private static Response render(int status, String title, String detail) {
        return Response.status(status)
                .type(MediaType.TEXT_HTML_TYPE.withCharset("UTF-8"))
                .entity(Templates.error(status, title, detail == null ? "" : detail)
                        .render())
                .build();
    }
}
