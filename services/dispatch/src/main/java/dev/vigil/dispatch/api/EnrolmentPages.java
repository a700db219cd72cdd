package dev.vigil.dispatch.api;

import dev.vigil.dispatch.config.DispatchConfig;
import dev.vigil.dispatch.domain.Program;
import dev.vigil.dispatch.domain.TemplateParameter;
import dev.vigil.dispatch.service.EnrolmentService;
import dev.vigil.dispatch.service.EnrolmentTicket;
import dev.vigil.dispatch.service.RefusedException;
import io.quarkus.qute.CheckedTemplate;
import io.quarkus.qute.TemplateInstance;
import jakarta.annotation.security.PermitAll;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.MultivaluedMap;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The public beta sign-up: server-rendered pages that work without JavaScript. A user picks a programme, gives a name
 * and an email (and the invitation code of a closed programme, and any VM settings the release lets them choose),
 * and gets a one-time token for their agent. A refusal re-renders the form with what was typed and why.
 */
@Path("/enrol")
@PermitAll
@Produces(MediaType.TEXT_HTML)
public class EnrolmentPages {

    @CheckedTemplate
    static class Templates {
        static native TemplateInstance programs(List<Program> programs);

        static native TemplateInstance form(
                Program program,
                List<TemplateParameter> parameters,
                Map<String, String> values,
                Map<String, String> chosen,
                ProblemDto error);

        static native TemplateInstance enrolled(EnrolmentTicket ticket, String dispatchUrl);

        static native TemplateInstance missing(String program);
    }

    private final EnrolmentService enrolments;
    private final DispatchConfig config;

    EnrolmentPages(EnrolmentService enrolments, DispatchConfig config) {
        this.enrolments = enrolments;
        this.config = config;
    }

    private Program find(String id) {
        try {
            return enrolments.program(id);
        } catch (RefusedException e) {
            return null;
        }
    }

    @GET
    public TemplateInstance programs() {
        return Templates.programs(enrolments.programs(true));
    }

    @GET
    @Path("{program}")
    public Response form(@PathParam("program") String id) {
        Program program = find(id);
        if (program == null) {
            return Response.status(404).entity(Templates.missing(id)).build();
        }
        return Response.ok(Templates.form(program, enrolments.parameters(program), Map.of(), Map.of(), null))
                .build();
    }

    @POST
    @Path("{program}")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    public Response enrol(@PathParam("program") String id, MultivaluedMap<String, String> form, @Context UriInfo uri) {
        Program program = find(id);
        if (program == null) {
            return Response.status(404).entity(Templates.missing(id)).build();
        }
        Map<String, String> values = new HashMap<>();
        Map<String, String> parameters = new HashMap<>();
        form.forEach((key, list) -> {
            String value = list.isEmpty() ? "" : list.get(0);
            values.put(key, value);
            if (key.startsWith("param.")) {
                parameters.put(key.substring("param.".length()), value);
            }
        });
        try {
            EnrolmentTicket ticket =
                    enrolments.enrol(id, values.get("name"), values.get("email"), values.get("invitation"), parameters);
            String dispatchUrl = config.dispatch()
                    .enrolment()
                    .publicUrl()
                    .orElse(uri.getBaseUri().toString().replaceAll("/$", ""));
            return Response.ok(Templates.enrolled(ticket, dispatchUrl)).build();
        } catch (RefusedException e) {
            values.remove("invitation");
            values.replaceAll((key, value) -> value.length() > 5000 ? value.substring(0, 5000) : value);
            return Response.status(400)
                    .entity(Templates.form(
                            program,
                            enrolments.parameters(program),
                            values,
                            parameters,
                            ProblemDto.of(400, e.title(), e.getMessage())))
                    .build();
        }
    }
}
