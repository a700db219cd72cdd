package dev.vigil.serviceauth;

import io.quarkus.oidc.client.OidcClient;
import io.quarkus.oidc.client.Tokens;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * The bearer token this service sends when it calls another Vigil service.
 *
 * <p>In production it is a client-credential token from the identity provider ({@code quarkus.oidc-client.*}: the
 * provider's URL, this service's client id and secret), fetched on first use and fetched again when it is about to
 * expire, so a call never carries a token that runs out on the way. Where no provider is configured (tests and
 * benchmarks, which sign their own tokens), {@code vigil.service-auth.token} is sent as it is. With neither, calls go
 * without a token and the called service refuses them, which its log and ours say.
 */
@ApplicationScoped
public class ServiceTokens {

    private static final Logger LOG = Logger.getLogger(ServiceTokens.class);
    /** A token with less than this left is replaced before it is sent. */
    static final Duration RENEW_BEFORE = Duration.ofSeconds(30);

    private final OidcClient client;
    private final boolean provider;
    private final Optional<String> fixed;
    private Tokens current;

    ServiceTokens(
            OidcClient client,
            @ConfigProperty(name = "quarkus.oidc-client.auth-server-url") Optional<String> providerUrl,
            ServiceAuthConfig config) {
        this.client = client;
        this.provider = providerUrl.filter(u -> !u.isBlank()).isPresent();
        this.fixed = config.token().filter(t -> !t.isBlank());
    }

    /** The value of an {@code Authorization} header for a call to another service, or empty when there is none. */
    public Optional<String> authorization() {
        if (!provider) {
            return fixed.map(t -> "Bearer " + t);
        }
        return Optional.of("Bearer " + accessToken());
    }

    private synchronized String accessToken() {
        if (current == null || expiresSoon(current)) {
            try {
                current = client.getTokens().await().atMost(Duration.ofSeconds(15));
            } catch (RuntimeException e) {
                LOG.warnf("the identity provider gave no client-credential token: %s", e.getMessage());
                throw new ServiceTokenException("no service token from the identity provider: " + e.getMessage(), e);
            }
        }
        return current.getAccessToken();
    }

    private static boolean expiresSoon(Tokens tokens) {
        Long expiresAt = tokens.getAccessTokenExpiresAt();
        return expiresAt != null && expiresAt * 1000 - System.currentTimeMillis() < RENEW_BEFORE.toMillis();
    }

    /** The identity provider did not give a token: the call cannot be made authenticated. */
    public static final class ServiceTokenException extends RuntimeException {
        ServiceTokenException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
