package dev.vigil.console.web;

import jakarta.enterprise.context.ApplicationScoped;
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

/**
 * Crash evidence read through the short-lived links crash triage signs: console text to show in a page, and the
 * flight recorder's lines. Reads at most {@code vigil.console.max-evidence-bytes}; what is cut is said.
 */
@ApplicationScoped
public class Evidence {

    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @ConfigProperty(name = "vigil.console.max-evidence-bytes", defaultValue = "1048576")
    int maxBytes;

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
                byte[] bytes = in.readNBytes(maxBytes + 1);
                boolean cut = bytes.length > maxBytes;
                String text = new String(bytes, 0, Math.min(bytes.length, maxBytes), StandardCharsets.UTF_8);
                return cut ? text + "\n[… cut at " + maxBytes + " bytes; download it for the rest]" : text;
            }
        } catch (IOException | IllegalArgumentException e) {
            return "[this evidence could not be read: " + e.getMessage() + "]";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "[interrupted]";
        }
    }

    /** The last {@code max} lines of the text behind {@code url}. */
    public List<String> lines(String url, int max) {
        List<String> lines = new ArrayList<>(List.of(text(url).split("\n")));
        lines.removeIf(String::isBlank);
        return lines.subList(Math.max(0, lines.size() - max), lines.size());
    }
}
