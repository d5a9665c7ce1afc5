package dev.armdb.replication.leader;

/**
 * One follower session as the leader sees it. Immutable.
 *
 * @param shard shard id (-1 before the handshake)
 * @param followerId the follower node's id, hex (the same for all its shards and across its restarts)
 * @param remote the follower's address (its replication connection's source)
 * @param respHost the host the follower serves RESP clients on (the source address if it did not say)
 * @param respPort the follower's RESP port, 0 if it has none
 * @param idleMillis how long since the follower was last heard
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
        String respHost,
        int respPort,
        long idleMillis,
        String state,
        long ackedLsn,
        long lagLsn,
        long bytesSent,
        String closeReason) {}
