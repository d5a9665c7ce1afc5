package dev.armdb.replication.follower;

/**
 * What a follower records per shard about the leader it follows: the leader database and epoch, and the LSN it has
 * applied. {@link ReplicaState} keeps it in {@code replica.state}; the deterministic simulation keeps it in memory
 * with what a crash would keep.
 *
 * <p>Threading: each shard's entry is written by that shard's session only; any thread may read.
 */
interface ReplicaPositions {
    /** The LSN shard {@code s} has fully applied and recorded. */
    long appliedLsn(int s);

    /** Records shard {@code s}'s applied LSN; {@code force} makes it durable now. */
    void appliedLsn(int s, long lsn, boolean force);

    /**
     * Records shard {@code s}'s applied LSN and has it forced in the background, without blocking; returns a ticket
     * for {@link #recordForced}. What a follower acknowledges is only ever a record whose force completed.
     */
    long recordApplied(int s, long lsn);

    /** True once the force a {@link #recordApplied} ticket names has completed. */
    boolean recordForced(long ticket);

    /** Makes every record stored so far durable before it returns. */
    void forceRecords();

    /** The leader database id shard {@code s} follows (16 bytes, zero = none). */
    byte[] leaderDatabaseId(int s);

    /** The leader epoch shard {@code s}'s applied LSN was synced under (0 = unknown). */
    long leaderEpoch(int s);

    /** Records, durably, the leader epoch shard {@code s} syncs under from now on. */
    void leaderEpoch(int s, long epoch);

    /** Records, durably, the leader database shard {@code s} follows, with applied LSN 0. */
    void resetTo(int s, byte[] databaseId);
}
