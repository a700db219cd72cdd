package dev.vigil.devstack;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/** Refuses to start on a loopback port that something else already holds, with a message naming the fix. */
final class Ports {

    private Ports() {}

    static void requireFree(int port, String component, String envKey) {
        try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            socket.setReuseAddress(true);
        } catch (IOException e) {
            throw new DevstackException("port " + port + " for " + component + " is already in use on 127.0.0.1: "
                    + "stop what holds it (ss -ltnp 'sport = :" + port + "') or choose another with " + envKey);
        }
    }
}
