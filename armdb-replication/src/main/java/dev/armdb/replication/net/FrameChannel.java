package dev.armdb.replication.net;

import dev.armdb.replication.protocol.ErrorCode;
import dev.armdb.replication.protocol.ErrorMessage;
import dev.armdb.replication.protocol.FrameLayout;
import dev.armdb.replication.protocol.MessageType;
import dev.armdb.replication.protocol.ProtocolException;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.EnumSet;
import java.util.concurrent.atomic.LongAdder;

/**
 * Frames over one TCP connection with blocking streams (the leader's handshake, see {@link FrameLayout}): reads whole
 * frames, reassembled by a {@link FrameReader} that validates type and length before waiting for the payload, and
 * writes frames. Reads honour the
 * socket's read timeout; a frame that has started must be complete within the stall limit, counted from its first
 * byte (a peer trickling bytes cannot hold it open). A channel may have small buffers
 * ({@link #FrameChannel(Socket, LongAdder, LongAdder, int)}) while its peer is not trusted, and hand what it read
 * ahead to another driver ({@link #takeBuffered()}).
 *
 * <p>Threading: one thread reads ({@link #receive}) and any threads write ({@link #send} is synchronised), so a
 * session may read acks on one thread while it streams on another.
 */
public final class FrameChannel implements Closeable {
    private static final int IO_BUFFER = 256 << 10;

    /** Buffer size of a channel whose peer has not authenticated yet: enough for any handshake frame. */
    public static final int SMALL_BUFFER = 1024;

    private final Socket socket;
    private final ByteSource in;
    private final FrameReader reader;
    private final OutputStream out;
    private final byte[] sendHeader = new byte[FrameLayout.HEADER_SIZE];
    private final ByteBuffer sendHeaderView = ByteBuffer.wrap(sendHeader).order(ByteOrder.LITTLE_ENDIAN);
    private final LongAdder bytesIn = new LongAdder();
    private final LongAdder bytesOut = new LongAdder();
    private final LongAdder totalIn;
    private final LongAdder totalOut;
    private volatile long stallLimitMillis = 30_000;
    private long frameStartNanos;

    /**
     * Wraps a connected socket (TCP_NODELAY on); bytes are also added to {@code totalIn} and {@code totalOut}.
     */
    public FrameChannel(Socket socket, LongAdder totalIn, LongAdder totalOut) throws IOException {
        this(socket, totalIn, totalOut, IO_BUFFER);
    }

    /** As {@link #FrameChannel(Socket, LongAdder, LongAdder)} with I/O buffers of {@code bufferBytes} each. */
    public FrameChannel(Socket socket, LongAdder totalIn, LongAdder totalOut, int bufferBytes) throws IOException {
        this(socket, socket.getInputStream(), socket.getOutputStream(), totalIn, totalOut, bufferBytes);
    }

    /**
     * Frames over {@code in} and {@code out}, the blocking streams of a layer over {@code socket} (such as TLS driven
     * by an engine); {@code socket} gives the read timeout, the addresses and {@link #close}.
     */
    public FrameChannel(
            Socket socket,
            java.io.InputStream in,
            OutputStream out,
            LongAdder totalIn,
            LongAdder totalOut,
            int bufferBytes)
            throws IOException {
        this.socket = socket;
        this.totalIn = totalIn;
        this.totalOut = totalOut;
        socket.setTcpNoDelay(true);
        this.in = dst -> read(in, dst);
        this.reader = new FrameReader(bufferBytes, bufferBytes, EnumSet.allOf(MessageType.class), "");
        this.out = new BufferedOutputStream(out, bufferBytes);
    }

    /**
     * Reads the next frame and returns its type; its payload is then {@link #payload()}. Frames already read ahead
     * are returned without touching the socket.
     *
     * @throws ProtocolException for an unknown type or a length over {@link FrameLayout#MAX_PAYLOAD}
     * @throws java.net.SocketTimeoutException if the read timeout passes with no byte
     * @throws java.io.EOFException if the peer closed the connection
     */
    public MessageType receive() throws IOException {
        frameStartNanos = 0;
        for (; ; ) {
            MessageType type = reader.next();
            if (type != null) {
                int length = reader.payload().remaining();
                bytesIn.add(FrameLayout.HEADER_SIZE + length);
                totalIn.add(FrameLayout.HEADER_SIZE + length);
                return type;
            }
            if (reader.inputPending()) {
                // the clock starts when a frame is first found incomplete: a whole frame in one read costs no clock
                long now = System.nanoTime();
                if (frameStartNanos == 0) {
                    frameStartNanos = now;
                } else if (now - frameStartNanos > stallLimitMillis * 1_000_000L) {
                    throw new ProtocolException(
                            ErrorCode.TIMEOUT, "peer took more than " + stallLimitMillis + " ms to send one frame");
                }
            }
            fill();
        }
    }

    /**
     * Reads what the stream has (one read) into the reader. A read timeout with no frame started is passed to the
     * caller (an idle peer); once a frame has started, timeouts are waited out within the stall limit {@link #receive}
     * checks, so a slow or trickling peer never leaves the stream misaligned nor holds the connection past the limit.
     */
    private void fill() throws IOException {
        try {
            if (reader.fill(in) < 0) {
                throw new java.io.EOFException(
                        "peer closed the connection" + (reader.inputPending() ? " inside a frame" : ""));
            }
        } catch (java.net.SocketTimeoutException e) {
            if (!reader.inputPending()) {
                throw e;
            }
        }
    }

    /** One blocking read of {@code in} into the heap buffer {@code dst}. */
    private static int read(java.io.InputStream in, ByteBuffer dst) throws IOException {
        int n = in.read(dst.array(), dst.arrayOffset() + dst.position(), dst.remaining());
        if (n > 0) {
            dst.position(dst.position() + n);
        }
        return n;
    }

    /**
     * True if bytes of a next frame are already buffered (no system call: what the last read brought in). Reader
     * thread only; lets a reader coalesce replies while more input is queued.
     */
    public boolean inputPending() {
        return reader.inputPending();
    }

    /** Removes and returns the input read ahead of the frames received so far. Reader thread only. */
    public byte[] takeBuffered() {
        return reader.takeBuffered();
    }

    /**
     * The payload of the last frame received: from its position (0) to its limit, little-endian, over {@link
     * #payloadArray()}. Valid until the next {@link #receive}. Reader thread only.
     */
    public ByteBuffer payload() {
        return reader.payload();
    }

    /** The backing array of {@link #payload()} (its positions are indexes in this array). */
    public byte[] payloadArray() {
        return reader.payloadArray();
    }

    /** Sends one frame whose payload is {@code length} bytes of {@code bytes} from {@code offset}, and flushes. */
    public synchronized void send(MessageType type, byte[] bytes, int offset, int length) throws IOException {
        FrameLayout.putHeader(sendHeaderView.clear(), type, length);
        out.write(sendHeader);
        out.write(bytes, offset, length);
        out.flush();
        bytesOut.add(FrameLayout.HEADER_SIZE + length);
        totalOut.add(FrameLayout.HEADER_SIZE + length);
    }

    /** Sends a frame with a small fixed payload built by {@code encoder}. */
    public void send(MessageType type, int length, java.util.function.Consumer<ByteBuffer> encoder) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        encoder.accept(b);
        send(type, b.array(), 0, length);
    }

    /** Sends an Error frame, ignoring failures (the connection is ending anyway). */
    public void sendErrorQuietly(ErrorCode code, String message) {
        try {
            byte[] p = new ErrorMessage(code, message).encode();
            send(MessageType.ERROR, p, 0, p.length);
        } catch (IOException | RuntimeException ignored) {
            // the peer may already be gone
        }
    }

    /**
     * Sends an Error frame and closes the connection under the send lock, so a frame another thread is about to
     * send can neither interleave with the Error nor be cut off halfway by the close; failures are ignored.
     */
    public synchronized void sendErrorAndClose(ErrorCode code, String message) {
        sendErrorQuietly(code, message);
        close();
    }

    /** Sets how long a started frame may stall before {@link #receive} gives up (the peer timeout). */
    public void stallLimitMillis(long millis) {
        this.stallLimitMillis = millis;
    }

    /** Sets the read timeout in milliseconds (0 = none). */
    public void readTimeoutMillis(int millis) throws IOException {
        socket.setSoTimeout(millis);
    }

    /** Bytes received so far, frame headers included. */
    public long bytesIn() {
        return bytesIn.sum();
    }

    /** Bytes sent so far, frame headers included. */
    public long bytesOut() {
        return bytesOut.sum();
    }

    /** The remote address, for logs. */
    public String remote() {
        return String.valueOf(socket.getRemoteSocketAddress());
    }

    /** The local end of the connection (the address the peer reached). */
    public java.net.InetSocketAddress localAddress() {
        return (java.net.InetSocketAddress) socket.getLocalSocketAddress();
    }

    /** The peer's IP address as a literal, for reports. */
    public String remoteHost() {
        java.net.InetAddress a = socket.getInetAddress();
        return a == null ? "" : a.getHostAddress();
    }

    /** Closes the connection; a blocked reader gets an exception. */
    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing
        }
    }
}
