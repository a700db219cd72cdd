package dev.vigil.console.web;

import dev.vigil.console.dispatch.DispatchApi;
import dev.vigil.console.dispatch.DispatchViews.Command;
import dev.vigil.console.fleet.FleetApi;
import dev.vigil.console.fleet.FleetViews.Event;
import dev.vigil.console.fleet.FleetViews.Feedback;
import dev.vigil.console.fleet.FleetViews.Incident;
import dev.vigil.console.fleet.FleetViews.Page;
import dev.vigil.console.fleet.FleetViews.Vm;
import io.quarkus.qute.CheckedTemplate;
import io.quarkus.qute.TemplateInstance;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.eclipse.microprofile.rest.client.inject.RestClient;

/** The fleet's VMs and one VM's timeline: its events, incidents, feedback and commands, newest first. */
@Path("/vms")
@Produces(MediaType.TEXT_HTML)
public class VmPages {

    /** Events a timeline shows: the latest ones. */
    static final int EVENTS = 500;
    /** VMs a page lists. */
    static final int PAGE = 100;
    /** Commands a timeline shows: the latest ones. */
    static final int COMMANDS = 50;

    @CheckedTemplate
    static class Templates {
        static native TemplateInstance vms(Page<Vm> vms, Integer newer, Integer older);

        static native TemplateInstance vm(
                Vm vm,
                List<Event> events,
                long total,
                List<Incident> incidents,
                List<Feedback> feedback,
                Partial<List<Command>> commands);
    }

    @Inject
    @RestClient
    FleetApi fleet;

    @Inject
    @RestClient
    DispatchApi dispatch;

    @GET
    public TemplateInstance vms(@QueryParam("page") String page) {
        int n = Pages.number("page", page, 0, 0, 100_000);
        Page<Vm> vms = fleet.vms(n, PAGE);
        return Templates.vms(vms, n > 0 ? n - 1 : null, (long) (n + 1) * PAGE < vms.total() ? n + 1 : null);
    }

    @GET
    @Path("/{id}")
    public TemplateInstance vm(@PathParam("id") String id) {
        String uuid = Pages.uuid(id);
        Vm vm = fleet.vm(uuid);
        Page<Event> first = fleet.events(uuid, 0, EVENTS);
        Page<Event> latest = first;
        if (first.total() > EVENTS) {
            latest = fleet.events(uuid, (int) ((first.total() - 1) / EVENTS), EVENTS);
        }
        List<Event> events = new ArrayList<>(latest.items());
        Collections.reverse(events);
        return Templates.vm(
                vm,
                events,
                first.total(),
                fleet.incidents(uuid, null, 50).items(),
                fleet.feedback(uuid, 0, 50).items(),
                Partial.of("Dispatch", () -> dispatch.commands(uuid, COMMANDS)));
    }
}
