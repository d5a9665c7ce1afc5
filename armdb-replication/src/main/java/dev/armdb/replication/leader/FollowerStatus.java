package dev.armdb.replication.leader;

/**
 * One follower session as the leader sees it. Immutable.
 *
 * @param shard shard id (-1 before the handshake)
 * @param followerId the follower's random id, hex
 * @param remote the follower's address
 * @param state the session's state
 * @param ackedLsn the LSN the follower acknowledged as applied
 * @param lagLsn the shard's last LSN minus {@code ackedLsn}
 * @param bytesSent bytes sent to this follower
 * @param closeReason why the session closed, empty while open
 */
public record FollowerStatus(
        int shard,
        String followerId,
        String remote,
        String state,
        long ackedLsn,
        long lagLsn,
        long bytesSent,
        String closeReason) {}
