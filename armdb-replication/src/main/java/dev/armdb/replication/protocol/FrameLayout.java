package dev.armdb.replication.protocol;

/**
 * Every frame on a replication connection. Little-endian.
 *
 * <pre>
 *  0       1                               5
 *  +-------+-------------------------------+---------------------------+
 *  | type  |        payload length         |  payload (length bytes)   |
 *  +-------+-------------------------------+---------------------------+
 * </pre>
 *
 * The length is validated against {@link #MAX_PAYLOAD} and the type's own rules before any payload byte is
 * read into memory; a frame split across TCP reads is reassembled ({@code net.FrameReader}). Stateless.
 */
public final class FrameLayout {
    /** Offset of the type byte. */
    public static final int TYPE_OFFSET = 0;
    /** Offset of the payload length. */
    public static final int LENGTH_OFFSET = 1;
    /** Size of the frame header. */
    public static final int HEADER_SIZE = 5;
    /** Hard cap on any payload: 8 MiB (a slot batch of one largest slot fits with room to spare). */
    public static final int MAX_PAYLOAD = 8 << 20;

    private FrameLayout() {}

    /**
     * Writes the header of a {@code type} frame with a payload of {@code length} bytes at the position of {@code out}
     * (a little-endian buffer).
     */
    public static void putHeader(java.nio.ByteBuffer out, MessageType type, int length) {
        out.put((byte) type.code()).putInt(length);
    }
}
