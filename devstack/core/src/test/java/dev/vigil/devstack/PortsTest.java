package dev.vigil.devstack;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class PortsTest {

    /** Ports an outgoing connection could be given (the ephemeral range) are never picked for a server. */
    @Test
    void freePortsAreDistinctBindableAndBelowTheEphemeralRange() throws Exception {
        int[] ports = Ports.free(20);

        assertThat(Arrays.stream(ports).distinct().count()).isEqualTo(20);
        for (int port : ports) {
            assertThat(port).isLessThan(Ports.ephemeralLow()).isGreaterThanOrEqualTo(1024);
            try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                assertThat(socket.getLocalPort()).isEqualTo(port);
            }
        }
    }
}
