package dev.armdb.replication.net;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;

/**
 * The bytes of one replication connection, plain TCP ({@link PlainTransport}) or TLS ({@link TlsTransport}) over one
 * {@link java.nio.channels.SocketChannel}, on either side. Application bytes are frames; what goes on the wire is the
 * transport's business.
 *
 * <p>Two ways to drive it. The leader runs a connection's handshake blocking ({@link #handshake}, then frames through
 * the blocking stream views) and hands the same transport to a worker; the follower drives it non-blocking from its
 * first byte ({@link #handshakeStep}). Either way a worker then moves the stream through {@link #read}, {@link #write}
 * and {@link #flush} with the channel non-blocking.
 *
 * <p>Threading: one thread at a time (a handshake thread, then the session's worker); only {@link #close} may be raced
 * by a thread that closes the socket to cut a handshake off.
 */
public interface ByteTransport extends ByteSource {
    /** What a non-blocking handshake needs before it can go on. */
    enum Handshake {
        /** The handshake is complete: frames may flow. */
        DONE,
        /** It waits for bytes from the peer: watch the socket for readability. */
        NEEDS_INPUT,
        /** It waits for the socket to take bytes: watch it for writability. */
        NEEDS_OUTPUT
    }

    /** Completes the transport's own handshake in blocking mode (TLS), bounded by the socket's read timeout. */
    void handshake() throws IOException;

    /**
     * Advances the transport's own handshake as far as the non-blocking socket allows, never waiting.
     *
     * @return {@link Handshake#DONE} once complete (at once for plain TCP), else what it waits for
     */
    Handshake handshakeStep() throws IOException;

    /** A blocking view of the application bytes received, for the handshake's frame reader. */
    InputStream blockingInput() throws IOException;

    /** A blocking view for sending application bytes during the handshake; its flush writes everything. */
    OutputStream blockingOutput() throws IOException;

    /**
     * Moves application bytes received into {@code dst} without waiting for the socket.
     *
     * @return bytes moved; 0 if none are ready now; -1 once the peer has ended the stream
     */
    @Override
    int read(ByteBuffer dst) throws IOException;

    /**
     * Takes application bytes from {@code src} as far as the connection accepts them now; bytes taken are on the
     * wire or held by the transport (at most one TLS record) until {@link #flush}.
     *
     * @return bytes taken from {@code src}
     */
    int write(ByteBuffer src) throws IOException;

    /**
     * Writes what the transport holds (TLS records, including post-handshake messages due) as far as the socket
     * takes it.
     *
     * @return true if nothing is left to write
     */
    boolean flush() throws IOException;

    /** True if the transport holds bytes to write: the worker must watch the socket for writability. */
    boolean wantsWrite();

    /**
     * True if input already taken from the socket may yield bytes to {@link #read}: no readiness event will announce
     * it. False for a partial TLS record (only the socket can complete it).
     */
    boolean inputBuffered();

    /** Ends the connection (TLS: a close_notify, if the socket takes it at once) and closes the socket. */
    void close();
}
