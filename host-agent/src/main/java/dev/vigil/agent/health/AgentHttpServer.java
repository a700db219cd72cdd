package dev.vigil.agent.health;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.vigil.agent.Agent;
import dev.vigil.agent.AgentMetrics;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/** Loopback-only {@code /health} (JSON) and {@code /metrics} (Prometheus text) for the machine's operator. */
public final class AgentHttpServer implements AutoCloseable {

    private final HttpServer server;

    private AgentHttpServer(HttpServer server) {
        this.server = server;
    }

    /** Starts on {@code port} (0 = disabled, returns null). */
    public static AgentHttpServer start(int port, Agent agent, AgentMetrics metrics) throws IOException {
        if (port == 0) {
            return null;
        }
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 8);
        server.createContext("/health", exchange -> {
            boolean up = agent.hypervisorConnected();
            String body = "{\"status\":\"" + (up ? "UP" : "DOWN") + "\",\"hypervisor\":" + up + ",\"kafka\":"
                    + agent.publisher().connected() + ",\"spoolBytes\":"
                    + agent.spool().bytes() + "}";
            respond(exchange, up ? 200 : 503, "application/json", body);
        });
        server.createContext(
                "/metrics",
                exchange -> respond(exchange, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.scrape()));
        server.start();
        return new AgentHttpServer(server);
    }

    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
    }

    private static void respond(HttpExchange exchange, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }
}
