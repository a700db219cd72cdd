package dev.vigil.agent.delivery;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Presents partly downloaded images to QEMU as HTTP resources on the loopback interface, for QEMU's own HTTP block
 * driver: {@code HEAD} gives the length, {@code GET} with a byte range gives the bytes, after the {@link ChunkStore}
 * has fetched and verified every chunk the range covers. A VM thus reads only verified data, and only what it
 * reads arrives before the background pull. Each image has an unguessable path; while its vendor cannot be reached
 * the server answers 503, QEMU reports an I/O error, and the VM (whose disk stops on errors) pauses until the data
 * comes.
 */
final class ImageServer implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(ImageServer.class.getName());
    private static final Pattern RANGE = Pattern.compile("bytes=(\\d{1,19})-(\\d{0,19})");
    /** A range is answered in pieces of this size, so memory does not grow with what QEMU asks for. */
    private static final int PIECE = 256 << 10;

    private final HttpServer server;
    private final ExecutorService workers;
    private final Map<String, ChunkStore> images = new ConcurrentHashMap<>();

    private ImageServer(HttpServer server, ExecutorService workers) {
        this.server = server;
        this.workers = workers;
    }

    /** Listens on the loopback interface at {@code port}. */
    static ImageServer start(int port) throws DeliveryException {
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 16);
        } catch (BindException e) {
            throw new DeliveryException(
                    DeliveryException.Kind.IO,
                    "port " + port + " on the loopback interface is taken: another agent process is serving images"
                            + " (stop it or let it finish), or set VIGIL_AGENT_IMAGE_PORT to a free port",
                    e);
        } catch (IOException e) {
            throw new DeliveryException(
                    DeliveryException.Kind.IO, "cannot listen on loopback port " + port + ": " + e.getMessage(), e);
        }
        AtomicInteger threads = new AtomicInteger();
        ExecutorService workers = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "vigil-image-server-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        ImageServer images = new ImageServer(server, workers);
        server.createContext("/images/", images::handle);
        server.setExecutor(workers);
        server.start();
        return images;
    }

    int port() {
        return server.getAddress().getPort();
    }

    /** Serves {@code store} until it is withdrawn; returns its URL. */
    String serve(String name, ChunkStore store) {
        images.put(name, store);
        return "http://" + InetAddress.getLoopbackAddress().getHostAddress() + ":" + port() + "/images/" + name;
    }

    void withdraw(String name) {
        images.remove(name);
    }

    /** A fresh unguessable name for an image's path. */
    static String newName() {
        byte[] bytes = new byte[16];
        new SecureRandom().nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            ChunkStore store = images.get(path.substring("/images/".length()));
            String method = exchange.getRequestMethod();
            if (store == null) {
                reply(exchange, 404, "no such image");
                return;
            }
            exchange.getResponseHeaders().set("Accept-Ranges", "bytes");
            if ("HEAD".equals(method)) {
                exchange.getResponseHeaders().set("Content-Length", Long.toString(store.size()));
                exchange.sendResponseHeaders(200, -1);
                return;
            }
            if (!"GET".equals(method)) {
                reply(exchange, 405, "HEAD or GET");
                return;
            }
            String range = exchange.getRequestHeaders().getFirst("Range");
            Matcher m = range == null ? null : RANGE.matcher(range.strip());
            if (m == null || !m.matches()) {
                reply(exchange, 416, "a single byte range is needed: Range: bytes=FIRST-LAST");
                return;
            }
            long first = Long.parseLong(m.group(1));
            long last = m.group(2).isEmpty() ? store.size() - 1 : Long.parseLong(m.group(2));
            last = Math.min(last, store.size() - 1);
            if (first > last) {
                exchange.getResponseHeaders().set("Content-Range", "bytes */" + store.size());
                reply(exchange, 416, "the range is outside the image");
                return;
            }
            try {
                // Every chunk the range covers is verified and here before the answer starts.
                store.ensureRange(first, last + 1);
            } catch (DeliveryException e) {
                LOG.log(
                        Level.WARNING,
                        "a VM's read of " + store.manifest().getProduct() + " "
                                + store.manifest().getRelease() + " at " + first + " failed: " + e.getMessage());
                reply(exchange, e.kind() == DeliveryException.Kind.UNTRUSTED ? 502 : 503, e.getMessage());
                return;
            }
            exchange.getResponseHeaders().set("Content-Range", "bytes " + first + "-" + last + "/" + store.size());
            exchange.sendResponseHeaders(206, last - first + 1);
            ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(PIECE, last - first + 1));
            try (OutputStream body = exchange.getResponseBody()) {
                for (long at = first; at <= last; ) {
                    buffer.clear();
                    buffer.limit((int) Math.min(buffer.capacity(), last - at + 1));
                    int n = store.readHere(at, buffer);
                    if (n <= 0) {
                        throw new IOException("the image ended at " + at);
                    }
                    body.write(buffer.array(), 0, n);
                    at += n;
                }
            } catch (DeliveryException e) {
                // A local read failed mid-answer: the connection closes short, and QEMU sees an I/O error.
                throw new IOException(e.getMessage(), e);
            }
        }
    }

    private static void reply(HttpExchange exchange, int status, String text) throws IOException {
        byte[] body = text.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        exchange.sendResponseHeaders(status, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        workers.shutdownNow();
    }
}
