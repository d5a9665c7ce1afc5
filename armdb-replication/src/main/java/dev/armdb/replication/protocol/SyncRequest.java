package dev.armdb.replication.protocol;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Follower → leader, the first frame of a session: which shard, which leader database the follower last
 * followed, and the LSN it has fully applied.
 *
 * <pre>
 *  0               2               4                               8
 *  +---------------+---------------+-------------------------------+
 *  | proto version |  flags (0)    |           shard id            |
 *  +---------------+---------------+-------------------------------+
 *  8                                                               24
 *  |   leader database id (16 bytes; all zero = none)              |
 *  +---------------------------------------------------------------+
 *  24                              32                              40
 *  |           from LSN            |          follower id          |
 *  +-------------------------------+-------------------------------+
 *  40                              48                              56
 *  |  leader epoch of from LSN     | highest LSN held in the shard |
 *  +-------------------------------+-------------------------------+
 *  56                                                              72
 *  |                  follower nonce (16 bytes)                    |
 *  +---------------------------------------------------------------+
 *  72                                                              104
 *  |   proof: HMAC-SHA256(secret, "armdb-follower" | leader nonce  |
 *  |          | bytes 0..71 of this payload); zeros without secret |
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * Immutable.
 *
 * @param protocolVersion the follower's protocol version
 * @param shard shard id
 * @param leaderDatabaseId 16 bytes; zeros when the follower never synced
 * @param fromLsn the LSN the follower has fully applied (0 = nothing)
 * @param followerId a random id naming the follower in the leader's status
 * @param leaderEpoch the leader epoch the follower last synced under (0 = unknown)
 * @param heldLsn the highest LSN of any slot image the follower holds in the shard (at least {@code fromLsn}: images
 *     of a batch may be newer than the position recorded); a promoted follower uses it to tell whether this
 *     follower holds anything of the old leader it lacks
 * @param nonce 16 random bytes, fresh per session, that the leader's proof in ShardInfo must cover
 * @param proof the follower's proof (32 bytes), or zeros if it has no secret
 */
public record SyncRequest(
        int protocolVersion,
        int shard,
        byte[] leaderDatabaseId,
        long fromLsn,
        long followerId,
        long leaderEpoch,
        long heldLsn,
        byte[] nonce,
        byte[] proof) {
    /** Payload length. */
    public static final int LENGTH = 104;

    /** Bytes of a proof. */
    public static final int PROOF_BYTES = 32;

    /** Bytes the proof covers: everything before it. */
    public static final int SIGNED_LENGTH = 72;

    /** The label of the follower's proof. */
    public static final String PROOF_ROLE = "armdb-follower";

    /** Writes the payload at the buffer's position (little-endian buffer). */
    public void encode(ByteBuffer out) {
        out.putShort((short) protocolVersion).putShort((short) 0).putInt(shard);
        out.put(leaderDatabaseId)
                .putLong(fromLsn)
                .putLong(followerId)
                .putLong(leaderEpoch)
                .putLong(heldLsn);
        out.put(nonce).put(proof);
    }

    /** The payload's bytes (little-endian), of which the first {@link #SIGNED_LENGTH} are what the proof covers. */
    public byte[] toBytes() {
        ByteBuffer b = ByteBuffer.allocate(LENGTH).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        encode(b);
        return b.array();
    }

    /** This request with {@code proof} in place of its own. */
    public SyncRequest withProof(byte[] proof) {
        return new SyncRequest(
                protocolVersion, shard, leaderDatabaseId, fromLsn, followerId, leaderEpoch, heldLsn, nonce, proof);
    }

    /**
     * Reads a payload.
     *
     * @throws ProtocolException if the length is wrong
     */
    public static SyncRequest decode(ByteBuffer in) {
        Codec.expectVersion(MessageType.SYNC_REQUEST, in, "follower");
        Codec.expectLength(MessageType.SYNC_REQUEST, in, LENGTH);
        int version = Short.toUnsignedInt(in.getShort());
        in.getShort();
        int shard = in.getInt();
        byte[] id = new byte[16];
        in.get(id);
        long from = in.getLong();
        long follower = in.getLong();
        long epoch = in.getLong();
        long held = in.getLong();
        byte[] nonce = new byte[Challenge.NONCE_BYTES];
        in.get(nonce);
        byte[] proof = new byte[PROOF_BYTES];
        in.get(proof);
        return new SyncRequest(version, shard, id, from, follower, epoch, held, nonce, proof);
    }

    /** True if the follower names no leader database. */
    public boolean noDatabase() {
        return Arrays.equals(leaderDatabaseId, new byte[16]);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SyncRequest r
                && r.protocolVersion == protocolVersion
                && r.shard == shard
                && Arrays.equals(r.leaderDatabaseId, leaderDatabaseId)
                && r.fromLsn == fromLsn
                && r.followerId == followerId
                && r.leaderEpoch == leaderEpoch
                && r.heldLsn == heldLsn
                && Arrays.equals(r.nonce, nonce)
                && Arrays.equals(r.proof, proof);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(fromLsn) * 31 + shard;
    }
}
