package dev.armdb.replication.net;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Where a {@link FrameReader} takes received bytes from: a connection's {@link ByteTransport}, a blocking stream during
 * the leader's handshake ({@link FrameChannel}), or the deterministic simulation's network.
 *
 * <p>Threading: that of the connection's reader.
 */
@FunctionalInterface
public interface ByteSource {
    /**
     * Moves received bytes into {@code dst} (a heap buffer with room), at its position.
     *
     * @return bytes moved; 0 if none are ready now; -1 once the peer has ended the stream
     */
    int read(ByteBuffer dst) throws IOException;
}
