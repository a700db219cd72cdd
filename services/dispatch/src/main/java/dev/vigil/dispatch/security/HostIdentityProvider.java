package dev.vigil.dispatch.security;

import dev.vigil.dispatch.service.HostDirectory;
import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.identity.AuthenticationRequestContext;
import io.quarkus.security.identity.IdentityProvider;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.security.runtime.QuarkusPrincipal;
import io.quarkus.security.runtime.QuarkusSecurityIdentity;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;

/** Turns a host token into the identity of the host it was given to, with the role {@code host}. */
@ApplicationScoped
public class HostIdentityProvider implements IdentityProvider<HostTokenRequest> {

    /** The role of an enrolled host's agent. */
    public static final String HOST_ROLE = "host";

    private final HostDirectory hosts;

    HostIdentityProvider(HostDirectory hosts) {
        this.hosts = hosts;
    }

    @Override
    public Class<HostTokenRequest> getRequestType() {
        return HostTokenRequest.class;
    }

    @Override
    public Uni<SecurityIdentity> authenticate(HostTokenRequest request, AuthenticationRequestContext context) {
        return context.runBlocking(() -> {
            String hostId = hosts.hostOfToken(request.token());
            if (hostId == null) {
                throw new AuthenticationFailedException("unknown or withdrawn host token");
            }
            return QuarkusSecurityIdentity.builder()
                    .setPrincipal(new QuarkusPrincipal(hostId))
                    .addRole(HOST_ROLE)
                    .build();
        });
    }
}
