package dev.armdb.replication.follower;

/**
 * One shard's replication as the follower sees it. Immutable.
 *
 * @param shard shard id
 * @param state CONNECTING, CATCHING_UP, STREAMING, BACKING_OFF, FAILED or STOPPED
 * @param appliedLsn the LSN fully applied (and recorded)
 * @param leaderLsn the leader's last LSN as last heard
 * @param lagLsn {@code leaderLsn - appliedLsn}, never negative
 * @param lagMillis how long the follower has been behind the leader (0 when caught up)
 * @param bytesReceived bytes received for this shard since start
 * @param lastError the last error, empty if none
 */
public record ShardStatus(
        int shard,
        String state,
        long appliedLsn,
        long leaderLsn,
        long lagLsn,
        long lagMillis,
        long bytesReceived,
        String lastError) {}
