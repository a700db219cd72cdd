package dev.vigil.triage.bucket;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vigil.triage.config.TriageConfig;
import jakarta.enterprise.context.ApplicationScoped;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.LocalDate;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * VM-hours from ingestion's uptime ledger ({@code GET /api/v1/fleet/uptime}): the denominator of crash rates.
 * Without {@code vigil.triage.uptime-url}, or when ingestion does not answer, there is no rate, never a wrong one.
 */
@ApplicationScoped
public class UptimeClient {

    private static final Logger LOG = Logger.getLogger(UptimeClient.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Optional<String> baseUrl;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    UptimeClient(TriageConfig config) {
        this.baseUrl = config.triage().uptimeUrl().map(u -> u.endsWith("/") ? u.substring(0, u.length() - 1) : u);
    }

    /** VM-hours of a product's release over whole UTC days, or empty when unknown. */
    public Optional<Double> vmHours(String product, String release, LocalDate from, LocalDate to) {
        if (baseUrl.isEmpty()) {
            return Optional.empty();
        }
        StringBuilder url = new StringBuilder(baseUrl.get())
                .append("/api/v1/fleet/uptime?from=")
                .append(from)
                .append("&to=")
                .append(to)
                .append("&release=")
                .append(URLEncoder.encode(release, StandardCharsets.UTF_8));
        if (product != null) {
            url.append("&product=").append(URLEncoder.encode(product, StandardCharsets.UTF_8));
        }
        try {
            HttpResponse<String> response = http.send(
                    HttpRequest.newBuilder(URI.create(url.toString()))
                            .timeout(Duration.ofSeconds(5))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                LOG.warnf("uptime from %s: HTTP %d %s", url, response.statusCode(), response.body());
                return Optional.empty();
            }
            double hours = 0;
            for (JsonNode row : JSON.readTree(response.body())) {
                hours += row.path("vmHours").asDouble();
            }
            return Optional.of(hours);
        } catch (Exception e) {
            LOG.warnf("uptime from %s: %s", url, e.getMessage());
            return Optional.empty();
        }
    }
}
