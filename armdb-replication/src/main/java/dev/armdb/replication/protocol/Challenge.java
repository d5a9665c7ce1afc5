package dev.armdb.replication.protocol;

import java.nio.ByteBuffer;

/**
 * Leader → follower, the first frame of a session: the leader's protocol version, whether it requires
 * authentication, and a fresh nonce the follower's proof must cover (so a recorded handshake cannot be replayed).
 *
 * <pre>
 *  0               2               4                               8
 *  +---------------+---------------+-------------------------------+
 *  | proto version |     flags     |          reserved (0)         |
 *  +---------------+---------------+-------------------------------+
 *  8                                                               24
 *  |                   leader nonce (16 bytes)                     |
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * Flags: bit 0 = the leader has a replication secret and checks the follower's proof. Immutable.
 *
 * @param protocolVersion the leader's protocol version
 * @param authRequired true if the leader checks the follower's proof (and proves itself in ShardInfo)
 * @param nonce 16 random bytes, fresh per session
 */
public record Challenge(int protocolVersion, boolean authRequired, byte[] nonce) {
    /** Payload length. */
    public static final int LENGTH = 24;

    /** Bytes of a nonce. */
    public static final int NONCE_BYTES = 16;

    private static final int FLAG_AUTH = 1;

    /** Writes the payload at the buffer's position. */
    public void encode(ByteBuffer out) {
        out.putShort((short) protocolVersion)
                .putShort((short) (authRequired ? FLAG_AUTH : 0))
                .putInt(0)
                .put(nonce);
    }

    /**
     * Reads a payload.
     *
     * @throws ProtocolException if the version is not this code's or the length is wrong
     */
    public static Challenge decode(ByteBuffer in) {
        Codec.expectVersion(MessageType.CHALLENGE, in, "leader");
        Codec.expectLength(MessageType.CHALLENGE, in, LENGTH);
        int version = Short.toUnsignedInt(in.getShort());
        int flags = Short.toUnsignedInt(in.getShort());
        in.getInt();
        byte[] nonce = new byte[NONCE_BYTES];
        in.get(nonce);
        return new Challenge(version, (flags & FLAG_AUTH) != 0, nonce);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Challenge c
                && c.protocolVersion == protocolVersion
                && c.authRequired == authRequired
                && java.util.Arrays.equals(c.nonce, nonce);
    }

    @Override
    public int hashCode() {
        return java.util.Arrays.hashCode(nonce);
    }
}
