package dev.vigil.dispatch.api;

import dev.vigil.dispatch.domain.LicenseRecord;
import dev.vigil.dispatch.service.LicenseService;
import dev.vigil.dispatch.service.RefusedException;
import dev.vigil.schemas.delivery.LicenseTerms;
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
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;

/** Licenses: issue (operator), list and read (analyst), extend and revoke (operator). */
@Path("/api/v1/licenses")
@Produces(MediaType.APPLICATION_JSON)
@SecurityRequirement(name = "jwt")
public class LicenseResource {

    /** A new license. */
    public record NewLicense(String product, String hostId, List<String> features, Integer days) {}

    /** An extension of the term. */
    public record Extension(Integer days) {}

    /** A revocation and why. */
    public record Revocation(String reason) {}

    /** A license and what it allows now. */
    public record LicenseDto(
            UUID id,
            String product,
            String hostId,
            UUID enrolmentId,
            List<String> features,
            String standing,
            Instant validFrom,
            Instant validUntil,
            Instant leaseExpiresAt,
            Instant graceUntil,
            long sequence,
            String issuedBy,
            Instant issuedAt,
            Instant renewedAt,
            Instant revokedAt,
            String revokedBy,
            String revocationReason) {

        static LicenseDto of(LicenseRecord l, Instant now) {
            return new LicenseDto(
                    l.id(),
                    l.product(),
                    l.hostId(),
                    l.enrolmentId(),
                    l.features(),
                    LicenseTerms.standing(LicenseService.document(l, l.issuedAt()), now)
                            .name(),
                    l.validFrom(),
                    l.validUntil(),
                    l.leaseExpiresAt(),
                    l.graceUntil(),
                    l.sequence(),
                    l.issuedBy(),
                    l.issuedAt(),
                    l.renewedAt(),
                    l.revokedAt(),
                    l.revokedBy(),
                    l.revocationReason());
        }
    }

    private final LicenseService licenses;
    private final SecurityIdentity identity;
    private final Clock clock = Clock.systemUTC();

    LicenseResource(LicenseService licenses, SecurityIdentity identity) {
        this.licenses = licenses;
        this.identity = identity;
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed({Roles.OPERATOR, Roles.ADMIN})
    public Response issue(NewLicense body) {
        if (body == null || body.product() == null || body.hostId() == null) {
            throw RefusedException.badRequest("Bad license", "send {product, hostId, features, days}");
        }
        LicenseRecord license = licenses.issue(
                body.product(),
                body.hostId(),
                body.features() == null ? List.of() : body.features(),
                Duration.ofDays(body.days() == null ? 30 : body.days()),
                identity.getPrincipal().getName());
        return Response.created(URI.create("/api/v1/licenses/" + license.id()))
                .entity(LicenseDto.of(license, clock.instant()))
                .build();
    }

    @GET
    @RolesAllowed({Roles.ANALYST, Roles.OPERATOR, Roles.ADMIN})
    public List<LicenseDto> search(
            @QueryParam("host") String host, @QueryParam("product") String product, @QueryParam("limit") String limit) {
        Instant now = clock.instant();
        return licenses.search(blank(host), blank(product), Queries.integer("limit", limit, 100, 1, 1000)).stream()
                .map(l -> LicenseDto.of(l, now))
                .toList();
    }

    @GET
    @Path("{id}")
    @RolesAllowed({Roles.ANALYST, Roles.OPERATOR, Roles.ADMIN})
    public LicenseDto get(@PathParam("id") String id) {
        return LicenseDto.of(licenses.license(Queries.id("license", id)), clock.instant());
    }

    /** Extends the term and pushes the new document to the host. */
    @POST
    @Path("{id}/renew")
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed({Roles.OPERATOR, Roles.ADMIN})
    public LicenseDto renew(@PathParam("id") String id, Extension body) {
        int days = body == null || body.days() == null ? 30 : body.days();
        return LicenseDto.of(
                licenses.extend(
                        Queries.id("license", id),
                        Duration.ofDays(days),
                        identity.getPrincipal().getName()),
                clock.instant());
    }

    /** Revokes the license and pushes the revoked document to the host. */
    @POST
    @Path("{id}/revoke")
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed({Roles.OPERATOR, Roles.ADMIN})
    public LicenseDto revoke(@PathParam("id") String id, Revocation body) {
        return LicenseDto.of(
                licenses.revoke(
                        Queries.id("license", id),
                        body == null ? null : body.reason(),
                        identity.getPrincipal().getName()),
                clock.instant());
    }

    private static String blank(String value) {
        return value == null || value.isBlank() ? null : value.strip();
    }
}
