package dev.armdb.server;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLParameters;

/**
 * TLS over a RESP connection's non-blocking socket with the JDK's {@link SSLEngine}: the server side of TLS 1.3 or
 * 1.2, server authentication only (no client certificate is asked for). The handshake advances as bytes arrive, so a
 * client that stalls in it holds only its own connection. Owned by the connection's event loop thread.
 *
 * <p>Buffers (each sized from the session, grown if the engine asks for more): {@code netIn} holds received records
 * not yet decrypted (a partial record stays until the rest arrives), {@code appIn} decrypted bytes the connection has
 * not yet taken, {@code netOut} records not yet sent. All are reserved from the node's {@link BufferBudget}, so TLS
 * connections count against the same limit as grown plain buffers; a connection whose buffers do not fit is closed.
 */
final class RespTlsTransport implements RespTransport {
    /** The protocols offered; TLS 1.2 only for clients that lack 1.3. */
    static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    /**
     * How long a connection may take from its acceptance to the end of its TLS handshake before it is closed: long
     * enough for a slow network, short enough that idle or trickling connections cannot hold places for long.
     */
    static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);

    /** Bytes of a TLS record header: content type (1), protocol version (2), length of the rest (2, big-endian). */
    private static final int RECORD_HEADER_BYTES = 5;

    private static final int RECORD_LENGTH_OFFSET = 3;

    private final SocketChannel channel;
    private final SSLEngine engine;
    private final BufferBudget budget;
    private long reserved;
    /** Write mode: received bytes are appended. */
    private ByteBuffer netIn;
    /** Write mode: decrypted bytes are appended, {@link #read} takes them from the start. */
    private ByteBuffer appIn;
    /** Read mode: the records still to send lie between position and limit. */
    private ByteBuffer netOut;

    private boolean inboundDone;
    /** The first handshake finished; a later one (a TLS 1.2 renegotiation) is not timed. */
    private boolean handshakeDone;

    /**
     * A server-side TLS transport over {@code channel}.
     *
     * @throws IOException if the node's buffer budget has no room for this connection's TLS buffers
     */
    RespTlsTransport(SocketChannel channel, SSLContext context, BufferBudget budget) throws IOException {
        this.channel = channel;
        this.budget = budget;
        this.engine = context.createSSLEngine();
        engine.setUseClientMode(false);
        SSLParameters p = engine.getSSLParameters();
        p.setProtocols(PROTOCOLS);
        p.setNeedClientAuth(false);
        p.setWantClientAuth(false);
        engine.setSSLParameters(p);
        int packet = engine.getSession().getPacketBufferSize();
        int app = engine.getSession().getApplicationBufferSize();
        netIn = allocate(packet);
        appIn = allocate(app);
        netOut = allocate(packet).flip();
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        boolean eof = false;
        if (!inboundDone && netIn.hasRemaining()) {
            eof = channel.read(netIn) < 0;
        }
        advance();
        int n = take(dst);
        if (n > 0) {
            return n;
        }
        if (inboundDone || eof) {
            return -1;
        }
        return 0;
    }

    /** Runs the handshake and decrypts every whole record received, as far as the buffers allow. */
    private void advance() throws IOException {
        while (!inboundDone) {
            HandshakeStatus hs = engine.getHandshakeStatus();
            if (hs == HandshakeStatus.NEED_TASK) {
                runTasks();
            } else if (hs == HandshakeStatus.NEED_WRAP) {
                if (!wrap(ByteBuffer.allocate(0))) {
                    return;
                }
            } else if (!unwrap()) {
                return;
            }
        }
    }

    /** Decrypts one record from {@code netIn} into {@code appIn}; false when it cannot go on now. */
    private boolean unwrap() throws IOException {
        netIn.flip();
        SSLEngineResult r;
        try {
            r = engine.unwrap(netIn, appIn);
        } finally {
            netIn.compact();
        }
        noteFinished(r);
        switch (r.getStatus()) {
            case OK:
                return r.bytesConsumed() > 0
                        || r.getHandshakeStatus() == HandshakeStatus.NEED_TASK
                        || r.getHandshakeStatus() == HandshakeStatus.NEED_WRAP;
            case BUFFER_UNDERFLOW:
                // a partial record: wait for the rest, in a buffer large enough for a whole one
                netIn = growTo(netIn, engine.getSession().getPacketBufferSize());
                return false;
            case BUFFER_OVERFLOW:
                if (appIn.position() > 0) {
                    return false; // the connection takes what is there first
                }
                appIn = growTo(appIn, engine.getSession().getApplicationBufferSize() + appIn.capacity());
                return true;
            case CLOSED:
                inboundDone = true;
                return false;
            default:
                throw new IllegalStateException("unexpected TLS unwrap status " + r.getStatus());
        }
    }

    private int take(ByteBuffer dst) {
        appIn.flip();
        int n = Math.min(appIn.remaining(), dst.remaining());
        if (n > 0) {
            int limit = appIn.limit();
            appIn.limit(appIn.position() + n);
            dst.put(appIn);
            appIn.limit(limit);
        }
        appIn.compact();
        return n;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        int before = src.position();
        while (src.hasRemaining() && sendNet()) {
            if (!wrap(src)) {
                break;
            }
        }
        return src.position() - before;
    }

    /**
     * Encrypts from {@code src} (empty for handshake or closing records) into {@code netOut} and sends what the socket
     * takes; false when the records cannot all be sent now.
     */
    private boolean wrap(ByteBuffer src) throws IOException {
        netOut.compact();
        SSLEngineResult r;
        try {
            r = engine.wrap(src, netOut);
        } finally {
            netOut.flip();
        }
        noteFinished(r);
        switch (r.getStatus()) {
            case OK:
                break;
            case BUFFER_OVERFLOW:
                if (netOut.hasRemaining()) {
                    return sendNet();
                }
                netOut = growTo(netOut.compact(), engine.getSession().getPacketBufferSize() + netOut.capacity())
                        .flip();
                return true;
            case CLOSED:
                if (src.hasRemaining()) {
                    throw new IOException("the TLS session is closed; " + src.remaining() + " bytes not sent");
                }
                break;
            default:
                throw new IllegalStateException("unexpected TLS wrap status " + r.getStatus());
        }
        if (r.getHandshakeStatus() == HandshakeStatus.NEED_TASK) {
            runTasks();
        }
        return sendNet();
    }

    @Override
    public boolean flushOutput() throws IOException {
        if (!sendNet()) {
            return false;
        }
        // handshake records that waited for the socket may be followed by more of the handshake
        HandshakeStatus hs = engine.getHandshakeStatus();
        if (hs == HandshakeStatus.NEED_WRAP || hs == HandshakeStatus.NEED_TASK) {
            advance();
        }
        return !netOut.hasRemaining();
    }

    /** Sends what the socket takes of {@code netOut}; true when all of it went. */
    private boolean sendNet() throws IOException {
        if (netOut.hasRemaining()) {
            channel.write(netOut);
        }
        return !netOut.hasRemaining();
    }

    /**
     * True if decrypted bytes wait, or a whole record waits undecrypted: decrypting stops when the decrypted bytes
     * fill their buffer, and the socket, already read, will not signal that record again.
     */
    @Override
    public boolean hasBufferedInput() {
        return appIn.position() > 0 || holdsWholeRecord();
    }

    /** True if {@code netIn} starts with a whole TLS record (TLS 1.2 and 1.3 share the record header). */
    private boolean holdsWholeRecord() {
        if (netIn.position() < RECORD_HEADER_BYTES) {
            return false;
        }
        int length = Short.toUnsignedInt(netIn.getShort(RECORD_LENGTH_OFFSET));
        return netIn.position() >= RECORD_HEADER_BYTES + length;
    }

    @Override
    public boolean handshaking() {
        return !handshakeDone;
    }

    private void noteFinished(SSLEngineResult r) {
        if (r.getHandshakeStatus() == HandshakeStatus.FINISHED) {
            handshakeDone = true;
        }
    }

    @Override
    public boolean isOpen() {
        return channel.isOpen();
    }

    /**
     * Sends a close_notify if the socket takes it now (never waits: a client that does not read must not hold the
     * loop), closes the socket and gives the buffers' room back.
     */
    @Override
    public void close() throws IOException {
        try {
            if (channel.isOpen()) {
                engine.closeOutbound();
                wrap(ByteBuffer.allocate(0));
            }
        } catch (IOException | RuntimeException ignored) {
            // best effort: the socket closes anyway
        } finally {
            budget.release(reserved);
            reserved = 0;
            channel.close();
        }
    }

    private void runTasks() {
        // the JDK's delegated tasks are short computations (key agreement, certificate checks); run them in place
        Runnable task;
        while ((task = engine.getDelegatedTask()) != null) {
            task.run();
        }
    }

    private ByteBuffer allocate(int bytes) throws IOException {
        if (!budget.tryReserve(bytes)) {
            throw new IOException("the node's client buffers are full (" + budget.limit() + " bytes); TLS needs "
                    + bytes + " more bytes");
        }
        reserved += bytes;
        return ByteBuffer.allocate(bytes);
    }

    /** {@code b} (write mode) in a buffer of at least {@code capacity} bytes, its contents kept. */
    private ByteBuffer growTo(ByteBuffer b, int capacity) throws IOException {
        if (b.capacity() >= capacity) {
            return b;
        }
        ByteBuffer bigger = allocate(capacity);
        budget.release(b.capacity());
        reserved -= b.capacity();
        bigger.put(b.flip());
        return bigger;
    }
}
