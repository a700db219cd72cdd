package dev.vigil.ingestion.api;

import dev.vigil.ingestion.mapping.VmDtoMapper;
import dev.vigil.ingestion.persistence.AgentEventRepository;
import dev.vigil.ingestion.persistence.ArtifactRepository;
import dev.vigil.ingestion.persistence.FeedbackRepository;
import dev.vigil.ingestion.persistence.VmEntity;
import dev.vigil.ingestion.persistence.VmRepository;
import dev.vigil.problem.ProblemDto;
import dev.vigil.problem.ProblemException;
import dev.vigil.problem.RequestParams;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.List;
import java.util.function.Function;
import java.util.function.ToLongFunction;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** The fleet's VMs and each VM's event timeline. */
@Path("/api/v1/vms")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "VMs", description = "Fleet inventory and per-VM event timelines")
@RolesAllowed({Roles.ANALYST, Roles.OPERATOR, Roles.ADMIN})
@SecurityRequirement(name = "jwt")
@APIResponse(
        responseCode = "401",
        description = "No bearer token, or one that is invalid or expired",
        content = @Content(schema = @Schema(implementation = ProblemDto.class)))
@APIResponse(
        responseCode = "403",
        description = "The token has none of the roles this endpoint allows",
        content = @Content(schema = @Schema(implementation = ProblemDto.class)))
public class VmResource {

    private static final java.util.regex.Pattern EVENT_KIND = java.util.regex.Pattern.compile("[A-Za-z]{1,64}");

    private final VmRepository vms;
    private final AgentEventRepository events;
    private final FeedbackRepository feedback;
    private final ArtifactRepository artifacts;
    private final VmDtoMapper mapper;

    VmResource(
            VmRepository vms,
            AgentEventRepository events,
            FeedbackRepository feedback,
            ArtifactRepository artifacts,
            VmDtoMapper mapper) {
        this.vms = vms;
        this.events = events;
        this.feedback = feedback;
        this.artifacts = artifacts;
        this.mapper = mapper;
    }

    @GET
    @Operation(summary = "List VMs", description = "Most recently seen first.")
    @APIResponse(responseCode = "200", description = "A page of VMs")
    @APIResponse(
            responseCode = "400",
            description = "Bad page or size",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    public PageDto<VmDto> list(
            @Parameter(description = "From 0, default 0") @QueryParam("page") String page,
            @Parameter(description = "1-500, default 50") @QueryParam("size") String size) {
        PageRequest paging = PageRequest.parse(page, size, 50);
        long total = vms.count();
        List<VmDto> items = paging.pastEnd(total)
                ? List.of()
                : vms.page(paging.page(), paging.size()).stream()
                        .map(mapper::toDto)
                        .toList();
        return new PageDto<>(items, paging.page(), paging.size(), total);
    }

    @GET
    @Path("/{id}")
    @Operation(summary = "One VM by its libvirt UUID")
    @APIResponse(responseCode = "200", description = "The VM")
    @APIResponse(
            responseCode = "400",
            description = "The id is not a UUID",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    @APIResponse(
            responseCode = "404",
            description = "No VM with this id has reported",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    public Response get(@PathParam("id") String id) {
        VmEntity vm = vms.findById(vmId(id));
        if (vm == null) {
            throw notFound(id);
        }
        return Response.ok(mapper.toDto(vm)).build();
    }

    @GET
    @Path("/{id}/events")
    @Operation(summary = "A VM's events", description = "In the order they occurred on the host.")
    @APIResponse(responseCode = "200", description = "A page of events")
    @APIResponse(
            responseCode = "400",
            description = "Bad page or size, or an id that is not a UUID",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    @APIResponse(
            responseCode = "404",
            description = "No VM with this id has reported",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    public Response events(
            @PathParam("id") String id,
            @Parameter(description = "Only events of this kind, e.g. Conformity, Delivery, Crash or Lifecycle")
                    @QueryParam("kind")
                    String kind,
            @Parameter(description = "From 0, default 0") @QueryParam("page") String page,
            @Parameter(description = "1-500, default 100") @QueryParam("size") String size) {
        PageRequest paging = PageRequest.parse(page, size, 100);
        if (kind == null) {
            return vmPage(id, paging, events::countForVm, events::pageForVm, mapper::toDto);
        }
        if (!EVENT_KIND.matcher(kind).matches()) {
            throw ProblemException.badRequest(
                    RequestParams.BAD_PARAMETER,
                    "kind is the name of an event kind such as Conformity (got " + ProblemDto.echo(kind) + ")");
        }
        return vmPage(
                id,
                paging,
                vm -> events.countForVm(vm, kind),
                (vm, p, s) -> events.pageForVm(vm, kind, p, s),
                mapper::toDto);
    }

    @GET
    @Path("/{id}/feedback")
    @Operation(
            summary = "Users' comments about a VM",
            description = "Newest first; an attached screenshot has a short-lived link (screenshotUrl).")
    @APIResponse(responseCode = "200", description = "A page of feedback")
    @APIResponse(
            responseCode = "400",
            description = "Bad page or size, or an id that is not a UUID",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    @APIResponse(
            responseCode = "404",
            description = "No VM with this id has reported",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    public Response feedback(
            @PathParam("id") String id,
            @Parameter(description = "From 0, default 0") @QueryParam("page") String page,
            @Parameter(description = "1-500, default 50") @QueryParam("size") String size) {
        return vmPage(id, PageRequest.parse(page, size, 50), feedback::countForVm, feedback::pageForVm, mapper::toDto);
    }

    @GET
    @Path("/{id}/artifacts")
    @Operation(summary = "A VM's uploaded evidence", description = "Newest first, with each object's check status.")
    @APIResponse(responseCode = "200", description = "A page of artifacts")
    @APIResponse(
            responseCode = "400",
            description = "Bad page or size, or an id that is not a UUID",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    @APIResponse(
            responseCode = "404",
            description = "Nothing has reported for this VM",
            content = @Content(schema = @Schema(implementation = ProblemDto.class)))
    public Response artifacts(
            @PathParam("id") String id,
            @Parameter(description = "From 0, default 0") @QueryParam("page") String page,
            @Parameter(description = "1-500, default 50") @QueryParam("size") String size) {
        return vmPage(
                id, PageRequest.parse(page, size, 50), artifacts::countForVm, artifacts::pageForVm, mapper::toDto);
    }

    /** One page of something a VM has (events, feedback, artifacts); 404 when the VM is unknown and has none. */
    private <E, D> Response vmPage(
            String id, PageRequest paging, ToLongFunction<String> count, PageQuery<E> query, Function<E, D> toDto) {
        String vm = vmId(id);
        long total = count.applyAsLong(vm);
        if (total == 0 && vms.findById(vm) == null) {
            throw notFound(vm);
        }
        List<D> items = paging.pastEnd(total)
                ? List.of()
                : query.page(vm, paging.page(), paging.size()).stream()
                        .map(toDto)
                        .toList();
        return Response.ok(new PageDto<>(items, paging.page(), paging.size(), total))
                .build();
    }

    /** A repository's page of a VM's rows. */
    @FunctionalInterface
    private interface PageQuery<E> {
        List<E> page(String vmUuid, int page, int size);
    }

    /** VMs are known by their libvirt UUID: anything else names no VM, and is a bad request rather than a miss. */
    private static String vmId(String id) {
        return RequestParams.uuid("the VM id", id);
    }

    private static ProblemException notFound(String id) {
        return ProblemException.notFound("VM not found", "no VM with id " + id + " has reported");
    }
}
