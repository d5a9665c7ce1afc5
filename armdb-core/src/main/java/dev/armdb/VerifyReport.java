package dev.armdb;

import java.nio.file.Path;
import java.util.List;

/**
 * What the {@link Verifier} found, per shard and in total. Immutable.
 *
 * @param dir the collection's directory
 * @param databaseId the collection's id, hex
 * @param shards one report per shard, by shard id
 */
public record VerifyReport(Path dir, String databaseId, List<ShardReport> shards) {
    /** Compact constructor: keeps an unmodifiable copy. */
    public VerifyReport {
        shards = List.copyOf(shards);
    }

    /** True if no shard has a corrupt slot. */
    public boolean clean() {
        return shards.stream().allMatch(s -> s.corruptSlots().isEmpty());
    }

    /** Slots checked in all shards. */
    public long slotsChecked() {
        return shards.stream().mapToLong(ShardReport::slotsChecked).sum();
    }

    /** Live keys in all shards. */
    public long liveKeys() {
        return shards.stream().mapToLong(ShardReport::liveKeys).sum();
    }

    /** Corrupt slots in all shards. */
    public long corruptSlots() {
        return shards.stream().mapToLong(s -> s.corruptSlots().size()).sum();
    }

    /**
     * One shard's findings. Immutable.
     *
     * @param shard shard id
     * @param slotsChecked slots read (the whole file)
     * @param liveKeys keys whose newest slot is live
     * @param supersededSlots older live slots of a key that a newer slot or tombstone hides (released on open)
     * @param deletedSlots tombstones
     * @param freeSlots released slots
     * @param emptySlots never-written slots
     * @param incompleteSlots writes a crash interrupted (discarded on open)
     * @param corruptSlots ids of slots whose bytes fail their CRC
     * @param maxLsn the largest LSN in the shard
     */
    public record ShardReport(
            int shard,
            long slotsChecked,
            long liveKeys,
            long supersededSlots,
            long deletedSlots,
            long freeSlots,
            long emptySlots,
            long incompleteSlots,
            List<Integer> corruptSlots,
            long maxLsn) {
        /** Compact constructor: keeps an unmodifiable copy. */
        public ShardReport {
            corruptSlots = List.copyOf(corruptSlots);
        }
    }
}
