package dev.vigil.dispatch.api;

import dev.vigil.dispatch.service.RefusedException;
import dev.vigil.dispatch.service.RepositoryService;
import dev.vigil.schemas.CommandSignatures;
import dev.vigil.schemas.delivery.Role;
import dev.vigil.schemas.delivery.RoleKeys;
import dev.vigil.schemas.delivery.RootMetadata;
import dev.vigil.schemas.delivery.VendorKey;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;

/**
 * The keys of the current root: which key signs for which role, what agents pin for commands, and key rotation
 * (admin), which signs a new root version with the current root keys and the new ones.
 */
@Path("/api/v1/keys")
@Produces(MediaType.APPLICATION_JSON)
@SecurityRequirement(name = "jwt")
public class KeyResource {

    /** The current root as people read it. */
    public record RootDto(
            long version,
            Instant issuedAt,
            Instant expiresAt,
            List<RoleDto> roles,
            List<KeyDto> keys,
            String agentCommandKeys) {}

    /** A role's keys and threshold. */
    public record RoleDto(String role, List<String> keyIds, int threshold) {}

    /** A public key: its id and X.509 encoding in base64. */
    public record KeyDto(String keyId, String publicKey) {}

    /** A rotation: the role's new keys (held by dispatch) and threshold. */
    public record Rotation(String role, List<String> keyIds, Integer threshold) {}

    private final RepositoryService repository;

    KeyResource(RepositoryService repository) {
        this.repository = repository;
    }

    @GET
    @RolesAllowed({Roles.ANALYST, Roles.OPERATOR, Roles.ADMIN})
    public RootDto root() {
        return dto(repository.root());
    }

    @POST
    @Path("rotate")
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed(Roles.ADMIN)
    public RootDto rotate(Rotation body) {
        if (body == null
                || body.role() == null
                || body.keyIds() == null
                || body.keyIds().isEmpty()) {
            throw RefusedException.badRequest("Bad rotation", "send {role, keyIds, threshold}");
        }
        Role role;
        try {
            role = Role.valueOf(body.role().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            role = Role.UNKNOWN;
        }
        if (role == Role.UNKNOWN) {
            throw RefusedException.badRequest(
                    "Bad rotation", "role is one of root, targets, snapshot, timestamp, commands, licenses");
        }
        int threshold = body.threshold() == null ? 1 : body.threshold();
        if (threshold < 1 || threshold > body.keyIds().size()) {
            throw RefusedException.badRequest("Bad rotation", "threshold must be 1 to the number of keys");
        }
        try {
            return dto(repository.rotate(role, body.keyIds(), threshold));
        } catch (dev.vigil.dispatch.service.MissingKeysException e) {
            throw RefusedException.unprocessable("Key not held", e.getMessage());
        }
    }

    private static RootDto dto(RootMetadata root) {
        List<KeyDto> keys = root.getKeys().stream()
                .map(k -> new KeyDto(k.getKeyId(), base64(k)))
                .toList();
        RoleKeys commands = root.getRoles().stream()
                .filter(r -> r.getRole() == Role.COMMANDS)
                .findFirst()
                .orElseThrow();
        String pins = root.getKeys().stream()
                .filter(k -> commands.getKeyIds().contains(k.getKeyId()))
                .map(k -> k.getKeyId() + "=" + base64(k))
                .collect(Collectors.joining(","));
        return new RootDto(
                root.getVersion(),
                root.getIssuedAt(),
                root.getExpiresAt(),
                root.getRoles().stream()
                        .map(r -> new RoleDto(r.getRole().name(), r.getKeyIds(), r.getThreshold()))
                        .toList(),
                keys,
                pins);
    }

    private static String base64(VendorKey key) {
        return Base64.getEncoder().encodeToString(CommandSignatures.bytes(key.getPublicKey()));
    }
}
