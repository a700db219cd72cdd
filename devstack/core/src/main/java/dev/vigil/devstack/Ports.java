package dev.vigil.devstack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;

/** Loopback ports: free ones for throw-away stacks, and a refusal naming the fix when a fixed one is taken. */
public final class Ports {

    private Ports() {}

    /** One loopback port that nothing holds now. */
    public static int free() {
        return free(1)[0];
    }

    /**
     * {@code count} distinct loopback ports that nothing holds now. The sockets stay open until all are chosen, so
     * the kernel cannot hand the same ephemeral port out twice (which two one-at-a-time picks can get).
     */
    public static int[] free(int count) {
        List<ServerSocket> held = new ArrayList<>(count);
        try {
            int[] ports = new int[count];
            for (int i = 0; i < count; i++) {
                ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                held.add(socket);
                ports[i] = socket.getLocalPort();
            }
            return ports;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot find a free loopback port", e);
        } finally {
            for (ServerSocket socket : held) {
                try {
                    socket.close();
                } catch (IOException ignored) {
                    // a socket we only opened to learn its port: nothing to recover
                }
            }
        }
    }

    static void requireFree(int port, String component, String envKey) {
        try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            socket.setReuseAddress(true);
        } catch (IOException e) {
            throw new DevstackException("port " + port + " for " + component + " is already in use on 127.0.0.1: "
                    + "stop what holds it (ss -ltnp 'sport = :" + port + "') or choose another with " + envKey);
        }
    }
}
