package dev.armdb.server;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * Redis's protected mode: a node with no RESP password serves only clients on the loopback interface; any other
 * gets Redis's DENIED error and is closed, so a node bound to a public address by mistake exposes nothing. Off with
 * {@code serve --no-protected-mode}. Stateless.
 */
final class ProtectedMode {
    static final byte[] DENIED_REPLY = ("-DENIED armdb is running in protected mode because protected mode is enabled"
                    + " and no password is set for the default user. In this mode connections are only accepted from"
                    + " the loopback interface. To connect from other computers, set a password (serve"
                    + " --requirepass-file) or, if you are sure, disable protected mode (serve --no-protected-mode)."
                    + "\r\n")
            .getBytes(StandardCharsets.US_ASCII);

    private ProtectedMode() {}

    /** True if a client from {@code remote} may be served under {@code config}. */
    static boolean admits(NodeConfig config, InetAddress remote) {
        return !config.protectedMode() || config.requirePass() != null || remote == null || remote.isLoopbackAddress();
    }

    static boolean admits(NodeConfig config, SocketChannel ch) {
        InetSocketAddress r = remote(ch);
        return admits(config, r == null ? null : r.getAddress());
    }

    static InetSocketAddress remote(SocketChannel ch) {
        try {
            return (InetSocketAddress) ch.getRemoteAddress();
        } catch (IOException e) {
            return null;
        }
    }
}
