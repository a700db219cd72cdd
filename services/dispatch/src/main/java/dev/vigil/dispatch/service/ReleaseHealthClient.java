package dev.vigil.dispatch.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vigil.dispatch.config.DispatchConfig;
import dev.vigil.dispatch.domain.ReleaseHealth;
import dev.vigil.serviceauth.ServiceTokens;
import jakarta.enterprise.context.ApplicationScoped;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * Release health from crash triage ({@code GET /api/v1/releases/health}): reports, VM-hours from ingestion's uptime
 * ledger, and the rate test, asked with dispatch's service token (its account needs the analyst role). Without
 * triage's URL, or when it does not answer, there is no health, never a guess.
 */
@ApplicationScoped
public class ReleaseHealthClient {

    private static final Logger LOG = Logger.getLogger(ReleaseHealthClient.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Optional<String> baseUrl;
    private final ServiceTokens tokens;
    private final Duration window;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final Clock clock = Clock.systemUTC();

    ReleaseHealthClient(DispatchConfig config, ServiceTokens tokens) {
        DispatchConfig.Rollouts rollouts = config.dispatch().rollouts();
        this.baseUrl = rollouts.triageUrl().map(u -> u.endsWith("/") ? u.substring(0, u.length() - 1) : u);
        this.tokens = tokens;
        this.window = rollouts.window();
    }

    /** The health of {@code release} against {@code previous}, or null when crash triage cannot say. */
    public ReleaseHealth health(
            String product, String release, String previous, double minRateRatio, double significance) {
        if (baseUrl.isEmpty()) {
            return null;
        }
        LocalDate to = LocalDate.now(clock.withZone(ZoneOffset.UTC));
        LocalDate from = to.minusDays(Math.max(0, window.toDays() - 1));
        String url = baseUrl.get() + "/api/v1/releases/health?product=" + encode(product) + "&release="
                + encode(release) + "&previous=" + encode(previous) + "&from=" + from + "&to=" + to
                + "&minRateRatio=" + minRateRatio + "&significance=" + significance;
        try {
            HttpRequest.Builder request =
                    HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20));
            tokens.authorization().ifPresent(a -> request.header("Authorization", a));
            HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                LOG.warnf(
                        "release health of %s %s: crash triage answered %d %s",
                        product, release, response.statusCode(), response.body());
                return null;
            }
            return parse(JSON.readTree(response.body()), minRateRatio, significance);
        } catch (Exception e) {
            LOG.warnf("release health of %s %s: crash triage at %s: %s", product, release, baseUrl.get(), e.toString());
            return null;
        }
    }

    static ReleaseHealth parse(JsonNode body, double minRateRatio, double significance) {
        JsonNode previous = body.path("previous");
        JsonNode comparison = body.path("comparison");
        List<ReleaseHealth.Regression> regressions = new ArrayList<>();
        for (JsonNode regression : body.path("regressions")) {
            regressions.add(new ReleaseHealth.Regression(
                    regression.path("bucketId").asText(),
                    regression.path("kind").asText(),
                    regression.path("title").asText()));
        }
        return new ReleaseHealth(
                body.path("reports").asLong(),
                number(body.path("vmHours")),
                number(body.path("ratePer1000VmHours")),
                previous.path("reports").asLong(),
                number(previous.path("vmHours")),
                number(previous.path("ratePer1000VmHours")),
                number(comparison.path("pValue")),
                comparison.path("significant").asBoolean(false),
                comparison.path("minRateRatio").asDouble(minRateRatio),
                comparison.path("significance").asDouble(significance),
                regressions);
    }

    private static Double number(JsonNode node) {
        return node.isNumber() ? node.asDouble() : null;
    }

    private static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
