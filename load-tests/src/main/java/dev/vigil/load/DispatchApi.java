package dev.vigil.load;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vigil.devstack.Endpoints;
import dev.vigil.devstack.Ports;
import dev.vigil.devstack.ServiceProcess;
import dev.vigil.schemas.delivery.SigningKey;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Signature;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The packaged dispatch service started for a benchmark (signing keys and the staff token key made for the run), and
 * its API as vendor staff and a user's browser use it, with bearer tokens signed for this run.
 */
final class DispatchApi implements AutoCloseable {

    static final Path APP = Path.of("services/dispatch/target/quarkus-app/quarkus-run.jar");
    private static final String ISSUER = "https://auth.vigil.dev";
    private static final List<String> KEY_ROLES =
            List.of("root", "targets", "snapshot", "timestamp", "commands", "licenses");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One POST: to which host, the answer, and how long it took. */
    record Posted(String host, int status, double millis, String commandId, String body) {}

    /** Starts dispatch on the stack with keys written to {@code secrets}, its log in {@code logs}. */
    static DispatchApi launch(Endpoints endpoints, Path logs, Path secrets) throws Exception {
        if (!Files.exists(APP)) {
            throw new IllegalStateException(APP + " is missing: run ./mvnw install -Dquick first");
        }
        Map<String, String> properties = new LinkedHashMap<>();
        for (String role : KEY_ROLES) {
            properties.put(
                    "vigil.dispatch.keys." + role,
                    "file:"
                            + secret(
                                    secrets.resolve(role + ".pem"),
                                    SigningKey.generate().toPem()));
        }
        KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
        rsa.initialize(2048);
        KeyPair staffKeys = rsa.generateKeyPair();
        Path verifyKey = secret(
                secrets.resolve("jwt-public.pem"),
                pem("PUBLIC KEY", staffKeys.getPublic().getEncoded()));
        properties.put("mp.jwt.verify.publickey.location", verifyKey.toUri().toString());
        int port = Ports.free();
        String base = "http://127.0.0.1:" + port;
        ServiceProcess process = ServiceProcess.start(APP, endpoints, port, properties, logs.resolve("dispatch.log"));
        try {
            process.awaitReady(base, Duration.ofSeconds(120));
            return new DispatchApi(base, staffKeys.getPrivate(), process);
        } catch (Exception | Error e) {
            process.close();
            throw e;
        }
    }

    String base() {
        return base;
    }

    /** Publishes a verified release as an operator. */
    void publish(String product, String version) throws Exception {
        send(operator, "POST", "/api/v1/products/" + product + "/releases/" + version + "/publish", null);
    }

    /** A bearer token for an operator, as the command line uses it. */
    String operatorToken() {
        return operator;
    }

    private static final Pattern TOKEN = Pattern.compile("vigil-agent enroll (ve1\\.[A-Za-z0-9_.-]+)");

    private final String base;
    private final ServiceProcess process;
    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private final String admin;
    private final String operator;
    private final String analyst;

    private DispatchApi(String base, PrivateKey key, ServiceProcess process) throws Exception {
        this.base = base;
        this.process = process;
        this.admin = token(key, "ada@vendor.example", "admin");
        this.operator = token(key, "otto@vendor.example", "operator");
        this.analyst = token(key, "ana@vendor.example", "analyst");
    }

    String product() throws Exception {
        String id = "Bench-" + UUID.randomUUID().toString().substring(0, 8);
        send(admin, "POST", "/api/v1/products", Map.of("id", id, "name", "Bench OS", "description", "benchmark"));
        return id;
    }

    String openProgram(String product) throws Exception {
        String id = "bench-" + UUID.randomUUID().toString().substring(0, 8);
        Map<String, Object> program = new LinkedHashMap<>();
        program.put("id", id);
        program.put("product", product);
        program.put("channel", "beta");
        program.put("title", "Try " + product);
        program.put("description", "The beta of " + product);
        program.put("open", true);
        program.put("licenseDays", 30);
        program.put("features", List.of("beta"));
        send(admin, "POST", "/api/v1/programs", program);
        return id;
    }

    /** Enrols through the programme's page as a person would; returns the token the page shows. */
    String enrol(String program, String name) throws Exception {
        String form = "name=" + URLEncoder.encode(name, StandardCharsets.UTF_8) + "&email="
                + URLEncoder.encode(
                        name.toLowerCase(Locale.ROOT).replace(' ', '.') + "@example.com", StandardCharsets.UTF_8);
        HttpResponse<String> page = http.send(
                HttpRequest.newBuilder(URI.create(base + "/enrol/" + program))
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .POST(HttpRequest.BodyPublishers.ofString(form))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        Matcher matcher = TOKEN.matcher(page.body());
        if (page.statusCode() != 200 || !matcher.find()) {
            throw new IllegalStateException("the enrolment page shows no token (" + page.statusCode() + ")");
        }
        return matcher.group(1);
    }

    /** The agent of {@code hostId} redeems an enrolment token; returns dispatch's answer (its host token and more). */
    JsonNode redeem(String token, String hostId) throws Exception {
        return send(
                null,
                "POST",
                "/api/v1/enrolments/redeem",
                Map.of("token", token, "hostId", hostId, "agentVersion", "benchmark"));
    }

    JsonNode get(String path) throws Exception {
        return send(analyst, "GET", path, null);
    }

    String metrics() throws Exception {
        return http.send(
                        HttpRequest.newBuilder(URI.create(base + "/q/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
    }

    /** Issues a REPORT to one host as an operator; completes with the answer and the time it took. */
    CompletableFuture<Posted> issue(String hostId) throws IOException {
        byte[] body = JSON.writeValueAsBytes(Map.of("action", "REPORT", "targets", List.of(Map.of("hostId", hostId))));
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + "/api/v1/commands"))
                .header("Authorization", "Bearer " + operator)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build();
        long sent = System.nanoTime();
        return http.sendAsync(request, HttpResponse.BodyHandlers.ofString()).thenApply(response -> {
            double millis = (System.nanoTime() - sent) / 1e6;
            String id = null;
            if (response.statusCode() == 201) {
                try {
                    id = JSON.readTree(response.body())
                            .path("commands")
                            .path(0)
                            .path("id")
                            .asText();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            return new Posted(hostId, response.statusCode(), millis, id, response.body());
        });
    }

    private JsonNode send(String bearer, String method, String path, Object body) throws Exception {
        HttpRequest.Builder request =
                HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
        if (bearer != null) {
            request.header("Authorization", "Bearer " + bearer);
        }
        if (body == null) {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            request.header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
        }
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() / 100 != 2) {
            throw new IllegalStateException(
                    method + " " + path + " answered " + response.statusCode() + ": " + response.body());
        }
        return JSON.readTree(response.body());
    }

    /** An RS256 JWT with one role, as the identity provider issues vendor staff. */
    private static String token(PrivateKey key, String name, String role) throws Exception {
        Base64.Encoder base64 = Base64.getUrlEncoder().withoutPadding();
        long now = Instant.now().getEpochSecond();
        String header = base64.encodeToString("{\"alg\":\"RS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));
        Map<String, Object> claims = new TreeMap<>();
        claims.put("iss", ISSUER);
        claims.put("upn", name);
        claims.put("groups", List.of(role));
        claims.put("iat", now);
        claims.put("exp", now + 86_400);
        String payload = base64.encodeToString(JSON.writeValueAsBytes(claims));
        Signature rsa = Signature.getInstance("SHA256withRSA");
        rsa.initSign(key);
        rsa.update((header + "." + payload).getBytes(StandardCharsets.US_ASCII));
        return header + "." + payload + "." + base64.encodeToString(rsa.sign());
    }

    @Override
    public void close() throws Exception {
        process.close();
    }

    private static Path secret(Path file, String text) throws IOException {
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, text);
        return file;
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                        .encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }
}
