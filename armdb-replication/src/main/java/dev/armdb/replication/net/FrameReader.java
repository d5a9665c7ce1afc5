package dev.armdb.replication.net;

import dev.armdb.replication.protocol.ErrorCode;
import dev.armdb.replication.protocol.FrameLayout;
import dev.armdb.replication.protocol.MessageType;
import dev.armdb.replication.protocol.ProtocolException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Set;

/**
 * Whole frames ({@link FrameLayout}) reassembled from whatever a non-blocking {@link ByteTransport} delivers, however
 * the bytes are split. A frame's header is checked (a known type, one the reader accepts now, a length within the
 * type's cap) before any of its payload is kept, and a payload is handed out only once whole, from index 0 of its own
 * array, so a decoder or an applier can use absolute offsets.
 *
 * <p>Every frame reader of a replication connection is one of these: the follower's {@code LeaderSession}, the
 * leader's handshake ({@link FrameChannel}, over blocking streams) and its worker-driven sessions; the deterministic
 * simulation drives the same class, configured as those sessions configure it, with deliveries cut at seeded points.
 *
 * <p>Design note: one transport read fills a staging buffer from which small frames are taken in place; a payload
 * larger than what is staged is copied out once and the rest of it read straight into its array, so a catch-up batch
 * costs one copy, not two, and a stream of small frames costs no compaction per frame.
 *
 * <p>Threading: one thread at a time (the session's worker).
 */
public final class FrameReader {
    /** Bytes read and not yet taken: read mode (position: next byte to take; limit: end of what was read). */
    private final ByteBuffer staged;

    private Set<MessageType> accepted;
    private String unexpected;
    private byte[] payload;
    /** The payload handed out: position 0, limit its length. */
    private ByteBuffer payloadView;
    /** The payload being filled by the transport. */
    private ByteBuffer payloadFill;

    /** Type of the frame whose payload is being gathered; null between frames. */
    private MessageType type;

    private int length;
    private int filled;
    /** See {@link #lastFillShort}. */
    private boolean lastFillShort;

    /**
     * A reader with {@code stagingBytes} of staging (at least a frame header) and a payload array that starts at
     * {@code initialPayloadBytes} and grows, up to a type's cap, as frames need.
     *
     * @param accepted the frame types accepted until {@link #accept} says otherwise
     * @param unexpected what a refusal of another type says after "unexpected TYPE ", e.g. "from a follower after the
     *     handshake"
     */
    public FrameReader(int stagingBytes, int initialPayloadBytes, Set<MessageType> accepted, String unexpected) {
        if (stagingBytes < FrameLayout.HEADER_SIZE) {
            throw new IllegalArgumentException(
                    "staging must hold a frame header (" + FrameLayout.HEADER_SIZE + " bytes), got " + stagingBytes);
        }
        this.staged =
                ByteBuffer.allocate(stagingBytes).order(ByteOrder.LITTLE_ENDIAN).flip();
        payloadArray(Math.max(1, initialPayloadBytes));
        accept(accepted, unexpected);
    }

    /** Changes which frame types are accepted from the next header on (a session entering another state). */
    public void accept(Set<MessageType> types, String unexpectedText) {
        this.accepted = types;
        this.unexpected = unexpectedText;
    }

    /** Forgets everything read (a new connection); the payload array is kept for reuse. */
    public void reset() {
        staged.clear().flip();
        type = null;
        length = 0;
        filled = 0;
    }

    /**
     * Adds bytes another reader took from the connection ahead of its last frame (the handshake's read-ahead).
     *
     * @throws IllegalArgumentException if they do not fit the staging buffer
     */
    public void preload(byte[] bytes) {
        staged.compact();
        try {
            if (bytes.length > staged.remaining()) {
                throw new IllegalArgumentException("read-ahead of " + bytes.length + " bytes exceeds the "
                        + staged.remaining() + " bytes of staging left");
            }
            staged.put(bytes);
        } finally {
            staged.flip();
        }
    }

    /**
     * Makes one read from {@code transport} into this reader: into the payload being gathered when nothing is staged,
     * else into the staging buffer (nothing if it is full of frames not yet taken).
     *
     * @return bytes read; 0 if none now (or no room: take frames first); -1 if the peer ended the stream
     */
    public int fill(ByteSource transport) throws IOException {
        if (type != null && !staged.hasRemaining()) {
            payloadFill.limit(length).position(filled);
            int room = payloadFill.remaining();
            int n = transport.read(payloadFill);
            if (n > 0) {
                filled += n;
            }
            lastFillShort = n < room;
            return n;
        }
        staged.compact();
        try {
            int room = staged.remaining();
            int n = room > 0 ? transport.read(staged) : 0;
            lastFillShort = n < room;
            return n;
        } finally {
            staged.flip();
        }
    }

    /**
     * True if the last {@link #fill} read fewer bytes than it had room for: the transport had no more at that moment,
     * so another read now would most likely find nothing (a caller may wait for the selector instead).
     */
    public boolean lastFillShort() {
        return lastFillShort;
    }

    /**
     * Takes the next whole frame, if it has arrived; its payload is {@link #payload()} until the next call.
     *
     * @return its type, or null if the next frame is not whole yet
     * @throws ProtocolException (MALFORMED) for an unknown type, a length over the type's cap, or a type not accepted
     */
    public MessageType next() {
        if (type == null && !header()) {
            return null;
        }
        int take = Math.min(length - filled, staged.remaining());
        if (take > 0) {
            staged.get(payload, filled, take);
            filled += take;
        }
        if (filled < length) {
            return null;
        }
        MessageType whole = type;
        type = null;
        payloadView.limit(length).position(0);
        return whole;
    }

    /** Starts the next frame from a staged header; false if fewer than a header's bytes are staged. */
    private boolean header() {
        if (staged.remaining() < FrameLayout.HEADER_SIZE) {
            return false;
        }
        int at = staged.position();
        int code = staged.get(at + FrameLayout.TYPE_OFFSET) & 0xFF;
        MessageType t = MessageType.ofCode(code);
        if (t == null) {
            throw new ProtocolException(ErrorCode.MALFORMED, "unknown frame type " + code);
        }
        int len = staged.getInt(at + FrameLayout.LENGTH_OFFSET);
        if (len < 0 || len > t.maxPayload()) {
            throw new ProtocolException(
                    ErrorCode.MALFORMED,
                    t + " frame length must be 0.." + t.maxPayload() + ", got " + Integer.toUnsignedString(len));
        }
        if (!accepted.contains(t)) {
            throw new ProtocolException(ErrorCode.MALFORMED, "unexpected " + t + " " + unexpected);
        }
        staged.position(at + FrameLayout.HEADER_SIZE);
        if (len > payload.length) {
            payloadArray(Math.max(len, Math.min(FrameLayout.MAX_PAYLOAD, payload.length * 2)));
        }
        type = t;
        length = len;
        filled = 0;
        return true;
    }

    private void payloadArray(int size) {
        payload = new byte[size];
        payloadView = ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN);
        payloadFill = ByteBuffer.wrap(payload);
    }

    /**
     * True if the next frame is whole already, so {@link #next} returns it without a read: a driver must come back
     * for it even if no readiness event announces anything.
     */
    public boolean frameReady() {
        if (type != null) {
            return filled + staged.remaining() >= length;
        }
        if (staged.remaining() < FrameLayout.HEADER_SIZE) {
            return false;
        }
        int at = staged.position();
        MessageType t = MessageType.ofCode(staged.get(at + FrameLayout.TYPE_OFFSET) & 0xFF);
        int len = staged.getInt(at + FrameLayout.LENGTH_OFFSET);
        if (t == null || len < 0 || len > t.maxPayload() || !accepted.contains(t)) {
            // a bad header is ready too: next() refuses it
            return true;
        }
        return staged.remaining() - FrameLayout.HEADER_SIZE >= len;
    }

    /**
     * Removes and returns the bytes read and not yet taken as frames, a frame in progress from its header on, so
     * another reader can go on from them ({@link #preload}); this reader is then empty.
     */
    public byte[] takeBuffered() {
        int gathered = type == null ? 0 : FrameLayout.HEADER_SIZE + filled;
        ByteBuffer rest = ByteBuffer.allocate(gathered + staged.remaining()).order(ByteOrder.LITTLE_ENDIAN);
        if (type != null) {
            FrameLayout.putHeader(rest, type, length);
            rest.put(payload, 0, filled);
        }
        rest.put(staged);
        reset();
        return rest.array();
    }

    /** True if bytes of a next frame have been read (a frame has started), whole or not. */
    public boolean inputPending() {
        return staged.hasRemaining() || type != null;
    }

    /** The payload of the last frame taken: position 0, limit its length, little-endian. */
    public ByteBuffer payload() {
        return payloadView;
    }

    /** The array behind {@link #payload()}; the payload starts at index 0. */
    public byte[] payloadArray() {
        return payload;
    }
}
