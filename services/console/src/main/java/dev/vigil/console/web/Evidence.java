package dev.vigil.console.web;

import dev.vigil.console.triage.TriageApi;
import dev.vigil.console.triage.TriageViews.Artifact;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.ProcessingException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.rest.client.inject.RestClient;

/**
 * Crash evidence read through the short-lived links crash triage signs, or through crash triage itself for evidence
 * the agent encrypted: console text to show in a page, and the flight recorder's lines. Reads at most {@code vigil.console.max-evidence-bytes}; what is cut is said.
 */
@ApplicationScoped
public class Evidence {

    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @ConfigProperty(name = "vigil.console.max-evidence-bytes", defaultValue = "1048576")
    int maxBytes;

    @RestClient
    TriageApi triage;

    /**
     * The text of an artifact (UTF-8), or a note of why it cannot be shown: read through its store link, or for
     * encrypted evidence through crash triage, which decrypts it (as the signed-in user).
     */
    public String text(String incidentId, Artifact artifact) {
        if (artifact.url() != null) {
            return text(artifact.url());
        }
        try (Response response = triage.artifact(incidentId, artifact.kind());
                InputStream in = response.readEntity(InputStream.class)) {
            return bounded(in);
        } catch (WebApplicationException e) {
            return "[crash triage answered " + e.getResponse().getStatus() + " for this evidence]";
        } catch (IOException | ProcessingException e) {
            return "[this evidence could not be read: " + e.getMessage() + "]";
        }
    }

    /** The last {@code max} lines of an artifact's text. */
    public List<String> lines(String incidentId, Artifact artifact, int max) {
        return last(text(incidentId, artifact), max);
    }

    private String bounded(InputStream in) throws IOException {
        byte[] bytes = in.readNBytes(maxBytes + 1);
        boolean cut = bytes.length > maxBytes;
        String text = new String(bytes, 0, Math.min(bytes.length, maxBytes), StandardCharsets.UTF_8);
        return cut ? text + "\n[… cut at " + maxBytes + " bytes; download it for the rest]" : text;
    }

    /** The text behind {@code url} (UTF-8), or a note of why it cannot be shown. */
    public String text(String url) {
        try {
            HttpResponse<InputStream> response = http.send(
                    HttpRequest.newBuilder(URI.create(url))
                            .timeout(Duration.ofSeconds(10))
                            .build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream in = response.body()) {
                if (response.statusCode() != 200) {
                    return "[the object store answered " + response.statusCode() + " for this evidence]";
                }
                return bounded(in);
            }
        } catch (IOException | IllegalArgumentException e) {
            return "[this evidence could not be read: " + e.getMessage() + "]";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "[interrupted]";
        }
    }

    private static List<String> last(String text, int max) {
        List<String> lines = new ArrayList<>(List.of(text.split("\n")));
        lines.removeIf(String::isBlank);
        return lines.subList(Math.max(0, lines.size() - max), lines.size());
    }
}
