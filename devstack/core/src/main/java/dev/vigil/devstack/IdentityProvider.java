package dev.vigil.devstack;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Keycloak, a real OpenID Connect provider, run from its distribution (published on Maven Central as
 * {@code org.keycloak:keycloak-quarkus-dist}) for the local run and the console's browser tests. It serves the
 * {@code vigil} realm: the roles Vigil's services check ({@code analyst}, {@code admin}, {@code operator}), one demo
 * user per role whose passwords are made on first start and kept in {@code demo-users.properties} (never in the
 * repository), the console's confidential client, a public command-line client with the password grant, and a
 * confidential client per service that calls another (the client-credentials grant, secrets made like the passwords,
 * service accounts with the analyst role). Tokens
 * carry the roles in {@code groups} and the user's e-mail in {@code upn}, as the services read them.
 */
public final class IdentityProvider implements AutoCloseable {

    public static final String REALM = "vigil";
    public static final String CONSOLE_CLIENT = "vigil-console";
    public static final String CLI_CLIENT = "vigil-cli";
    /** Dispatch's service account: reads ingestion's inventory and crash triage's release health. */
    public static final String DISPATCH_CLIENT = "vigil-dispatch";
    /** Crash triage's service account: reads ingestion's uptime ledger. */
    public static final String TRIAGE_CLIENT = "vigil-crash-triage";
    /** The services' own clients (the client-credentials grant; their accounts have the analyst role). */
    public static final List<String> SERVICE_CLIENTS = List.of(DISPATCH_CLIENT, TRIAGE_CLIENT);
    /** The demo users, each named after its role. */
    public static final List<String> DEMO_USERS = List.of("analyst", "admin", "operator");

    private static final Pattern ACCESS_TOKEN = Pattern.compile("\"access_token\"\\s*:\\s*\"([^\"]+)\"");
    private static final String MAPPERS = """
            {"name": "groups", "protocol": "openid-connect", "protocolMapper": "oidc-usermodel-realm-role-mapper",
             "config": {"multivalued": "true", "claim.name": "groups", "jsonType.label": "String",
                        "access.token.claim": "true", "id.token.claim": "true", "userinfo.token.claim": "true"}},
            {"name": "upn", "protocol": "openid-connect", "protocolMapper": "oidc-usermodel-property-mapper",
             "config": {"user.attribute": "email", "claim.name": "upn", "jsonType.label": "String",
                        "access.token.claim": "true", "id.token.claim": "true", "userinfo.token.claim": "true"}}""";

    private final Process process;
    private final Path log;
    private final String url;
    private final Properties secrets;

    private IdentityProvider(Process process, Path log, String url, Properties secrets) {
        this.process = process;
        this.log = log;
        this.url = url;
        this.secrets = secrets;
    }

    /**
     * Starts Keycloak from {@code distribution} (its zip, unpacked under {@code dir} on first use) on 127.0.0.1:{@code
     * port}, with its data under {@code dir}; the realm is imported on first start. Returns once the realm answers.
     */
    public static IdentityProvider start(Path distribution, Path dir, int port, Duration timeout) {
        try {
            Files.createDirectories(dir);
            Path home = unpack(distribution, dir);
            Properties secrets = secrets(dir.resolve("demo-users.properties"));
            Path realm = home.resolve("data/import/vigil-realm.json");
            Files.createDirectories(realm.getParent());
            Files.writeString(realm, realm(secrets));
            Path log = dir.resolve("keycloak.log");
            List<String> command = new ArrayList<>(List.of(
                    "bash",
                    home.resolve("bin/kc.sh").toString(),
                    "start-dev",
                    "--http-host=127.0.0.1",
                    "--http-port=" + port,
                    "--import-realm",
                    // Keeps its data (users' sessions, the imported realm) across restarts of the local run.
                    "--db=dev-file"));
            ProcessBuilder builder = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            Map<String, String> env = builder.environment();
            env.put("JAVA_HOME", System.getProperty("java.home"));
            env.put("JAVA_OPTS_KC_HEAP", "-Xms64m -Xmx512m");
            Process process = builder.start();
            IdentityProvider idp = new IdentityProvider(process, log, "http://127.0.0.1:" + port, secrets);
            idp.awaitReady(timeout);
            return idp;
        } catch (IOException e) {
            throw new DevstackException("starting Keycloak from " + distribution + ": " + e.getMessage(), e);
        }
    }

    /** The realm's issuer, which services verify tokens against ({@code mp.jwt.verify.issuer}). */
    public String issuer() {
        return url + "/realms/" + REALM;
    }

    /** The realm's public keys as a JWK set ({@code mp.jwt.verify.publickey.location}). */
    public String jwksUrl() {
        return issuer() + "/protocol/openid-connect/certs";
    }

    /** The console client's secret. */
    public String consoleSecret() {
        return secrets.getProperty("console.secret");
    }

    /** The password of a demo user. */
    public String password(String user) {
        String password = secrets.getProperty("password." + user);
        if (password == null) {
            throw new DevstackException("no demo user " + user + "; they are " + DEMO_USERS);
        }
        return password;
    }

    /** The settings a Vigil service needs to trust this provider's tokens. */
    public Map<String, String> verification() {
        return verification(url);
    }

    /**
     * The settings a Vigil service needs to trust the tokens of the provider that is (or will be) at {@code url}: the
     * keys are fetched when the first token arrives, so a service may start before the provider.
     */
    public static Map<String, String> verification(String url) {
        Map<String, String> config = new LinkedHashMap<>();
        String issuer = url + "/realms/" + REALM;
        config.put("mp.jwt.verify.publickey.location", issuer + "/protocol/openid-connect/certs");
        config.put("mp.jwt.verify.issuer", issuer);
        return config;
    }

    /** The settings a service needs to call others with client-credential tokens of its {@code clientId}. */
    public Map<String, String> serviceClient(String clientId) {
        String secret = secrets.getProperty("client." + clientId + ".secret");
        if (secret == null) {
            throw new DevstackException("no service client " + clientId + "; they are " + SERVICE_CLIENTS);
        }
        Map<String, String> config = new LinkedHashMap<>();
        config.put("quarkus.oidc-client.auth-server-url", issuer());
        config.put("quarkus.oidc-client.client-id", clientId);
        config.put("quarkus.oidc-client.credentials.secret", secret);
        config.put("quarkus.oidc-client.grant.type", "client");
        return config;
    }

    /** The settings the console needs to sign people in here, with its confidential client. */
    public Map<String, String> consoleClient() {
        Map<String, String> config = new LinkedHashMap<>();
        config.put("quarkus.oidc.auth-server-url", issuer());
        config.put("quarkus.oidc.client-id", CONSOLE_CLIENT);
        config.put("quarkus.oidc.credentials.secret", consoleSecret());
        return config;
    }

    /** An access token of a demo user from the command-line client (the password grant), valid for 12 hours. */
    public String token(String user) {
        String form = "grant_type=password&client_id=" + CLI_CLIENT + "&username=" + enc(user) + "&password="
                + enc(password(user)) + "&scope=openid";
        HttpRequest request = HttpRequest.newBuilder(URI.create(issuer() + "/protocol/openid-connect/token"))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form))
                .build();
        try {
            HttpResponse<String> response =
                    HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
            Matcher token = ACCESS_TOKEN.matcher(response.body());
            if (response.statusCode() != 200 || !token.find()) {
                throw new DevstackException(
                        "Keycloak refused a token for " + user + ": " + response.statusCode() + " " + response.body());
            }
            return token.group(1);
        } catch (IOException e) {
            throw new DevstackException("asking Keycloak for a token: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DevstackException("interrupted while asking Keycloak for a token", e);
        }
    }

    /** Stops Keycloak (SIGTERM, then SIGKILL after 20 s); {@code kc.sh} execs its JVM, so this is the server. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void awaitReady(Duration timeout) {
        HttpClient client =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest ready = HttpRequest.newBuilder(URI.create(issuer() + "/.well-known/openid-configuration"))
                .timeout(Duration.ofSeconds(5))
                .build();
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (System.nanoTime() < deadline) {
                if (!process.isAlive()) {
                    throw new DevstackException("Keycloak exited with code " + process.exitValue() + ":\n" + tail());
                }
                try {
                    if (client.send(ready, HttpResponse.BodyHandlers.discarding())
                                    .statusCode()
                            == 200) {
                        return;
                    }
                } catch (IOException e) {
                    // Not listening yet.
                }
                TimeUnit.MILLISECONDS.sleep(500);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new DevstackException("interrupted while Keycloak started", e);
        }
        close();
        throw new DevstackException("Keycloak was not ready within " + timeout.toSeconds() + " s:\n" + tail());
    }

    /** The distribution's home under {@code dir}, unpacked on first use (a marker file says it is complete). */
    private static Path unpack(Path distribution, Path dir) throws IOException {
        if (!Files.isRegularFile(distribution)) {
            throw new DevstackException("Keycloak's distribution is missing (" + distribution
                    + "): build with ./mvnw install -Dquick, which fetches it from Maven Central");
        }
        String name = distribution.getFileName().toString().replaceFirst("\\.zip$", "");
        Path home = dir.resolve(name);
        Path done = home.resolve(".unpacked");
        if (Files.exists(done)) {
            return home;
        }
        Devstack.deleteTree(home);
        Path root = dir.toAbsolutePath().normalize();
        try (ZipFile zip = new ZipFile(distribution.toFile())) {
            Enumeration<? extends ZipEntry> entries = zip.entries();
            while (entries.hasMoreElements()) {
                ZipEntry entry = entries.nextElement();
                // The archive's top directory is keycloak-<version>; the unpacked home is named after the file.
                String inner = entry.getName().replaceFirst("^[^/]+/", "");
                Path target = home.resolve(inner).toAbsolutePath().normalize();
                if (!target.startsWith(root)) {
                    throw new DevstackException("Keycloak's archive has an entry outside its home: " + entry.getName());
                }
                if (entry.isDirectory()) {
                    Files.createDirectories(target);
                } else {
                    Files.createDirectories(target.getParent());
                    try (InputStream in = zip.getInputStream(entry)) {
                        Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
        }
        Files.writeString(done, distribution.toString());
        return home;
    }

    private static Properties secrets(Path file) throws IOException {
        Properties secrets = new Properties();
        if (Files.exists(file)) {
            try (var in = Files.newBufferedReader(file)) {
                secrets.load(in);
            }
            if (SERVICE_CLIENTS.stream().allMatch(c -> secrets.containsKey("client." + c + ".secret"))) {
                return secrets;
            }
        }
        for (String user : DEMO_USERS) {
            secrets.putIfAbsent("password." + user, random(12));
        }
        secrets.putIfAbsent("console.secret", random(32));
        for (String client : SERVICE_CLIENTS) {
            secrets.putIfAbsent("client." + client + ".secret", random(32));
        }
        Files.writeString(file, "");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        try (var out = Files.newBufferedWriter(file)) {
            secrets.store(out, "Vigil's demo users and client secrets for this work directory");
        }
        return secrets;
    }

    private static String realm(Properties secrets) {
        try (InputStream in = IdentityProvider.class.getResourceAsStream("vigil-realm.json")) {
            String realm = new String(in.readAllBytes(), StandardCharsets.UTF_8).replace("${mappers}", MAPPERS);
            for (String key : secrets.stringPropertyNames()) {
                realm = realm.replace("${" + key + "}", secrets.getProperty(key));
            }
            return realm;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String random(int length) {
        String alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        SecureRandom random = new SecureRandom();
        StringBuilder text = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            text.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return text.toString();
    }

    private static String enc(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    private String tail() {
        return ServiceProcess.tail(log);
    }
}
