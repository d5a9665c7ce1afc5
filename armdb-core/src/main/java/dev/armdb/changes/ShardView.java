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
     * True if the image (read from {@code slot} by {@link #readSlotImage}) is a LIVE slot that is no longer its
     * key's current value: an old copy waiting for release after an update or a delete. A scan must not ship
     * such images: applied out of LSN order after the newer tombstone they would resurrect a deleted key. Their
     * release reaches followers through the change feed.
     */
    boolean isSuperseded(int slot, byte[] image, int offset);
}
