package dev.vigil.dispatch.api;

import dev.vigil.dispatch.config.DispatchConfig;
import dev.vigil.dispatch.domain.Command;
import dev.vigil.dispatch.persistence.Database;
import dev.vigil.dispatch.service.CommandService;
import dev.vigil.dispatch.service.CommandTarget;
import dev.vigil.dispatch.service.HostDirectory;
import dev.vigil.dispatch.service.RefusedException;
import dev.vigil.schemas.agent.CommandAction;
import io.quarkus.security.identity.SecurityIdentity;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;

/** Signed commands to agents: issue them (operator), and follow each through the agent's results. */
@Path("/api/v1/commands")
@Produces(MediaType.APPLICATION_JSON)
@SecurityRequirement(name = "jwt")
public class CommandResource {

    /** A command for one or more targets. */
    public record NewCommand(
            String action, List<CommandTarget> targets, Map<String, String> arguments, String expiresIn) {}

    /** The commands issued, one per target. */
    public record Issued(List<CommandDto> commands) {}

    private final CommandService commands;
    private final HostDirectory hosts;
    private final Database db;
    private final SecurityIdentity identity;
    private final Duration defaultTtl;

    CommandResource(
            CommandService commands,
            HostDirectory hosts,
            Database db,
            SecurityIdentity identity,
            DispatchConfig config) {
        this.commands = commands;
        this.hosts = hosts;
        this.db = db;
        this.identity = identity;
        this.defaultTtl = config.dispatch().commands().defaultTtl();
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed({Roles.OPERATOR, Roles.ADMIN})
    public Response issue(NewCommand body) {
        if (body == null) {
            throw RefusedException.badRequest("Bad command", "send {action, targets, arguments, expiresIn}");
        }
        CommandAction action;
        try {
            action = CommandAction.valueOf(String.valueOf(body.action()).toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            action = CommandAction.UNKNOWN;
        }
        Map<String, String> arguments = body.arguments() == null ? Map.of() : body.arguments();
        Duration ttl = Queries.duration("expiresIn", body.expiresIn(), defaultTtl);
        commands.check(action, body.targets(), arguments, ttl);
        for (CommandTarget target : body.targets()) {
            if (!hosts.known(target.hostId())) {
                throw RefusedException.unprocessable(
                        "Unknown host", "host " + target.hostId() + " is neither enrolled nor seen by ingestion");
            }
        }
        CommandAction chosen = action;
        List<Command> issued = db.transaction(c -> commands.issue(
                c,
                chosen,
                body.targets(),
                arguments,
                ttl,
                Command.OPERATOR,
                null,
                identity.getPrincipal().getName()));
        List<CommandDto> answer = issued.stream()
                .map(c -> CommandDto.of(commands.command(c.id())))
                .toList();
        return Response.status(201).entity(new Issued(answer)).build();
    }

    @GET
    @RolesAllowed({Roles.ANALYST, Roles.OPERATOR, Roles.ADMIN})
    public List<CommandDto> search(
            @QueryParam("host") String host,
            @QueryParam("vm") String vm,
            @QueryParam("state") String state,
            @QueryParam("rollout") String rollout,
            @QueryParam("limit") String limit,
            @QueryParam("offset") String offset) {
        String wanted = state == null || state.isBlank() ? null : state.strip().toUpperCase(Locale.ROOT);
        if (wanted != null) {
            try {
                dev.vigil.dispatch.domain.CommandState.valueOf(wanted);
            } catch (IllegalArgumentException e) {
                throw RefusedException.badRequest(
                        "Bad state", "state is one of " + List.of(dev.vigil.dispatch.domain.CommandState.values()));
            }
        }
        return commands
                .search(
                        host == null || host.isBlank() ? null : host,
                        vm == null || vm.isBlank()
                                ? null
                                : Queries.uuid("vm", vm).toString(),
                        wanted,
                        Queries.uuid("rollout", rollout),
                        Queries.integer("limit", limit, 50, 1, 500),
                        Queries.integer("offset", offset, 0, 0, 10_000))
                .stream()
                .map(CommandDto::of)
                .toList();
    }

    @GET
    @Path("{id}")
    @RolesAllowed({Roles.ANALYST, Roles.OPERATOR, Roles.ADMIN})
    public CommandDto get(@PathParam("id") String id) {
        return CommandDto.of(commands.command(Queries.id("command", id)));
    }
}
