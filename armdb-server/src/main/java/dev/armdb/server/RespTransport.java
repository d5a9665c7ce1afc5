package dev.armdb.server;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.SocketChannel;

/**
 * How a {@link RespConnection} moves request and reply bytes over its non-blocking socket: as they are ({@link
 * #plain}) or inside TLS records ({@link RespTlsTransport}). {@link #read} and {@link #write} carry application bytes
 * only and never block; the parser and the commands never see the difference. Owned by the connection's event loop
 * thread, like the connection.
 */
interface RespTransport extends ByteChannel {
    /**
     * Reads the application bytes available now into {@code dst}: their count (0: none yet, e.g. during a handshake),
     * or -1 once the client ended the stream.
     */
    @Override
    int read(ByteBuffer dst) throws IOException;

    /** Takes as many application bytes of {@code src} as can be sent now; returns their count (0 if none). */
    @Override
    int write(ByteBuffer src) throws IOException;

    /** Sends bytes the transport itself still holds (encrypted records); true when nothing of them is left. */
    boolean flushOutput() throws IOException;

    /**
     * True if the transport holds received input not yet read: decrypted bytes, or whole records not yet decrypted (the
     * socket will not signal either again).
     */
    boolean hasBufferedInput();

    /**
     * True until the transport's own handshake (TLS) has finished; a connection still in it after {@link
     * RespTlsTransport#HANDSHAKE_TIMEOUT} is closed. Always false for a plain connection.
     */
    boolean handshaking();

    /** The transport for a plain TCP connection: the socket itself. */
    static RespTransport plain(SocketChannel channel) {
        return new RespTransport() {
            @Override
            public int read(ByteBuffer dst) throws IOException {
                return channel.read(dst);
            }

            @Override
            public int write(ByteBuffer src) throws IOException {
                return channel.write(src);
            }

            @Override
            public boolean flushOutput() {
                return true;
            }

            @Override
            public boolean hasBufferedInput() {
                return false;
            }

            @Override
            public boolean handshaking() {
                return false;
            }

            @Override
            public boolean isOpen() {
                return channel.isOpen();
            }

            @Override
            public void close() throws IOException {
                channel.close();
            }
        };
    }
}
