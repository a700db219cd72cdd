package dev.vigil.triage.regression;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Ingestion's uptime ledger API ({@code GET /api/v1/fleet/uptime}, the same JSON rows) over a ledger the test
 * writes with {@code PUT /ledger?product=&release=&vmHours=}: VM-hours that would otherwise take real VMs running for
 * days. Triage is pointed at it through {@code vigil.triage.uptime-url}; the sweep runs every second.
 */
public final class UptimeLedger implements QuarkusTestResourceLifecycleManager {

    private final Map<String, Double> hours = new ConcurrentHashMap<>();
    private HttpServer server;

    @Override
    public Map<String, String> start() {
        try {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        server.createContext("/api/v1/fleet/uptime", this::uptime);
        server.createContext("/ledger", this::ledger);
        server.start();
        return Map.of(
                "vigil.triage.uptime-url",
                "http://127.0.0.1:" + server.getAddress().getPort(),
                "vigil.triage.regression.sweep-every",
                "1s");
    }

    @Override
    public void stop() {
        if (server != null) {
            server.stop(0);
        }
    }

    private void uptime(HttpExchange exchange) throws IOException {
        Map<String, String> q = query(exchange);
        Double h = hours.get(q.get("product") + "|" + q.get("release"));
        String body = h == null
                ? "[]"
                : "[{\"day\":\"" + LocalDate.now(ZoneOffset.UTC) + "\",\"tenant\":\"acme\",\"product\":\""
                        + q.get("product") + "\",\"release\":\"" + q.get("release") + "\",\"vmHours\":" + h + "}]";
        respond(exchange, 200, body);
    }

    private void ledger(HttpExchange exchange) throws IOException {
        Map<String, String> q = query(exchange);
        hours.put(q.get("product") + "|" + q.get("release"), Double.parseDouble(q.get("vmHours")));
        respond(exchange, 204, null);
    }

    private static Map<String, String> query(HttpExchange exchange) {
        Map<String, String> params = new HashMap<>();
        String raw = exchange.getRequestURI().getRawQuery();
        if (raw != null) {
            for (String pair : raw.split("&")) {
                int eq = pair.indexOf('=');
                if (eq > 0) {
                    params.put(
                            URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                            URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
                }
            }
        }
        return params;
    }

    private static void respond(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, body == null ? -1 : bytes.length);
        if (body != null) {
            exchange.getResponseBody().write(bytes);
        }
        exchange.close();
    }
}
