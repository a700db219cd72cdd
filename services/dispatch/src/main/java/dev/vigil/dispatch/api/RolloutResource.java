package dev.vigil.dispatch.api;

import dev.vigil.dispatch.domain.Rollout;
import dev.vigil.dispatch.persistence.RolloutRepository.Decision;
import dev.vigil.dispatch.service.RefusedException;
import dev.vigil.dispatch.service.RolloutService;
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
import java.net.URI;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;

/** Staged rollouts: start (operator), follow every decision (analyst), pause, resume and abort (operator). */
@Path("/api/v1/rollouts")
@Produces(MediaType.APPLICATION_JSON)
@SecurityRequirement(name = "jwt")
public class RolloutResource {

    /** A new rollout; everything but product and release may be left to the configured defaults. */
    public record NewRollout(
            String product,
            String release,
            String channel,
            List<Integer> stages,
            Double minVmHours,
            String minStageDuration,
            Double minRateRatio,
            Double significance,
            Boolean rollbackOnHalt) {}

    /** A rollout, where it is, and (in the detail) every decision with its numbers and the hosts it updated. */
    public record RolloutDto(
            UUID id,
            String product,
            String release,
            String previousRelease,
            String channel,
            List<Integer> stages,
            int stage,
            int percent,
            String state,
            double minVmHours,
            String minStageDuration,
            double minRateRatio,
            double significance,
            boolean rollbackOnHalt,
            String createdBy,
            Instant createdAt,
            Instant stageStartedAt,
            Instant updatedAt,
            List<DecisionDto> decisions,
            Map<String, UUID> hosts) {

        static RolloutDto of(Rollout r, List<Decision> decisions, Map<String, UUID> hosts) {
            return new RolloutDto(
                    r.id(),
                    r.product(),
                    r.release(),
                    r.previousRelease(),
                    r.channel(),
                    r.stages(),
                    r.stage(),
                    r.percent(),
                    r.state().name(),
                    r.minVmHours(),
                    r.minStageDuration().toString(),
                    r.minRateRatio(),
                    r.significance(),
                    r.rollbackOnHalt(),
                    r.createdBy(),
                    r.createdAt(),
                    r.stageStartedAt(),
                    r.updatedAt(),
                    decisions == null
                            ? null
                            : decisions.stream().map(DecisionDto::of).toList(),
                    hosts);
        }
    }

    /** A decision and the numbers it was taken on. */
    public record DecisionDto(
            String kind,
            int stage,
            int percent,
            int hosts,
            String decidedBy,
            String reason,
            Map<String, Object> health,
            Instant decidedAt,
            Instant publishedAt) {

        static DecisionDto of(Decision d) {
            return new DecisionDto(
                    d.kind(),
                    d.stage(),
                    d.percent(),
                    d.hosts(),
                    d.decidedBy(),
                    d.reason(),
                    d.health(),
                    d.decidedAt(),
                    d.publishedAt());
        }
    }

    private final RolloutService rollouts;
    private final SecurityIdentity identity;

    RolloutResource(RolloutService rollouts, SecurityIdentity identity) {
        this.rollouts = rollouts;
        this.identity = identity;
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed({Roles.OPERATOR, Roles.ADMIN})
    public Response start(NewRollout body) {
        if (body == null || body.product() == null || body.release() == null) {
            throw RefusedException.badRequest("Bad rollout", "send at least {product, release}");
        }
        Rollout rollout = rollouts.start(
                new RolloutService.Plan(
                        body.product(),
                        body.release(),
                        body.channel(),
                        body.stages(),
                        body.minVmHours(),
                        body.minStageDuration() == null
                                ? null
                                : Queries.duration("minStageDuration", body.minStageDuration(), null),
                        body.minRateRatio(),
                        body.significance(),
                        body.rollbackOnHalt()),
                identity.getPrincipal().getName());
        return Response.created(URI.create("/api/v1/rollouts/" + rollout.id()))
                .entity(detail(rollout.id()))
                .build();
    }

    @GET
    @RolesAllowed({Roles.ANALYST, Roles.OPERATOR, Roles.ADMIN})
    public List<RolloutDto> list(@QueryParam("product") String product, @QueryParam("limit") String limit) {
        return rollouts
                .rollouts(
                        product == null || product.isBlank() ? null : product,
                        Queries.integer("limit", limit, 50, 1, 500))
                .stream()
                .map(r -> RolloutDto.of(r, null, null))
                .toList();
    }

    @GET
    @Path("{id}")
    @RolesAllowed({Roles.ANALYST, Roles.OPERATOR, Roles.ADMIN})
    public RolloutDto get(@PathParam("id") String id) {
        return detail(Queries.id("rollout", id));
    }

    @POST
    @Path("{id}/pause")
    @RolesAllowed({Roles.OPERATOR, Roles.ADMIN})
    public RolloutDto pause(@PathParam("id") String id) {
        return detail(rollouts.pause(
                        Queries.id("rollout", id), identity.getPrincipal().getName())
                .id());
    }

    @POST
    @Path("{id}/resume")
    @RolesAllowed({Roles.OPERATOR, Roles.ADMIN})
    public RolloutDto resume(@PathParam("id") String id) {
        return detail(rollouts.resume(
                        Queries.id("rollout", id), identity.getPrincipal().getName())
                .id());
    }

    /** Stops the rollout; with {@code ?rollback=true} its hosts are asked to return to the previous release. */
    @POST
    @Path("{id}/abort")
    @RolesAllowed({Roles.OPERATOR, Roles.ADMIN})
    public RolloutDto abort(@PathParam("id") String id, @QueryParam("rollback") String rollbackParam) {
        boolean rollback = "true".equalsIgnoreCase(rollbackParam);
        return detail(rollouts.abort(
                        Queries.id("rollout", id),
                        rollback,
                        identity.getPrincipal().getName())
                .id());
    }

    private RolloutDto detail(UUID id) {
        return RolloutDto.of(rollouts.rollout(id), rollouts.decisions(id), rollouts.hosts(id));
    }
}
