package dev.vigil.devstack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/** Loopback ports: free ones for throw-away stacks, and a refusal naming the fix when a fixed one is taken. */
public final class Ports {

    private Ports() {}

    /** One loopback port that nothing holds now. */
    public static int free() {
        return free(1)[0];
    }

    /**
     * {@code count} distinct loopback ports that nothing holds now. They are picked below the kernel's ephemeral range
     * ({@code net.ipv4.ip_local_port_range}): a port from that range can be given to any outgoing connection between
     * the pick and the server's start (a Kafka client's, say), and the server then fails with "port in use". The
     * sockets stay open until all are chosen, so no port is handed out twice.
     */
    public static int[] free(int count) {
        List<ServerSocket> held = new ArrayList<>(count);
        try {
            int[] ports = new int[count];
            int low = Math.max(FIRST, ephemeralLow() - SPAN);
            int high = Math.max(low + 1, ephemeralLow());
            for (int i = 0; i < count; i++) {
                ServerSocket socket = bindBetween(low, high);
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

    /** Where picks start at the lowest, and how far below the ephemeral range they go. */
    private static final int FIRST = 1024;

    private static final int SPAN = 12_000;

    /** A socket bound to a random free port in [low, high); an ephemeral one if none is free after many tries. */
    private static ServerSocket bindBetween(int low, int high) throws IOException {
        for (int attempt = 0; attempt < 200; attempt++) {
            int port = ThreadLocalRandom.current().nextInt(low, high);
            try {
                return new ServerSocket(port, 1, InetAddress.getLoopbackAddress());
            } catch (IOException taken) {
                // Another one.
            }
        }
        return new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
    }

    /** The first port of the kernel's ephemeral range (32768 where it cannot be read). */
    static int ephemeralLow() {
        try {
            // Read line by line: /proc reports a size of 0, and a read sized by it can stop after the first byte.
            String range = Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range"))
                    .get(0)
                    .strip();
            return Integer.parseInt(range.split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return 32_768;
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
