package dev.vigil.agent;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A loopback TCP relay to a real server that a test can cut and restore, as a network outage would: while down,
 * connections are refused and open ones are reset.
 */
public final class TcpForwarder implements AutoCloseable {

    private final InetSocketAddress target;
    private final int port;
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private volatile ServerSocket server;
    private volatile long cutAfter = Long.MAX_VALUE;
    private final java.util.concurrent.atomic.AtomicLong relayed = new java.util.concurrent.atomic.AtomicLong();

    /** Relays to the host and port of {@code url}; starts down. */
    public TcpForwarder(String url) throws IOException {
        URI uri = URI.create(url);
        this.target = new InetSocketAddress(uri.getHost(), uri.getPort());
        try (ServerSocket probe = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            this.port = probe.getLocalPort();
        }
    }

    /** The relay's URL, with the target's scheme. */
    public String url(String scheme) {
        return scheme + "://127.0.0.1:" + port;
    }

    public synchronized void up() throws IOException {
        if (server != null) {
            return;
        }
        ServerSocket socket = new ServerSocket();
        socket.setReuseAddress(true);
        socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        server = socket;
        Thread acceptor = new Thread(() -> accept(socket), "forwarder-accept-" + port);
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** Goes down once this many more bytes have been relayed towards the server (a connection lost mid-transfer). */
    public void cutAfter(long bytes) {
        relayed.set(0);
        cutAfter = bytes;
    }

    public synchronized void down() throws IOException {
        if (server == null) {
            return;
        }
        server.close();
        server = null;
        for (Socket s : open) {
            s.close();
        }
        open.clear();
    }

    private void accept(ServerSocket socket) {
        while (!socket.isClosed()) {
            try {
                Socket client = socket.accept();
                Socket upstream = new Socket(target.getAddress(), target.getPort());
                open.add(client);
                open.add(upstream);
                pump(client, upstream, true);
                pump(upstream, client, false);
            } catch (IOException e) {
                // closed by down(), or the target refused: the client sees a reset
            }
        }
    }

    private void pump(Socket from, Socket to, boolean towardsServer) {
        Thread thread = new Thread(
                () -> {
                    try (InputStream in = from.getInputStream();
                            OutputStream out = to.getOutputStream()) {
                        byte[] buffer = new byte[64 * 1024];
                        for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                            out.write(buffer, 0, n);
                            if (towardsServer && relayed.addAndGet(n) > cutAfter) {
                                cutAfter = Long.MAX_VALUE;
                                down();
                                return;
                            }
                        }
                    } catch (IOException e) {
                        // connection cut
                    } finally {
                        try {
                            from.close();
                            to.close();
                        } catch (IOException ignored) {
                            // already closed
                        }
                    }
                },
                "forwarder-pump");
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public void close() throws IOException {
        down();
    }
}
