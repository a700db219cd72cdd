package dev.vigil.load;

import dev.vigil.devstack.Devstack;
import dev.vigil.devstack.DevstackConfig;
import dev.vigil.devstack.Endpoints;
import dev.vigil.devstack.IdentityProvider;
import dev.vigil.devstack.Ports;
import dev.vigil.devstack.ServiceProcess;
import java.io.IOException;
import java.net.CookieHandler;
import java.net.CookieManager;
import java.net.CookiePolicy;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The console's front page (top crashes) at N reports (default 1,000,000): crash triage's schema loaded as {@link
 * TopBucketsBenchmark} loads it, but over the 30 days before now; the packaged crash triage and console services on
 * the devstack; Keycloak as the identity provider; an analyst signed in through the authorization code flow as a
 * browser is. Each shape of the page (whole fleet over 7 days, one release over 7 days, one release over 30 days) is
 * fetched after 20 warm-up requests; the baseline in the same run is crash triage's own top-buckets API for the same
 * shape, called with the analyst's token. The Release health list ({@code /releases}) is a fourth shape, against
 * triage's list of releases. Times are the client's on the loopback: the page's server time and little
 * else (the page is about 30 KiB).
 *
 * <p>Usage: {@code load-tests/run ConsolePageBenchmark [reports (1000000)] [requests (200)]}
 */
public final class ConsolePageBenchmark {

    private static final int WARMUP = 20;
    private static final Pattern LOGIN_FORM = Pattern.compile("id=\"kc-form-login\"[^>]*action=\"([^\"]+)\"");

    public static void main(String[] args) throws Exception {
        int reports = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        int requests = args.length > 1 ? Integer.parseInt(args[1]) : 200;
        Path work = Files.createTempDirectory("vigil-console-bench-");
        try (Devstack stack = Devstack.start(DevstackConfig.forTests())) {
            Endpoints e = stack.endpoints();
            try (Connection c = TopBucketsBenchmark.connect(e)) {
                TopBucketsBenchmark.load(c, reports, Instant.now());
            }
            int latest;
            try (var files = Files.list(Path.of("services/crash-triage/src/main/resources/db/migration"))) {
                latest = files.map(TopBucketsBenchmark::version)
                        .max(Comparator.naturalOrder())
                        .orElseThrow();
            }
            IdentityProvider identity =
                    IdentityProvider.start(keycloak(), work.resolve("keycloak"), Ports.free(), Duration.ofSeconds(240));
            int triagePort = Ports.free();
            Map<String, String> triageConfig = new HashMap<>(identity.verification());
            // The schema was made by the load, from the same migrations: Flyway takes it as it is.
            triageConfig.put("quarkus.flyway.baseline-on-migrate", "true");
            triageConfig.put("quarkus.flyway.baseline-version", Integer.toString(latest));
            int consolePort = Ports.free();
            Map<String, String> consoleConfig = new HashMap<>(identity.consoleClient());
            consoleConfig.put("vigil.console.triage-url", "http://127.0.0.1:" + triagePort);
            // The front page needs no ingestion; a closed port says so if it ever does.
            consoleConfig.put("vigil.console.ingestion-url", "http://127.0.0.1:9");
            consoleConfig.put("vigil.console.dispatch-url", "http://127.0.0.1:9");
            String triageUrl = "http://127.0.0.1:" + triagePort;
            String consoleUrl = "http://127.0.0.1:" + consolePort;
            try (ServiceProcess triage = ServiceProcess.start(
                            Path.of("services/crash-triage/target/quarkus-app/quarkus-run.jar"),
                            e,
                            triagePort,
                            triageConfig,
                            work.resolve("crash-triage.log"));
                    ServiceProcess console = ServiceProcess.start(
                            Path.of("services/console/target/quarkus-app/quarkus-run.jar"),
                            e,
                            consolePort,
                            consoleConfig,
                            work.resolve("console.log"))) {
                triage.awaitReady(triageUrl, Duration.ofSeconds(120));
                console.awaitReady(consoleUrl, Duration.ofSeconds(120));
                HttpClient browser = HttpClient.newBuilder()
                        .cookieHandler(new LoopbackCookies())
                        .followRedirects(HttpClient.Redirect.NORMAL)
                        .build();
                signIn(browser, consoleUrl, identity);
                String token = identity.token("analyst");
                HttpClient api = HttpClient.newHttpClient();
                String weekAgo = Instant.now().minus(Duration.ofDays(7)).toString();
                String monthAgo = Instant.now().minus(Duration.ofDays(30)).toString();
                String release = URLEncoder.encode("Product1|r3", StandardCharsets.UTF_8);
                Map<String, long[]> pages = new LinkedHashMap<>();
                Map<String, long[]> apis = new LinkedHashMap<>();
                pages.put("whole fleet, 7 days", time(browser, consoleUrl + "/", null, requests, "title "));
                apis.put(
                        "whole fleet, 7 days",
                        time(api, triageUrl + "/api/v1/buckets?from=" + weekAgo, token, requests, "title "));
                pages.put(
                        "one release, 7 days",
                        time(browser, consoleUrl + "/?release=" + release, null, requests, "title "));
                apis.put(
                        "one release, 7 days",
                        time(
                                api,
                                triageUrl + "/api/v1/buckets?product=Product1&release=r3&from=" + weekAgo,
                                token,
                                requests,
                                "title "));
                pages.put(
                        "one release, 30 days",
                        time(browser, consoleUrl + "/?days=30&release=" + release, null, requests, "title "));
                apis.put(
                        "one release, 30 days",
                        time(
                                api,
                                triageUrl + "/api/v1/buckets?product=Product1&release=r3&from=" + monthAgo,
                                token,
                                requests,
                                "title "));
                // The release health list: every release with reports in 90 days, the page and triage's list.
                pages.put(
                        "release list, 90 days", time(browser, consoleUrl + "/releases", null, requests, "release=r3"));
                apis.put("release list, 90 days", time(api, triageUrl + "/api/v1/releases", token, requests, "\"r3\""));
                System.out.printf(
                        "%,d reports in 5,000 buckets; %d requests per shape after %d warm-up%n",
                        reports, requests, WARMUP);
                System.out.println("| console page | page p50 / p95 / p99 (ms) | triage API p50 / p95 / p99 (ms)"
                        + " | page p95 / API p95 |");
                System.out.println("|---|---|---|---|");
                for (String shape : pages.keySet()) {
                    long[] page = pages.get(shape);
                    long[] base = apis.get(shape);
                    System.out.printf(
                            "| %s | %s | %s | %.2f |%n",
                            shape, percentiles(page), percentiles(base), (double) p(page, 95) / p(base, 95));
                }
            } finally {
                identity.close();
            }
        } finally {
            Devstack.deleteTree(work);
        }
    }

    /** The authorization code flow as a browser goes through it: the console, Keycloak's form, back with a code. */
    private static void signIn(HttpClient browser, String consoleUrl, IdentityProvider identity) throws Exception {
        HttpResponse<String> login = browser.send(
                HttpRequest.newBuilder(URI.create(consoleUrl + "/")).build(), HttpResponse.BodyHandlers.ofString());
        Matcher form = LOGIN_FORM.matcher(login.body());
        if (!form.find()) {
            throw new IllegalStateException("no Keycloak login form at " + login.uri() + ": " + login.statusCode());
        }
        String action = form.group(1).replace("&amp;", "&");
        String credentials = "username=analyst&password="
                + URLEncoder.encode(identity.password("analyst"), StandardCharsets.UTF_8) + "&credentialId=";
        HttpResponse<String> page = browser.send(
                HttpRequest.newBuilder(URI.create(action))
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .POST(HttpRequest.BodyPublishers.ofString(credentials))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        if (page.statusCode() != 200 || !page.body().contains("Top crashes")) {
            throw new IllegalStateException("signing in ended at " + page.uri() + " with " + page.statusCode());
        }
    }

    /** Times {@code requests} GETs of {@code url}, each of which must answer 200 with {@code expected} in it. */
    private static long[] time(HttpClient client, String url, String token, int requests, String expected)
            throws Exception {
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30));
        if (token != null) {
            builder.header("Authorization", "Bearer " + token);
        }
        HttpRequest request = builder.build();
        long[] millis = new long[requests];
        for (int i = -WARMUP; i < requests; i++) {
            long start = System.nanoTime();
            HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
            long took = System.nanoTime() - start;
            if (response.statusCode() != 200 || !response.body().contains(expected)) {
                throw new IllegalStateException(url + " answered " + response.statusCode() + ": "
                        + response.body()
                                .substring(0, Math.min(300, response.body().length())));
            }
            if (i >= 0) {
                millis[i] = took / 1_000;
            }
        }
        Arrays.sort(millis);
        return millis;
    }

    private static String percentiles(long[] micros) {
        return String.format(
                "%.1f / %.1f / %.1f", p(micros, 50) / 1000.0, p(micros, 95) / 1000.0, p(micros, 99) / 1000.0);
    }

    private static long p(long[] sorted, int percentile) {
        return sorted[Math.min(sorted.length - 1, sorted.length * percentile / 100)];
    }

    private static Path keycloak() throws Exception {
        try (var files = Files.list(Path.of("load-tests/target/lib"))) {
            return files.filter(f -> f.getFileName().toString().startsWith("keycloak-quarkus-dist-"))
                    .findFirst()
                    .orElseThrow(
                            () -> new IllegalStateException("Keycloak's distribution is not in load-tests/target/lib"));
        }
    }

    /**
     * Cookies as a browser keeps them for a loopback address, which it counts as a secure origin: Keycloak's session
     * cookies are {@code Secure}, and the JDK's cookie manager would never send them back over plain HTTP.
     */
    private static final class LoopbackCookies extends CookieHandler {
        private final CookieManager cookies = new CookieManager(null, CookiePolicy.ACCEPT_ALL);

        @Override
        public Map<String, List<String>> get(URI uri, Map<String, List<String>> headers) throws IOException {
            return cookies.get(uri, headers);
        }

        @Override
        public void put(URI uri, Map<String, List<String>> headers) throws IOException {
            Map<String, List<String>> plain = new HashMap<>();
            headers.forEach((name, values) -> plain.put(
                    name,
                    name != null && name.equalsIgnoreCase("Set-Cookie")
                            ? values.stream()
                                    .map(v -> v.replaceAll("(?i);\\s*Secure(?=;|$)", ""))
                                    .toList()
                            : values));
            cookies.put(uri, plain);
        }
    }
}
