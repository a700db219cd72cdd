package dev.vigil.serviceauth;

import io.smallrye.config.ConfigMapping;
import java.util.Optional;

/** Settings of the calls a service makes to other Vigil services, beside Quarkus' {@code quarkus.oidc-client.*}. */
@ConfigMapping(prefix = "vigil.service-auth")
public interface ServiceAuthConfig {

    /**
     * A bearer token sent as it is when no identity provider is configured ({@code quarkus.oidc-client.auth-server-url}
     * unset): for tests and benchmarks, which sign their own. Never set in production.
     */
    Optional<String> token();
}
