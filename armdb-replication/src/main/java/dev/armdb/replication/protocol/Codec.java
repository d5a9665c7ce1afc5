package dev.armdb.replication.protocol;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** Checks shared by the message codecs. Stateless. */
final class Codec {
    private Codec() {}

    /**
     * Checks the protocol version in the payload's first two bytes before its length, so peers of another version
     * get a clear, permanent error instead of a length complaint. {@code peer} names the sender.
     */
    static void expectVersion(MessageType type, ByteBuffer in, String peer) {
        if (in.remaining() >= 2) {
            int version = Short.toUnsignedInt(in.getShort(in.position()));
            if (version != ProtocolVersion.CURRENT) {
                throw new ProtocolException(
                        ErrorCode.PROTOCOL_VERSION,
                        type + ": protocol version mismatch: this side speaks " + ProtocolVersion.CURRENT + ", the "
                                + peer + " " + version);
            }
        }
    }

    /** Checks a leader term read off the wire: 0..2^63-1, anything else is MALFORMED. */
    static long term(MessageType type, long term) {
        if (term < 0) {
            throw new ProtocolException(
                    ErrorCode.MALFORMED, type + " term must be 0.." + Long.MAX_VALUE + ", got " + term);
        }
        return term;
    }

    static void expectLength(MessageType type, ByteBuffer in, int length) {
        if (in.remaining() != length) {
            throw new ProtocolException(
                    ErrorCode.MALFORMED, type + " payload must be " + length + " bytes, got " + in.remaining());
        }
    }

    static void expectLengthAtLeast(MessageType type, ByteBuffer in, int length) {
        if (in.remaining() < length) {
            throw new ProtocolException(
                    ErrorCode.MALFORMED,
                    type + " payload must be at least " + length + " bytes, got " + in.remaining());
        }
    }

    /** Checks a host name for a wire field: at most 255 bytes of printable ASCII without spaces. */
    static void checkHost(String what, String host) {
        if (host.length() > SyncRequest.MAX_HOST) {
            throw new IllegalArgumentException(
                    what + " must be at most " + SyncRequest.MAX_HOST + " characters, got " + host.length());
        }
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            if (c <= ' ' || c > '~') {
                throw new IllegalArgumentException(what + " must be printable ASCII, got character " + (int) c);
            }
        }
    }

    static void checkPort(String what, int port) {
        if (port < 0 || port > 0xFFFF) {
            throw new IllegalArgumentException(what + " must be 0..65535, got " + port);
        }
    }

    static void putAscii(ByteBuffer out, String s) {
        out.put(s.getBytes(StandardCharsets.US_ASCII));
    }

    /** Reads {@code n} bytes of printable ASCII, refusing anything else as malformed. */
    static String getAscii(MessageType type, ByteBuffer in, int n) {
        byte[] b = new byte[n];
        in.get(b);
        for (byte x : b) {
            if (x <= ' ' || x > '~') {
                throw new ProtocolException(
                        ErrorCode.MALFORMED, type + " host names must be printable ASCII, got byte " + (x & 0xFF));
            }
        }
        return new String(b, StandardCharsets.US_ASCII);
    }
}
