package dev.vigil.dispatch.api;

import dev.vigil.dispatch.config.DispatchConfig;
import dev.vigil.dispatch.domain.LicenseRecord;
import dev.vigil.dispatch.service.AgentCertificates;
import dev.vigil.dispatch.service.CommandFeed;
import dev.vigil.dispatch.service.DomainService;
import dev.vigil.dispatch.service.EnrolmentService;
import dev.vigil.dispatch.service.EvidenceUploads;
import dev.vigil.dispatch.service.LicenseService;
import dev.vigil.dispatch.service.RefusedException;
import dev.vigil.schemas.RecordSeals;
import io.quarkus.security.identity.SecurityIdentity;
import io.smallrye.common.annotation.Blocking;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;

/**
 * What an enrolled agent asks dispatch for besides the repository: its commands, its VM's domain, its license leases,
 * its record key, and links to store its evidence through.
 */
@Path("/api/v1/agent")
@RolesAllowed(Roles.HOST)
@SecurityRequirement(name = "host")
public class AgentResource {

    /** A domain request: every field may be left out. */
    public record DomainRequest(String release, String vmName, String vmUuid, Map<String, String> parameters) {}

    /** A license as its agent holds it: the signed document in base64. */
    public record AgentLicenseDto(String licenseId, String product, long sequence, String document) {}

    /**
     * An object to store: its SHA-256 and size, and the multipart upload begun for it before, if any.
     */
    public record UploadRequest(String sha256, Long size, String uploadId) {}

    /** A command as its agent fetches it: its place in the host's sequence, its id, and the signed command (base64). */
    public record FetchedCommand(long sequence, String id, String signed) {}

    /** The host's next commands in sequence order; empty when none came within the wait. */
    public record CommandBatch(List<FetchedCommand> commands) {}

    /** A request for a Kafka client certificate: a PEM {@code CERTIFICATE REQUEST} signed with the certificate's key. */
    public record CertificateRequest(String csr) {}

    /** The parts of a multipart upload, each with the ETag the store answered. */
    public record CompleteRequest(String sha256, String uploadId, List<EvidenceUploads.SentPart> parts) {}

    private final DomainService domains;
    private final LicenseService licenses;
    private final EvidenceUploads uploads;
    private final EnrolmentService enrolments;
    private final CommandFeed commands;
    private final AgentCertificates certificates;
    private final Duration longestWait;
    private final SecurityIdentity identity;

    AgentResource(
            DomainService domains,
            LicenseService licenses,
            EvidenceUploads uploads,
            EnrolmentService enrolments,
            CommandFeed commands,
            AgentCertificates certificates,
            DispatchConfig config,
            SecurityIdentity identity) {
        this.domains = domains;
        this.licenses = licenses;
        this.uploads = uploads;
        this.enrolments = enrolments;
        this.commands = commands;
        this.certificates = certificates;
        this.longestWait = config.dispatch().commands().longestWait();
        this.identity = identity;
    }

    /** The signed domain definition of a VM (a {@code SignedMetadata} of a {@code DomainDefinition}). */
    @POST
    @Path("domains")
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_OCTET_STREAM)
    public byte[] domain(DomainRequest body) {
        DomainRequest request = body == null ? new DomainRequest(null, null, null, null) : body;
        return domains.render(host(), request.release(), request.vmName(), request.vmUuid(), request.parameters());
    }

    /**
     * This host's commands above sequence {@code after} (the last one its agent handled), oldest first. When there are
     * none the request waits up to {@code wait} seconds for one (a long poll) and then answers an empty batch. Only
     * the asking host's commands are ever answered; they are vendor-signed, and the agent verifies each.
     */
    @GET
    @Path("commands")
    @Produces(MediaType.APPLICATION_JSON)
    @Blocking
    public CompletionStage<CommandBatch> commands(@QueryParam("after") String after, @QueryParam("wait") String wait) {
        long from = Queries.number("after", after, 0, 0, Long.MAX_VALUE);
        long seconds = Queries.number("wait", wait, 0, 0, longestWait.toSeconds());
        Base64.Encoder base64 = Base64.getEncoder();
        return commands.next(host(), from, Duration.ofSeconds(seconds))
                .thenApply(open -> new CommandBatch(open.stream()
                        .map(c ->
                                new FetchedCommand(c.sequence(), c.id().toString(), base64.encodeToString(c.signed())))
                        .toList()));
    }

    /** This host's licenses, with the signed document of each. */
    @GET
    @Path("licenses")
    @Produces(MediaType.APPLICATION_JSON)
    public List<AgentLicenseDto> licenses() {
        return licenses.search(host(), null, 100).stream()
                .map(AgentResource::dto)
                .toList();
    }

    /** A lease renewal: the new signed document (or the revoked or ended one, which says to stop). */
    @POST
    @Path("licenses/{id}/renew")
    @Produces(MediaType.APPLICATION_OCTET_STREAM)
    public byte[] renew(@PathParam("id") String id) {
        return licenses.renewLease(Queries.id("license", id), host());
    }

    /**
     * This host's record key of the current epoch, as enrolment gave it: agents ask again with each lease renewal and
     * seal with the new key once the deployment rotates its record-key secret.
     */
    @GET
    @Path("record-key")
    @Produces(MediaType.APPLICATION_JSON)
    public EnrolmentResource.RecordKey recordKey() {
        RecordSeals.HostKey key = enrolments.recordKey(host());
        return new EnrolmentResource.RecordKey(
                key.tenant(), key.epoch(), Base64.getEncoder().encodeToString(key.key()));
    }

    /**
     * A Kafka client certificate for this host, signed by the enrolment CA for the key of the request: the agents'
     * principal, naming this host and its tenant. Agents ask at enrolment and again at half its life; 409 when this
     * dispatch has no enrolment CA.
     */
    @POST
    @Path("kafka-certificate")
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    public AgentCertificates.Issued kafkaCertificate(CertificateRequest body) {
        return certificates.issue(host(), body == null ? null : body.csr());
    }

    /**
     * How to store one object of this host's evidence: it is stored already, or one {@code PUT} link, or the links of
     * the parts of a multipart upload that the store does not hold yet. Links write only under this host's prefix.
     */
    @POST
    @Path("uploads")
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    public EvidenceUploads.UploadPlan upload(UploadRequest body) {
        if (body == null || body.size() == null) {
            throw RefusedException.badRequest("Bad upload", "send {sha256, size} of the object to store");
        }
        return uploads.plan(host(), body.sha256(), body.size(), body.uploadId());
    }

    /** Completes a multipart upload once every part is sent. */
    @POST
    @Path("uploads/complete")
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    public EvidenceUploads.StoredObject complete(CompleteRequest body) {
        if (body == null) {
            throw RefusedException.badRequest("Bad upload", "send {sha256, uploadId, parts} of the upload");
        }
        return uploads.complete(host(), body.sha256(), body.uploadId(), body.parts());
    }

    private String host() {
        if (identity.isAnonymous()) {
            throw RefusedException.badRequest("No host", "send the host token");
        }
        return identity.getPrincipal().getName();
    }

    private static AgentLicenseDto dto(LicenseRecord l) {
        return new AgentLicenseDto(
                l.id().toString(),
                l.product(),
                l.sequence(),
                Base64.getEncoder().encodeToString(l.document()));
    }
}
