package dev.armdb;

import java.util.List;

/**
 * Slot counts, LSNs and sizes of a collection, per shard and in total. A snapshot: counters of a shard being
 * written may be a moment stale. Immutable.
 *
 * @param databaseId the collection's random id, hex
 * @param shards one entry per shard, by shard id
 * @param backgroundErrors errors the background thread met since open (each logged)
 */
public record StoreStats(String databaseId, List<ShardStats> shards, long backgroundErrors) {
    /** Compact constructor: keeps an unmodifiable copy of the list. */
    public StoreStats {
        shards = List.copyOf(shards);
    }

    /** Live keys in all shards. */
    public long liveSlots() {
        return shards.stream().mapToLong(ShardStats::liveSlots).sum();
    }

    /** Free (reusable or never used) slots in all shards. */
    public long freeSlots() {
        return shards.stream().mapToLong(ShardStats::freeSlots).sum();
    }

    /** Tombstone slots in all shards. */
    public long deletedSlots() {
        return shards.stream().mapToLong(ShardStats::deletedSlots).sum();
    }

    /** Corrupt slots found by the last open, in all shards. */
    public long corruptSlots() {
        return shards.stream().mapToLong(ShardStats::corruptSlots).sum();
    }

    /** Interrupted writes discarded by the last open, in all shards. */
    public long incompleteSlots() {
        return shards.stream().mapToLong(ShardStats::incompleteSlots).sum();
    }

    /** Bytes of all shard files. */
    public long fileBytes() {
        return shards.stream().mapToLong(ShardStats::fileBytes).sum();
    }

    /** Bytes of memory of all hash indexes. */
    public long indexBytes() {
        return shards.stream().mapToLong(ShardStats::indexBytes).sum();
    }

    /**
     * Counters of one shard. Immutable.
     *
     * @param shard shard id
     * @param liveSlots live keys
     * @param freeSlots slots ready for reuse plus mapped slots never used
     * @param deletedSlots tombstones on disk
     * @param pendingSlots superseded slots and tombstones waiting for a force before reuse
     * @param corruptSlots slots that failed their CRC at the last open (freed, left on disk until reused)
     * @param incompleteSlots writes interrupted by a crash, discarded at the last open
     * @param maxLsn the last LSN assigned
     * @param durableLsn the last LSN known forced to disk
     * @param capacitySlots slots the file holds
     * @param fileBytes bytes of the shard file
     * @param indexBytes bytes of memory of the hash index
     */
    public record ShardStats(
            int shard,
            long liveSlots,
            long freeSlots,
            long deletedSlots,
            long pendingSlots,
            long corruptSlots,
            long incompleteSlots,
            long maxLsn,
            long durableLsn,
            long capacitySlots,
            long fileBytes,
            long indexBytes) {}
}
