package dev.armdb.replication.net;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;

/**
 * TLS over one socket channel through one {@link SSLEngine}, client or server mode, from the TLS handshake to the end
 * of the stream. The leader runs the handshake blocking (on the connection's handshake thread) and then drives the
 * stream non-blocking on its worker: the engine, and every byte it buffers, carry over from one mode to the other. The
 * follower drives everything non-blocking ({@link #handshakeStep}). Post-handshake messages (a TLS 1.3 KeyUpdate or
 * NewSessionTicket; TLS 1.3 has no renegotiation) are unwrapped with the stream and answered through {@link #flush}.
 *
 * <p>Buffers: records received and not yet unwrapped, decrypted bytes not yet read, records not yet written; one
 * record each at the engine's sizes (about 50 KiB together). {@link #write} takes no application bytes while a
 * record waits for the socket, so a peer that stops reading holds at most one record here.
 *
 * <p>Threading as {@link ByteTransport}: one thread at a time.
 */
public final class TlsTransport implements ByteTransport {
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);
    /** Engine calls one {@link #read}, {@link #write} or {@link #handshakeStep} may make before it returns. */
    private static final int STEPS = 64;

    private final SocketChannel channel;
    private final SSLEngine engine;
    /** Records received, not yet unwrapped (write mode). */
    private ByteBuffer netIn;
    /** Decrypted bytes not yet read (read mode). */
    private ByteBuffer appIn;
    /** Records not yet written (write mode). */
    private ByteBuffer netOut;

    private InputStream rawIn;
    /** {@link #netIn} holds only part of a record: only the socket can complete it. */
    private boolean underflow;

    private boolean inputEnded;
    private boolean handshakeBegun;

    /**
     * TLS over {@code channel} (connected, in either blocking mode) through {@code engine} (configured for its side,
     * client or server, and not yet used).
     */
    public TlsTransport(SocketChannel channel, SSLEngine engine) {
        this.channel = channel;
        this.engine = engine;
        int packet = engine.getSession().getPacketBufferSize();
        this.netIn = ByteBuffer.allocate(packet);
        this.appIn = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize())
                .flip();
        this.netOut = ByteBuffer.allocate(packet);
    }

    /**
     * Runs the TLS handshake with the channel in blocking mode; reads honour the socket's read timeout, and closing
     * the socket from another thread ends it.
     *
     * @throws SSLException if the peer is refused (no trusted certificate, no common protocol) or sends no TLS
     * @throws EOFException if the peer closes the connection during the handshake
     */
    @Override
    public void handshake() throws IOException {
        // blocking: each step waits for the socket (read timeout) or writes everything, so each one progresses
        while (handshakeStep() != Handshake.DONE) {
            if (!channel.isBlocking()) {
                throw new IllegalStateException("a blocking TLS handshake needs a blocking channel");
            }
        }
    }

    /**
     * Advances the handshake without waiting (with a blocking channel, each read or write waits as usual). Delegated
     * tasks (certificate checks) run on the calling thread.
     *
     * @throws SSLException if the peer is refused or sends no TLS, or the engine makes no progress in {@value #STEPS}
     *     steps
     * @throws EOFException if the peer closes the connection during the handshake
     */
    @Override
    public Handshake handshakeStep() throws IOException {
        if (!handshakeBegun) {
            engine.beginHandshake();
            handshakeBegun = true;
        }
        for (int step = 0; step < STEPS; step++) {
            switch (engine.getHandshakeStatus()) {
                case NEED_TASK -> runTasks();
                case NEED_WRAP -> {
                    if (!flush()) {
                        return Handshake.NEEDS_OUTPUT;
                    }
                }
                case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
                    if (!handshakeUnwrap()) {
                        return Handshake.NEEDS_INPUT;
                    }
                }
                case FINISHED, NOT_HANDSHAKING -> {
                    return flush() ? Handshake.DONE : Handshake.NEEDS_OUTPUT;
                }
            }
        }
        throw new SSLException("the TLS handshake made no progress in " + STEPS + " engine steps");
    }

    /** One unwrap in the handshake; false if it needs bytes the socket does not have yet. */
    private boolean handshakeUnwrap() throws IOException {
        SSLEngineResult r = unwrap();
        switch (r.getStatus()) {
            case OK -> runTasks();
            case BUFFER_OVERFLOW -> growAppIn();
            case BUFFER_UNDERFLOW -> {
                int n = fill();
                if (n < 0) {
                    throw new EOFException("peer closed the connection during the TLS handshake");
                }
                return n > 0;
            }
            case CLOSED -> throw new SSLException("peer closed TLS during the TLS handshake");
        }
        return true;
    }

    @Override
    public InputStream blockingInput() {
        return new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                int n = read(one, 0, 1);
                return n < 0 ? -1 : one[0] & 0xFF;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (len == 0) {
                    return 0;
                }
                ByteBuffer dst = ByteBuffer.wrap(b, off, len);
                // blocking: every pass either waits for the socket (read timeout) or consumes what it buffered
                for (; ; ) {
                    int n = TlsTransport.this.read(dst);
                    if (n != 0) {
                        return n;
                    }
                }
            }

            @Override
            public int available() {
                return appIn.remaining();
            }
        };
    }

    @Override
    public OutputStream blockingOutput() {
        return new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                ByteBuffer src = ByteBuffer.wrap(b, off, len);
                // blocking: a flush writes everything, so each pass wraps at least one record
                while (src.hasRemaining()) {
                    if (TlsTransport.this.write(src) == 0 && !TlsTransport.this.flush()) {
                        throw new IOException("the socket took no TLS record in blocking mode");
                    }
                }
            }

            @Override
            public void flush() throws IOException {
                TlsTransport.this.flush();
            }
        };
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        boolean filled = false;
        for (int step = 0; step < STEPS; step++) {
            if (appIn.hasRemaining()) {
                return drainTo(dst);
            }
            if (inputEnded) {
                return -1;
            }
            SSLEngineResult r = unwrap();
            switch (r.getStatus()) {
                case OK -> runTasks();
                case CLOSED -> inputEnded = true;
                case BUFFER_OVERFLOW -> growAppIn();
                case BUFFER_UNDERFLOW -> {
                    // one socket read per call: a peer that floods cannot keep the worker from its other sessions
                    if (filled) {
                        return 0;
                    }
                    filled = true;
                    int n = fill();
                    if (n < 0) {
                        endOfStream();
                        return -1;
                    }
                    if (n == 0) {
                        return 0;
                    }
                }
            }
            if (r.getStatus() == SSLEngineResult.Status.OK
                    && r.bytesConsumed() == 0
                    && r.bytesProduced() == 0
                    && !flush()) {
                // the engine has a post-handshake reply to send first, and the socket is full
                return 0;
            }
        }
        return 0;
    }

    private int drainTo(ByteBuffer dst) {
        int n = Math.min(appIn.remaining(), dst.remaining());
        int limit = appIn.limit();
        appIn.limit(appIn.position() + n);
        dst.put(appIn);
        appIn.limit(limit);
        return n;
    }

    /** The socket ended; without a close_notify first, the stream may have been cut (logged by the caller). */
    private void endOfStream() {
        inputEnded = true;
        try {
            engine.closeInbound();
        } catch (SSLException truncated) {
            // the peer closed the socket without close_notify: the stream ends here either way
        }
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        int taken = 0;
        for (int step = 0; step < STEPS && src.hasRemaining() && flush(); step++) {
            SSLEngineResult r = wrap(src);
            taken += r.bytesConsumed();
            if (r.bytesConsumed() == 0 && r.bytesProduced() == 0) {
                break;
            }
        }
        return taken;
    }

    @Override
    public boolean flush() throws IOException {
        for (int step = 0; step < STEPS; step++) {
            if (netOut.position() > 0) {
                netOut.flip();
                channel.write(netOut);
                netOut.compact();
                if (netOut.position() > 0) {
                    return false;
                }
            }
            if (engine.getHandshakeStatus() != SSLEngineResult.HandshakeStatus.NEED_WRAP) {
                return true;
            }
            wrap(EMPTY);
        }
        return netOut.position() == 0;
    }

    @Override
    public boolean wantsWrite() {
        return netOut.position() > 0 || engine.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_WRAP;
    }

    @Override
    public boolean inputBuffered() {
        return !inputEnded && (appIn.hasRemaining() || (netIn.position() > 0 && !underflow));
    }

    /** Sends close_notify if the socket takes it now (never waits), then closes the socket. */
    @Override
    public void close() {
        try {
            if (channel.isOpen()) {
                if (channel.isBlocking()) {
                    channel.configureBlocking(false);
                }
                engine.closeOutbound();
                for (int step = 0; step < 4 && !engine.isOutboundDone(); step++) {
                    if (engine.wrap(EMPTY, netOut).bytesProduced() == 0) {
                        break;
                    }
                }
                netOut.flip();
                channel.write(netOut);
                netOut.clear();
            }
        } catch (IOException | RuntimeException ignored) {
            // the close_notify is a courtesy: the socket closes below either way
        }
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    /** Unwraps what {@link #netIn} holds into {@link #appIn}. */
    private SSLEngineResult unwrap() throws SSLException {
        netIn.flip();
        appIn.compact();
        try {
            SSLEngineResult r = engine.unwrap(netIn, appIn);
            underflow = r.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW;
            return r;
        } finally {
            appIn.flip();
            netIn.compact();
        }
    }

    /** Wraps from {@code src} into {@link #netOut}, which the caller has flushed; grows it if a record needs more. */
    private SSLEngineResult wrap(ByteBuffer src) throws IOException {
        for (int attempt = 0; ; attempt++) {
            SSLEngineResult r = engine.wrap(src, netOut);
            switch (r.getStatus()) {
                case OK -> {
                    runTasks();
                    return r;
                }
                case BUFFER_OVERFLOW -> {
                    if (netOut.position() > 0 || attempt > 0) {
                        return r;
                    }
                    netOut = grown(netOut, engine.getSession().getPacketBufferSize());
                }
                case CLOSED -> throw new SSLException("the TLS connection is closed; cannot send");
                case BUFFER_UNDERFLOW -> throw new IllegalStateException("SSLEngine.wrap reported BUFFER_UNDERFLOW");
            }
        }
    }

    /** Reads from the socket into {@link #netIn}: blocking (read timeout) in the handshake, else what is there. */
    private int fill() throws IOException {
        if (!netIn.hasRemaining()) {
            int packet = engine.getSession().getPacketBufferSize();
            if (netIn.capacity() >= packet) {
                throw new SSLException("a TLS record longer than " + netIn.capacity()
                        + " bytes (the engine's packet size is " + packet + ")");
            }
            netIn = grown(netIn, packet);
        }
        int n;
        if (channel.isBlocking()) {
            if (rawIn == null) {
                rawIn = channel.socket().getInputStream();
            }
            n = rawIn.read(netIn.array(), netIn.arrayOffset() + netIn.position(), netIn.remaining());
            if (n > 0) {
                netIn.position(netIn.position() + n);
            }
        } else {
            n = channel.read(netIn);
        }
        if (n > 0) {
            underflow = false;
        }
        return n;
    }

    private void growAppIn() throws SSLException {
        int size = engine.getSession().getApplicationBufferSize();
        if (appIn.hasRemaining() || appIn.capacity() >= size) {
            throw new SSLException("decrypted record larger than " + appIn.capacity() + " bytes");
        }
        appIn = ByteBuffer.allocate(size).flip();
    }

    /** A copy of {@code b} (write mode) with room for at least {@code capacity} bytes. */
    private static ByteBuffer grown(ByteBuffer b, int capacity) {
        ByteBuffer bigger = ByteBuffer.allocate(Math.max(capacity, b.capacity()));
        b.flip();
        bigger.put(b);
        return bigger;
    }

    private void runTasks() {
        for (Runnable task; (task = engine.getDelegatedTask()) != null; ) {
            task.run();
        }
    }
}
