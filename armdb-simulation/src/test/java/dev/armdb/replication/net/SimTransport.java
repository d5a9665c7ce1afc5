package dev.armdb.replication.net;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;

/**
 * One end of a connection in the replication simulation, as a plain-TCP {@link ByteTransport}: {@link #read} hands out
 * the piece of the byte stream the simulated network delivered last ({@link #deliver}), as a socket read hands out
 * what the kernel holds; {@link #write} takes everything, to be sent on the simulated link ({@link #takeWritten}). The
 * sessions' real {@link FrameReader} and {@link FrameWriter} read and write through it.
 *
 * <p>Threading: one simulation thread.
 */
public final class SimTransport implements ByteTransport {
    private final ByteArrayOutputStream written = new ByteArrayOutputStream();
    private byte[] piece = new byte[0];
    private int at;

    /** Bytes the network delivered: what the next reads return, after what earlier deliveries left unread. */
    public void deliver(byte[] bytes) {
        byte[] rest = new byte[piece.length - at + bytes.length];
        System.arraycopy(piece, at, rest, 0, piece.length - at);
        System.arraycopy(bytes, 0, rest, piece.length - at, bytes.length);
        piece = rest;
        at = 0;
    }

    /** Bytes delivered and not read yet. */
    public int unread() {
        return piece.length - at;
    }

    /** The bytes written since the last call. */
    public byte[] takeWritten() {
        byte[] b = written.toByteArray();
        written.reset();
        return b;
    }

    @Override
    public int read(ByteBuffer dst) {
        int n = Math.min(dst.remaining(), piece.length - at);
        dst.put(piece, at, n);
        at += n;
        return n;
    }

    @Override
    public int write(ByteBuffer src) {
        int n = src.remaining();
        while (src.hasRemaining()) {
            written.write(src.get());
        }
        return n;
    }

    @Override
    public boolean flush() {
        return true;
    }

    @Override
    public boolean wantsWrite() {
        return false;
    }

    /** False, as for plain TCP: the bytes not read yet are the socket's, and a read announces them. */
    @Override
    public boolean inputBuffered() {
        return false;
    }

    @Override
    public void handshake() {}

    @Override
    public Handshake handshakeStep() {
        return Handshake.DONE;
    }

    @Override
    public InputStream blockingInput() {
        throw new UnsupportedOperationException("the simulation starts after the handshake's blocking part");
    }

    @Override
    public OutputStream blockingOutput() {
        throw new UnsupportedOperationException("the simulation starts after the handshake's blocking part");
    }

    @Override
    public void close() {}
}
