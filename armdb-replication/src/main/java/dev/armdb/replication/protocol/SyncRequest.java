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
 *  40                              48
 *  |  leader epoch of from LSN     |
 *  +-------------------------------+
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
 */
public record SyncRequest(
        int protocolVersion, int shard, byte[] leaderDatabaseId, long fromLsn, long followerId, long leaderEpoch) {
    /** Payload length. */
    public static final int LENGTH = 48;

    /** Writes the payload at the buffer's position (little-endian buffer). */
    public void encode(ByteBuffer out) {
        out.putShort((short) protocolVersion).putShort((short) 0).putInt(shard);
        out.put(leaderDatabaseId).putLong(fromLsn).putLong(followerId).putLong(leaderEpoch);
    }

    /**
     * Reads a payload.
     *
     * @throws ProtocolException if the length is wrong
     */
    public static SyncRequest decode(ByteBuffer in) {
        Codec.expectLength(MessageType.SYNC_REQUEST, in, LENGTH);
        int version = Short.toUnsignedInt(in.getShort());
        in.getShort();
        int shard = in.getInt();
        byte[] id = new byte[16];
        in.get(id);
        long from = in.getLong();
        long follower = in.getLong();
        return new SyncRequest(version, shard, id, from, follower, in.getLong());
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
                && r.leaderEpoch == leaderEpoch;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(fromLsn) * 31 + shard;
    }
}
