package dev.armdb.changes;

/**
 * What replication sees of one shard: its change feed, and a consistent read of any slot's raw image. The
 * engine's shards implement it; the network layer builds on it and nothing else of the engine's internals.
 *
 * <p>Safe for concurrent use by any number of threads alongside the shard's writer.
 */
public interface ShardView {
    /** The shard's id. */
    int shardId();

    /** Bytes of one slot image. */
    int slotSize();

    /** Slots that may hold data: every slot id at or above this is empty. */
    int slotCount();

    /** The last LSN assigned in this shard. */
    long lastLsn();

    /** The shard's change feed. */
    ChangeFeed feed();

    /**
     * Copies a stable image of {@code slot} (exactly {@link #slotSize()} bytes, header included) into {@code out}
     * at {@code offset}; returns the image's LSN, 0 for an empty slot, or -1 if the slot fails its CRC (corrupt
     * or left incomplete by a crash) and must not be shipped.
     */
    long readSlotImage(int slot, byte[] out, int offset);

    /**
     * Loads the memory of the first {@code count} slots named in {@code slots}, so that the {@link #readSlotImage}
     * calls that follow find them in cache: read one by one, each image's cache and TLB misses wait for the last
     * one's; loaded here first, the loads do not depend on each other and the core overlaps them. Slot ids outside
     * the file are skipped. Returns a value made of what was loaded, which the caller keeps somewhere (so the
     * compiler keeps the loads) and otherwise ignores. Any thread; lock-free, allocation-free.
     */
    long touchSlots(int[] slots, int count);

    /**
     * True if the image (read from {@code slot} by {@link #readSlotImage}) is a LIVE slot that is no longer its
     * key's current value: an old copy waiting for release after an update or a delete. A scan must not ship
     * such images: applied out of LSN order after the newer tombstone they would resurrect a deleted key. Their
     * release reaches followers through the change feed.
     */
    boolean isSuperseded(int slot, byte[] image, int offset);
}
