package dev.armdb.replication.follower;

import dev.armdb.Durability;

/**
 * The one narrow door through which a follower's replication changes a local shard: apply images, begin and finish a
 * copy, wipe, force, and read the positions it needs. {@link StoreReplicaShard} opens it onto a {@code Store}'s shard;
 * the deterministic simulation opens it onto a shard over a simulated disk.
 *
 * <p>Threading: one session (one thread at a time) drives a shard through it.
 */
interface ReplicaShard {
    /** Bytes of one slot image. */
    int slotSize();

    /** Slots that may hold data. */
    int slotCount();

    /** The newest LSN of any image the shard holds (or assigned, after a promotion). */
    long lastLsn();

    /** The most slots the shard may grow to. */
    long maxSlots();

    /** The collection's durability mode, which decides when an applied LSN may be recorded. */
    Durability durability();

    /** The group-commit interval (GROUP durability), in nanoseconds. */
    long groupIntervalNanos();

    /** Empties the shard for a full copy. */
    void wipe();

    /**
     * Starts a first copy: images go straight to their slots, the index is built at {@link #finishBulkLoad()};
     * {@code expectedSlots} (the leader's slot count, a hint) sizes what the copy collects up front.
     */
    void beginBulkLoad(int expectedSlots);

    /** Ends a bulk load (a no-op if none is running). */
    void finishBulkLoad();

    /** True between {@link #beginBulkLoad()} and {@link #finishBulkLoad()}. */
    boolean isBulkLoading();

    /**
     * Applies {@code count} CRC-checked images from {@code buf}, each preceded by its slot id.
     *
     * @throws IllegalArgumentException if an image is not a valid slot image
     */
    void applyImages(byte[] buf, int offset, int count, int stride);

    /** Forces every image applied since the last force. */
    void forceApplied();

    /**
     * A mark for {@link #forcedSince}: every image applied before the call is durable once a force begun after it
     * has completed, whoever ran it (normally the collection's group commit).
     */
    long forceMark();

    /** True if a force begun after {@code mark} (from {@link #forceMark}) has completed. */
    boolean forcedSince(long mark);

    /** Marks, durably, that a copy from scratch is in progress: a crash before {@link #finishCopy()} empties it. */
    void beginCopy();

    /** Clears the mark {@link #beginCopy()} set. */
    void finishCopy();

    /** True while a copy from scratch is incomplete. */
    boolean copyIncomplete();
}
