package dev.vigil.dispatch.service;

import dev.vigil.dispatch.config.DispatchConfig;
import dev.vigil.dispatch.domain.Tokens;
import dev.vigil.dispatch.persistence.Database;
import dev.vigil.dispatch.persistence.HostRepository;
import dev.vigil.serviceauth.ServiceTokens;
import jakarta.enterprise.context.ApplicationScoped;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * Which hosts dispatch may address: hosts whose agents enrolled here, and, when ingestion's URL is configured, hosts
 * its fleet inventory has seen report (agents installed without enrolment, such as a vendor's own test fleet), asked
 * with dispatch's service token.
 */
@ApplicationScoped
public class HostDirectory {

    private static final Logger LOG = Logger.getLogger(HostDirectory.class);

    private final Database db;
    private final Optional<String> ingestion;
    private final ServiceTokens tokens;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    HostDirectory(Database db, DispatchConfig config, ServiceTokens tokens) {
        this.db = db;
        this.tokens = tokens;
        this.ingestion =
                config.dispatch().ingestionUrl().map(u -> u.endsWith("/") ? u.substring(0, u.length() - 1) : u);
    }

    /** The host a host token was given to, or null. */
    public String hostOfToken(String token) {
        if (token == null || token.isBlank() || token.length() > 200) {
            return null;
        }
        return db.transaction(c -> HostRepository.hostOfToken(c, Tokens.sha256(token)));
    }

    /** Whether commands may be addressed to {@code hostId}. */
    public boolean known(String hostId) {
        if (db.read(c -> HostRepository.find(c, hostId)) != null) {
            return true;
        }
        if (ingestion.isEmpty()) {
            return false;
        }
        String url = ingestion.get() + "/api/v1/hosts/" + URLEncoder.encode(hostId, StandardCharsets.UTF_8);
        try {
            HttpRequest.Builder request =
                    HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5));
            tokens.authorization().ifPresent(a -> request.header("Authorization", a));
            HttpResponse<Void> response = http.send(request.build(), HttpResponse.BodyHandlers.discarding());
            if (response.statusCode() == 401 || response.statusCode() == 403) {
                LOG.errorf(
                        "ingestion's inventory at %s refused dispatch's service token (HTTP %d): configure"
                                + " quarkus.oidc-client.* (its account needs the analyst role) or vigil.service-auth.token",
                        url, response.statusCode());
                throw new RefusedException(
                        RefusedException.Why.UNAVAILABLE,
                        "Host inventory unavailable",
                        "host " + hostId + " is not enrolled and ingestion's inventory refused dispatch's token");
            }
            return response.statusCode() == 200;
        } catch (RefusedException e) {
            throw e;
        } catch (Exception e) {
            LOG.warnf("ingestion's inventory at %s did not answer: %s", url, e.getMessage());
            throw new RefusedException(
                    RefusedException.Why.UNAVAILABLE,
                    "Host inventory unavailable",
                    "host " + hostId + " is not enrolled and ingestion's inventory did not answer; try again");
        }
    }
}
