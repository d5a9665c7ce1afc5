package dev.armdb.replication.protocol;

import java.nio.ByteBuffer;

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

    static void expectLength(MessageType type, ByteBuffer in, int length) {
        if (in.remaining() != length) {
            throw new ProtocolException(
                    ErrorCode.MALFORMED, type + " payload must be " + length + " bytes, got " + in.remaining());
        }
    }
}
