package dev.vigil.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Dispatch's vendor API, as the command line uses it: JSON in and out, problems turned into messages. */
public final class DispatchClient {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI base;
    private final String token;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    /** A response: its status and JSON body (null when empty). */
    public record Reply(int status, JsonNode body) {}

    public DispatchClient(String baseUrl, String token) {
        this.base = URI.create(baseUrl.endsWith("/") ? baseUrl : baseUrl + "/");
        this.token = token;
    }

    public Reply get(String path) throws CliException {
        return send(request(path).GET());
    }

    public Reply post(String path, Object body) throws CliException {
        return send(request(path)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(json(body))));
    }

    public Reply put(String path, Object body) throws CliException {
        return send(request(path)
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofByteArray(json(body))));
    }

    public Reply putBytes(String path, byte[] body) throws CliException {
        return send(request(path)
                .header("Content-Type", "application/octet-stream")
                .PUT(HttpRequest.BodyPublishers.ofByteArray(body)));
    }

    /** The message of a refusal: the problem's title and detail. */
    public static String problem(Reply reply) {
        if (reply.body() != null && reply.body().has("title")) {
            return reply.body().path("title").asText() + ": "
                    + reply.body().path("detail").asText();
        }
        return "HTTP " + reply.status();
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(
                        base.resolve(path.startsWith("/") ? path.substring(1) : path))
                .timeout(Duration.ofMinutes(2));
        if (token != null && !token.isBlank()) {
            builder.header("Authorization", "Bearer " + token);
        }
        return builder;
    }

    private Reply send(HttpRequest.Builder request) throws CliException {
        HttpRequest built = request.build();
        try {
            HttpResponse<byte[]> response = http.send(built, HttpResponse.BodyHandlers.ofByteArray());
            JsonNode body = response.body().length == 0 ? null : readJson(response.body());
            if (response.statusCode() == 401) {
                throw new CliException(
                        CliException.REFUSED,
                        "dispatch did not accept the token (401): pass a current one with --token or VIGIL_TOKEN");
            }
            if (response.statusCode() == 403) {
                throw new CliException(CliException.REFUSED, "the token's roles do not allow this (403)");
            }
            return new Reply(response.statusCode(), body);
        } catch (IOException e) {
            throw new CliException(CliException.IO, "cannot reach dispatch at " + built.uri() + ": " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException(CliException.IO, "interrupted");
        }
    }

    private static JsonNode readJson(byte[] bytes) {
        try {
            return JSON.readTree(bytes);
        } catch (IOException e) {
            return null;
        }
    }

    private static byte[] json(Object body) throws CliException {
        try {
            return JSON.writeValueAsBytes(body);
        } catch (IOException e) {
            throw new CliException(CliException.USAGE, "cannot write the request: " + e.getMessage());
        }
    }
}
