package dev.vigil.console.web;

import dev.vigil.console.triage.TriageApi;
import dev.vigil.console.triage.TriageViews.Signature;
import io.quarkus.qute.CheckedTemplate;
import io.quarkus.qute.TemplateInstance;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.FormParam;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.rest.client.inject.RestClient;

/** Paste a crash: the console text of a kernel crash, signed by crash triage as it would file it. Nothing is stored. */
@Path("/paste")
@Produces(MediaType.TEXT_HTML)
public class PastePage {

    /** Crash triage refuses more; the console says so first. */
    static final int MAX_CHARS = 4 * 1024 * 1024;

    @CheckedTemplate
    static class Templates {
        static native TemplateInstance paste(String text, Signature signature);
    }

    @Inject
    @RestClient
    TriageApi triage;

    @GET
    public TemplateInstance form() {
        return Templates.paste("", null);
    }

    @POST
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    public TemplateInstance sign(@FormParam("text") String text) {
        if (text == null || text.isBlank()) {
            throw Pages.badRequest("paste the console text of a crash (a kernel oops, panic, BUG or sanitizer report)");
        }
        if (text.length() > MAX_CHARS) {
            throw Pages.badRequest("at most 4 MiB of console text; got " + text.length() + " characters");
        }
        return Templates.paste(text, triage.signature(text));
    }
}
