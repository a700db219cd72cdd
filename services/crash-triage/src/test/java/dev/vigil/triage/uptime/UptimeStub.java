package dev.vigil.triage.uptime;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A stand-in for ingestion's uptime API on a real loopback HTTP server, started before triage so triage is
 * configured with its URL. What it answers depends on the release asked about: {@link #SILENT} never answers (until
 * the tests end), {@link #HUGE_SIZED} and {@link #HUGE_CHUNKED} answer a valid ledger of {@link #HUGE_BYTES} (with and
 * without a Content-Length), and any other release {@link #VM_HOURS} in two rows.
 */
public final class UptimeStub implements QuarkusTestResourceLifecycleManager {

    static final String SILENT = "silent";
    static final String HUGE_SIZED = "huge-sized";
    static final String HUGE_CHUNKED = "huge-chunked";
    /** The most triage reads of an answer here. */
    static final int MAX_BYTES = 64 * 1024;
    /** Oversized answers: well over {@link #MAX_BYTES}, and a valid ledger, so only the limit keeps a rate out. */
    static final int HUGE_BYTES = 4 * MAX_BYTES;
    /** A release's VM-hours in every answer the stub gives. */
    static final double VM_HOURS = 1000.0;

    private final CountDownLatch stopped = new CountDownLatch(1);
    private HttpServer server;
    private ExecutorService threads;

    @Override
    public Map<String, String> start() {
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        } catch (IOException e) {
            throw new IllegalStateException("the uptime stub did not start: " + e.getMessage(), e);
        }
        // A thread per exchange: a silent answer must not hold up the others.
        threads = Executors.newCachedThreadPool();
        server.setExecutor(threads);
        server.createContext("/api/v1/fleet/uptime", this::answer);
        server.start();
        return Map.of(
                "vigil.triage.uptime-url",
                        "http://127.0.0.1:" + server.getAddress().getPort(),
                // Only the timeout can cut a silent answer short: the read timeout is far past the test's patience.
                "vigil.triage.uptime.timeout", "1s",
                "vigil.triage.uptime.read-timeout", "120s",
                "vigil.triage.uptime.max-bytes", Integer.toString(MAX_BYTES),
                "vigil.triage.uptime.breaker-window", "4",
                "vigil.triage.uptime.breaker-delay", "10m");
    }

    @Override
    public void stop() {
        stopped.countDown();
        if (server != null) {
            server.stop(0);
            threads.shutdownNow();
        }
    }

    private void answer(HttpExchange exchange) throws IOException {
        String release = release(exchange.getRequestURI());
        try (exchange) {
            if (SILENT.equals(release)) {
                stopped.await();
                return;
            }
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            if (HUGE_SIZED.equals(release) || HUGE_CHUNKED.equals(release)) {
                byte[] body = ledger(release, HUGE_BYTES);
                exchange.sendResponseHeaders(200, HUGE_SIZED.equals(release) ? body.length : 0);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
                return;
            }
            byte[] body = ("[" + row(release, VM_HOURS / 4) + "," + row(release, VM_HOURS * 3 / 4) + "]")
                    .getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A ledger of at least {@code bytes} whose rows add up to {@link #VM_HOURS}. */
    private static byte[] ledger(String release, int bytes) {
        String one = row(release, 1.0);
        int rows = bytes / one.length() + 1;
        StringBuilder json = new StringBuilder("[");
        for (int i = 0; i < rows; i++) {
            json.append(row(release, VM_HOURS / rows)).append(i + 1 < rows ? "," : "]");
        }
        return json.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static String row(String release, double hours) {
        return "{\"day\":\"2026-11-24\",\"tenant\":\"acme\",\"product\":\"AcmeOS\",\"release\":\"" + release
                + "\",\"vmHours\":" + hours + "}";
    }

    private static String release(URI uri) {
        for (String pair : uri.getRawQuery().split("&")) {
            if (pair.startsWith("release=")) {
                return java.net.URLDecoder.decode(pair.substring("release=".length()), StandardCharsets.UTF_8);
            }
        }
        return null;
    }
}
