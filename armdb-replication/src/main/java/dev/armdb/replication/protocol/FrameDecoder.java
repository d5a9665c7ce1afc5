package dev.armdb.replication.protocol;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.EnumSet;
import java.util.Set;

/**
 * Reassembles {@link FrameLayout} frames from a byte stream that arrives in pieces cut anywhere: a frame split over
 * several reads (inside its header too), several frames and the start of another in one read. The reader puts what it
 * received into {@link #buffer()} and takes whole frames with {@link #next()}. A frame's type and length are checked
 * as soon as its header is complete, before any payload byte is waited for or room is made for it, so a peer cannot
 * make the buffer grow past the largest payload of the types this decoder accepts.
 *
 * <p>Every frame reader of a replication connection is one of these: {@link FrameChannel} (the follower's session
 * and the leader's handshake, over blocking streams) and the leader's worker-driven sessions (over non-blocking
 * sockets); the deterministic simulation drives the same class with deliveries cut at seeded points.
 *
 * <p>Design note: received bytes are kept at {@code [head, buffer().position())}; they move to the front only when
 * the frame in progress would not fit behind them, so a stream of frames costs one copy (into the buffer) plus at most
 * the frame in progress each time the buffer's end is reached. A payload is read where it arrived.
 *
 * <p>Threading: one thread at a time (the connection's reader).
 */
public final class FrameDecoder {
    private final EnumSet<MessageType> accepted;
    private final String sender;
    private ByteBuffer buf;
    private ByteBuffer payload;
    private int head;

    /**
     * A decoder with a buffer of {@code capacity} bytes (grown to fit a longer frame of an accepted type) that takes
     * frames of the {@code accepted} types only; {@code sender} names the peer in errors ("from a follower after the
     * handshake").
     */
    public FrameDecoder(int capacity, Set<MessageType> accepted, String sender) {
        if (capacity < FrameLayout.HEADER_SIZE) {
            throw new IllegalArgumentException(
                    "frame buffer must hold at least a header, " + FrameLayout.HEADER_SIZE + " bytes, got " + capacity);
        }
        this.accepted = EnumSet.noneOf(MessageType.class);
        this.accepted.addAll(accepted);
        this.sender = sender;
        allocate(capacity);
    }

    /**
     * The buffer to put received bytes into, at its position (it has room for at least one byte after {@link #next()}
     * returned null; heap-backed, array offset 0). The buffer object changes when it grows: ask again before each
     * read.
     */
    public ByteBuffer buffer() {
        return buf;
    }

    /**
     * Takes the next whole frame received, if there is one: returns its type, and its payload is then {@link
     * #payload()}, valid until the next call or the next write to the buffer. Returns null if the bytes received end
     * inside a frame (or none are left); they stay for the next call.
     *
     * @throws ProtocolException (MALFORMED) for an unknown or unaccepted type, or a length above the type's maximum;
     *     the stream cannot be read further
     */
    public MessageType next() {
        int end = buf.position();
        if (end - head < FrameLayout.HEADER_SIZE) {
            makeRoom(FrameLayout.HEADER_SIZE);
            return null;
        }
        MessageType type = checkedType(buf.get(head + FrameLayout.TYPE_OFFSET) & 0xFF);
        int length = buf.getInt(head + FrameLayout.LENGTH_OFFSET);
        if (length < 0 || length > type.maxPayload()) {
            throw new ProtocolException(
                    ErrorCode.MALFORMED,
                    type + " frame length must be 0.." + type.maxPayload() + ", got "
                            + Integer.toUnsignedString(length));
        }
        int frame = FrameLayout.HEADER_SIZE + length;
        if (end - head < frame) {
            makeRoom(frame);
            return null;
        }
        int start = head + FrameLayout.HEADER_SIZE;
        payload.limit(start + length).position(start);
        head += frame;
        if (head == end) {
            // nothing left: the next bytes go to the front (the payload's bytes stay until they are written over)
            buf.clear();
            head = 0;
        }
        return type;
    }

    /**
     * The payload of the frame {@link #next()} returned last: a little-endian view from its first byte (the buffer's
     * position) to its last (the limit), over {@link #array()}.
     */
    public ByteBuffer payload() {
        return payload;
    }

    /** The array behind {@link #buffer()} and {@link #payload()} (positions in the view are indexes in it). */
    public byte[] array() {
        return buf.array();
    }

    /** Bytes received and not yet taken as a frame (the start of the next frame, or next frames). */
    public int buffered() {
        return buf.position() - head;
    }

    /** Removes and returns the bytes received and not yet taken as frames (for another reader to go on from). */
    public byte[] takeBuffered() {
        byte[] rest = java.util.Arrays.copyOfRange(buf.array(), head, buf.position());
        buf.clear();
        head = 0;
        return rest;
    }

    private MessageType checkedType(int code) {
        MessageType type = MessageType.ofCode(code);
        if (type == null) {
            throw new ProtocolException(ErrorCode.MALFORMED, "unknown frame type " + code);
        }
        if (!accepted.contains(type)) {
            throw new ProtocolException(ErrorCode.MALFORMED, "unexpected " + type + " " + sender);
        }
        return type;
    }

    /** Makes the frame in progress, {@code frame} bytes long, fit behind {@code head}: moves it forward, or grows. */
    private void makeRoom(int frame) {
        if (head + frame <= buf.capacity()) {
            return;
        }
        int have = buf.position() - head;
        if (frame > buf.capacity()) {
            ByteBuffer old = buf;
            allocate(Math.max(frame, Math.min(FrameLayout.HEADER_SIZE + FrameLayout.MAX_PAYLOAD, 2 * old.capacity())));
            buf.put(old.array(), head, have);
        } else {
            System.arraycopy(buf.array(), head, buf.array(), 0, have);
            buf.position(have);
        }
        head = 0;
    }

    private void allocate(int capacity) {
        buf = ByteBuffer.allocate(capacity).order(ByteOrder.LITTLE_ENDIAN);
        payload = buf.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }
}
