package dev.armdb.replication.protocol;

import java.nio.ByteBuffer;

/** Checks shared by the message codecs. Stateless. */
final class Codec {
    private Codec() {}

    static void expectLength(MessageType type, ByteBuffer in, int length) {
        if (in.remaining() != length) {
            throw new ProtocolException(
                    ErrorCode.MALFORMED, type + " payload must be " + length + " bytes, got " + in.remaining());
        }
    }
}
