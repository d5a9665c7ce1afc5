package dev.armdb.replication.protocol;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Either way: the sender ends the session, and says why.
 *
 * <pre>
 *  0               2               4
 *  +---------------+---------------+-------------------------------+
 *  |  error code   | message bytes |  message (UTF-8, ≤ 1024 B)    |
 *  +---------------+---------------+-------------------------------+
 * </pre>
 *
 * Immutable.
 *
 * @param code why
 * @param message a readable explanation naming expected and received values
 */
public record ErrorMessage(ErrorCode code, String message) {
    /** Most message bytes carried. */
    public static final int MAX_MESSAGE = 1024;

    /** The payload bytes, message cut to {@link #MAX_MESSAGE}. */
    public byte[] encode() {
        byte[] text = message.getBytes(StandardCharsets.UTF_8);
        int n = Math.min(text.length, MAX_MESSAGE);
        ByteBuffer b = ByteBuffer.allocate(4 + n).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putShort((short) code.code()).putShort((short) n).put(text, 0, n);
        return b.array();
    }

    /** Most characters of a peer's message shown in logs and status. */
    public static final int MAX_SHOWN = 200;

    /**
     * The message as safe to log: printable ASCII only (anything else becomes '?'), at most {@link #MAX_SHOWN}
     * characters, so a peer cannot forge log lines or flood the log.
     */
    public String sanitized() {
        return sanitize(message);
    }

    /** {@code text} reduced as {@link #sanitized()} does. */
    public static String sanitize(String text) {
        int n = Math.min(text.length(), MAX_SHOWN);
        StringBuilder sb = new StringBuilder(n + 3);
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            sb.append(c >= ' ' && c <= '~' ? c : '?');
        }
        if (text.length() > MAX_SHOWN) {
            sb.append("...");
        }
        return sb.toString();
    }

    /** Reads a payload; throws {@link ProtocolException} if the lengths disagree. */
    public static ErrorMessage decode(ByteBuffer in) {
        if (in.remaining() < 4) {
            throw new ProtocolException(
                    ErrorCode.MALFORMED, "ERROR payload must be at least 4 bytes, got " + in.remaining());
        }
        int code = Short.toUnsignedInt(in.getShort());
        int n = Short.toUnsignedInt(in.getShort());
        if (n > MAX_MESSAGE || n != in.remaining()) {
            throw new ProtocolException(
                    ErrorCode.MALFORMED,
                    "ERROR message length " + n + " but " + in.remaining() + " bytes follow (max " + MAX_MESSAGE + ")");
        }
        byte[] text = new byte[n];
        in.get(text);
        return new ErrorMessage(ErrorCode.ofCode(code), new String(text, StandardCharsets.UTF_8));
    }
}
