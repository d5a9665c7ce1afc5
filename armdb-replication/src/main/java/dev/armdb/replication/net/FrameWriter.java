package dev.armdb.replication.net;

import dev.armdb.replication.protocol.FrameLayout;
import dev.armdb.replication.protocol.MessageType;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Frames on their way out of one connection: a buffer of fixed size that frames are appended to whole and that is
 * written as far as the non-blocking {@link ByteTransport} takes it. Its size is all a peer that stops reading can make
 * a session hold (plus one TLS record in the transport).
 *
 * <p>Every frame a session sends from its worker goes through one of these (the follower's SYNC_REQUEST and acks, the
 * leader's stream through {@code StreamFrames}); the deterministic simulation writes through the same class.
 *
 * <p>Threading: one thread at a time (the session's worker).
 */
public final class FrameWriter {
    /** Frames not yet taken by the transport: write mode. */
    private final ByteBuffer out;

    private boolean blocked;

    /** Frames go into {@code buffer} (empty, in write mode, little-endian). */
    public FrameWriter(ByteBuffer buffer) {
        this.out = buffer;
    }

    /** The buffer, for callers that append whole frames themselves. */
    public ByteBuffer buffer() {
        return out;
    }

    /** True if {@code bytes} more fit. */
    public boolean hasRoom(int bytes) {
        return out.remaining() >= bytes;
    }

    /**
     * Appends a frame header; the caller then puts exactly {@code length} payload bytes into the buffer returned.
     * Check {@link #hasRoom} for the whole frame first.
     */
    public ByteBuffer begin(MessageType type, int length) {
        FrameLayout.putHeader(out, type, length);
        return out;
    }

    /** Appends a whole frame; check {@link #hasRoom} first. */
    public void frame(MessageType type, byte[] payload) {
        begin(type, payload.length).put(payload);
    }

    /** Bytes of a frame header plus {@code payload} bytes. */
    public static int frameSize(int payload) {
        return FrameLayout.HEADER_SIZE + payload;
    }

    /**
     * Writes what is buffered (and what the transport holds) as far as the socket takes it now.
     *
     * @return bytes of this buffer the transport took
     */
    public int flush(ByteTransport transport) throws IOException {
        int n = 0;
        if (out.position() > 0) {
            out.flip();
            try {
                n = transport.write(out);
            } finally {
                out.compact();
            }
        }
        blocked = !transport.flush() || out.position() > 0;
        return n;
    }

    /** True if the last {@link #flush} left bytes unwritten: the socket must be watched for writability. */
    public boolean blocked() {
        return blocked;
    }

    /** Drops whatever waits (a new connection). */
    public void clear() {
        out.clear();
        blocked = false;
    }

    /** True if no frame waits here (the transport may still hold a record). */
    public boolean isEmpty() {
        return out.position() == 0;
    }
}
