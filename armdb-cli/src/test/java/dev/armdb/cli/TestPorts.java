package dev.armdb.cli;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Loopback ports for the nodes a system test starts as child processes, which must be told their ports before
 * they bind them. A port is drawn below every common ephemeral range (Linux 32768-60999, macOS and Windows 49152 and
 * up) and checked free by binding it once: a port the system handed out with {@code new ServerSocket(0)} is an
 * ephemeral port, which any outgoing connection of the machine may take before the child binds it. Any thread.
 */
final class TestPorts {
    private static final int LOW = 20_000;
    private static final int HIGH = 32_000;
    private static final int ATTEMPTS = 200;

    private TestPorts() {}

    /**
     * A loopback port in 20000..31999 that was free a moment ago.
     *
     * @throws IOException if none of {@value #ATTEMPTS} random ports could be bound
     */
    static int free() throws IOException {
        IOException last = null;
        for (int i = 0; i < ATTEMPTS; i++) {
            int port = ThreadLocalRandom.current().nextInt(LOW, HIGH);
            try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                return s.getLocalPort();
            } catch (IOException e) {
                last = e;
            }
        }
        throw new IOException(
                "no free loopback port in " + LOW + ".." + (HIGH - 1) + " after " + ATTEMPTS + " attempts", last);
    }
}
