package dev.armdb.replication.protocol;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.LongAdder;

/**
 * Frames over one TCP connection (see {@link FrameLayout}): reads whole frames, validating type and length
 * before reading the payload, and writes frames. Reads honour the socket's read timeout; a frame that has started
 * must be complete within the stall limit, counted from its first byte (a peer trickling bytes cannot hold it
 * open). A channel may have small buffers ({@link #FrameChannel(Socket, LongAdder, LongAdder, int)}) while its
 * peer is not trusted, and hand what it read ahead to another driver ({@link #takeBuffered()}).
 *
 * <p>Threading: one thread reads ({@link #receive}) and any threads write ({@link #send} is synchronised), so a
 * session may read acks on one thread while it streams on another.
 */
public final class FrameChannel implements Closeable {
    private static final int IO_BUFFER = 256 << 10;

    /** Buffer size of a channel whose peer has not authenticated yet: enough for any handshake frame. */
    public static final int SMALL_BUFFER = 1024;

    private final Socket socket;
    private final DataInputStream in;
    private final CountingBufferedInputStream buffered;
    private final OutputStream out;
    private final byte[] header = new byte[FrameLayout.HEADER_SIZE];
    private final ByteBuffer headerView = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
    private final byte[] sendHeader = new byte[FrameLayout.HEADER_SIZE];
    private final ByteBuffer sendHeaderView = ByteBuffer.wrap(sendHeader).order(ByteOrder.LITTLE_ENDIAN);
    private final LongAdder bytesIn = new LongAdder();
    private final LongAdder bytesOut = new LongAdder();
    private final LongAdder totalIn;
    private final LongAdder totalOut;
    private volatile long stallLimitMillis = 30_000;
    private long frameStartNanos;
    private byte[] payload = new byte[SMALL_BUFFER];
    private ByteBuffer payloadView = ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN);

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
        this.buffered = new CountingBufferedInputStream(in, bufferBytes);
        this.in = new DataInputStream(buffered);
        this.out = new BufferedOutputStream(out, bufferBytes);
    }

    /**
     * Reads the next frame and returns its type; its payload is then {@link #payload()}.
     *
     * @throws ProtocolException for an unknown type or a length over {@link FrameLayout#MAX_PAYLOAD}
     * @throws java.net.SocketTimeoutException if the read timeout passes with no byte
     * @throws java.io.EOFException if the peer closed the connection
     */
    public MessageType receive() throws IOException {
        frameStartNanos = 0;
        readFully(header, 0, header.length, false);
        MessageType type = MessageType.ofCode(header[FrameLayout.TYPE_OFFSET] & 0xFF);
        if (type == null) {
            throw new ProtocolException(
                    ErrorCode.MALFORMED, "unknown frame type " + (header[FrameLayout.TYPE_OFFSET] & 0xFF));
        }
        int length = headerView.getInt(FrameLayout.LENGTH_OFFSET);
        if (length < 0 || length > type.maxPayload()) {
            throw new ProtocolException(
                    ErrorCode.MALFORMED,
                    type + " frame length must be 0.." + type.maxPayload() + ", got "
                            + Integer.toUnsignedString(length));
        }
        if (length > payload.length) {
            payload = new byte[Math.max(length, Math.min(FrameLayout.MAX_PAYLOAD, payload.length * 2))];
            payloadView = ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN);
        }
        readFully(payload, 0, length, true);
        frameStartNanos = 0;
        payloadView.clear().limit(length);
        bytesIn.add(FrameLayout.HEADER_SIZE + length);
        totalIn.add(FrameLayout.HEADER_SIZE + length);
        return type;
    }

    /**
     * Reads exactly {@code len} bytes. A read timeout before the first byte of a frame is passed to the caller
     * (an idle peer); once a frame has started, timeouts are waited out, and the whole frame must arrive within the
     * stall limit counted from when the frame was first found incomplete (not from the last byte), so a slow or
     * trickling peer never leaves the stream misaligned nor holds the connection past the limit.
     */
    private void readFully(byte[] b, int off, int len, boolean frameStarted) throws IOException {
        int done = 0;
        while (done < len) {
            try {
                int n = in.read(b, off + done, len - done);
                if (n < 0) {
                    throw new java.io.EOFException(
                            "peer closed the connection" + (frameStarted || done > 0 ? " inside a frame" : ""));
                }
                done += n;
            } catch (java.net.SocketTimeoutException e) {
                if (!frameStarted && done == 0) {
                    throw e;
                }
            }
            if (done < len && (frameStarted || done > 0)) {
                // the clock starts when a frame is first found incomplete: a whole frame in one read costs no clock
                long now = System.nanoTime();
                if (frameStartNanos == 0) {
                    frameStartNanos = now;
                } else if (now - frameStartNanos > stallLimitMillis * 1_000_000L) {
                    throw new ProtocolException(
                            ErrorCode.TIMEOUT, "peer took more than " + stallLimitMillis + " ms to send one frame");
                }
            }
        }
    }

    /**
     * True if bytes of a next frame are already buffered (no system call: what the last read brought in). Reader
     * thread only; lets a reader coalesce replies while more input is queued.
     */
    public boolean inputPending() {
        return buffered.bufferedBytes() > 0;
    }

    /** A buffered stream that tells how many bytes it holds without asking the socket. */
    private static final class CountingBufferedInputStream extends BufferedInputStream {
        CountingBufferedInputStream(java.io.InputStream in, int size) {
            super(in, size);
        }

        int bufferedBytes() {
            // count and pos are only touched by the reader thread that calls this
            return count - pos;
        }
    }

    /** Removes and returns the input read ahead of the frames received so far. Reader thread only. */
    public byte[] takeBuffered() throws IOException {
        byte[] pending = new byte[buffered.bufferedBytes()];
        int n = buffered.read(pending, 0, pending.length);
        return n == pending.length ? pending : java.util.Arrays.copyOf(pending, Math.max(0, n));
    }

    /** The payload of the last frame received: position 0, limit its length, little-endian. Reader thread only. */
    public ByteBuffer payload() {
        return payloadView;
    }

    /** The backing array of {@link #payload()}. */
    public byte[] payloadArray() {
        return payload;
    }

    /** Sends one frame whose payload is {@code length} bytes of {@code bytes} from {@code offset}, and flushes. */
    public synchronized void send(MessageType type, byte[] bytes, int offset, int length) throws IOException {
        sendHeader[FrameLayout.TYPE_OFFSET] = (byte) type.code();
        sendHeaderView.putInt(FrameLayout.LENGTH_OFFSET, length);
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
