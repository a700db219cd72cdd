package dev.vigil.agent.delivery;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

/**
 * The agent's side of dispatch's API: redemption of an enrolment token, and the host-token calls (signed
 * documents, chunks through their object-store links, domain definitions, license renewals, evidence upload links). Transient failures
 * (no connection, 5xx, 429) are retried with exponential backoff; a refusal is not.
 */
public final class DispatchConnection {

    private static final ObjectMapper JSON = new ObjectMapper();
    static final int ATTEMPTS = 5;

    private final String baseUrl;
    private final String hostToken;
    private final HttpClient http;
    private final Duration firstBackoff;

    /** A response that arrived: its status, body, where a redirect points, and the ETag of what a PUT stored. */
    public record Answer(int status, byte[] body, String location, String etag) {

        public JsonNode json() throws DeliveryException {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new DeliveryException(
                        DeliveryException.Kind.REFUSED,
                        "dispatch answered something that is" + " not JSON (HTTP " + status + ")");
            }
        }

        /** A problem body's title and detail, for messages. */
        public String problem() {
            try {
                JsonNode node = JSON.readTree(body);
                if (node.has("title")) {
                    return node.path("title").asText() + ": "
                            + node.path("detail").asText();
                }
            } catch (IOException e) {
                // Not a problem body.
            }
            return "HTTP " + status;
        }
    }

    public DispatchConnection(String baseUrl, String hostToken, Duration firstBackoff) {
        this.baseUrl = baseUrl;
        this.hostToken = hostToken;
        this.firstBackoff = firstBackoff;
        // Redirects are not followed: a chunk's redirect is fetched without the host token (see chunk).
        this.http =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    }

    /** The same dispatch with a host token. */
    public DispatchConnection withHostToken(String token) {
        return new DispatchConnection(baseUrl, token, firstBackoff);
    }

    public Answer get(String path) throws DeliveryException {
        return send(request(path).GET().build());
    }

    public Answer postJson(String path, Object body) throws DeliveryException {
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(body);
        } catch (IOException e) {
            throw new IllegalStateException("a request body does not serialize", e);
        }
        return send(request(path)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(json))
                .build());
    }

    /**
     * A chunk: dispatch answers with a redirect to a short-lived object-store link, which is fetched without the host
     * token (the link carries its own signature, and the token is dispatch's alone).
     */
    public Answer chunk(String sha256) throws DeliveryException {
        Answer redirect =
                send(request("/api/v1/agent/repository/chunks/" + sha256).GET().build());
        if (redirect.status() / 100 != 3) {
            return redirect;
        }
        return send(HttpRequest.newBuilder(URI.create(redirect.location()))
                .timeout(Duration.ofMinutes(2))
                .GET()
                .build());
    }

    /**
     * A {@code PUT} of {@code body} to an object-store link dispatch signed (an evidence upload), sent without the
     * host token: the link carries its own signature.
     */
    public Answer putLink(String url, HttpRequest.BodyPublisher body, String contentType) throws DeliveryException {
        return send(HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofMinutes(10))
                .header("Content-Type", contentType)
                .PUT(body)
                .build());
    }

    /** Redeems an enrolment token (the token is the credential; no host token yet). */
    public Answer redeem(String token, String hostId, String agentVersion) throws DeliveryException {
        return postJson(
                "/api/v1/enrolments/redeem", Map.of("token", token, "hostId", hostId, "agentVersion", agentVersion));
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder builder =
                HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(Duration.ofMinutes(2));
        if (hostToken != null) {
            builder.header("Authorization", "VigilHost " + hostToken);
        }
        return builder;
    }

    private Answer send(HttpRequest request) throws DeliveryException {
        Duration wait = firstBackoff;
        String last = null;
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            try {
                HttpResponse<byte[]> response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
                int status = response.statusCode();
                if (status < 500 && status != 429) {
                    return new Answer(
                            status,
                            response.body(),
                            response.headers().firstValue("Location").orElse(null),
                            response.headers().firstValue("ETag").orElse(null));
                }
                last = "HTTP " + status;
            } catch (IOException e) {
                last = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new DeliveryException(DeliveryException.Kind.NETWORK, "interrupted");
            }
            if (attempt < ATTEMPTS) {
                sleep(wait);
                wait = wait.multipliedBy(2);
            }
        }
        throw new DeliveryException(
                DeliveryException.Kind.NETWORK,
                "cannot reach dispatch at " + baseUrl + " (" + last + ") after " + ATTEMPTS + " attempts: check the"
                        + " network and run the same command again; it resumes where it stopped");
    }

    private static void sleep(Duration wait) throws DeliveryException {
        try {
            Thread.sleep(wait.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DeliveryException(DeliveryException.Kind.NETWORK, "interrupted");
        }
    }
}
