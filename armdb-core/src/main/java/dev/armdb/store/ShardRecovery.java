package dev.armdb.store;

import static dev.armdb.store.SlotLayout.KEY_OFFSET;

import dev.armdb.index.HashIndex;
import dev.armdb.index.KeyHash;
import java.util.Arrays;
import org.slf4j.Logger;

/**
 * Rebuilds one shard's in-memory state from its file: reads every slot once, checks its CRC, indexes the newest
 * live slot of each key (by LSN), lets a newer tombstone hide older live slots, and collects everything
 * reusable. Writes nothing; {@link Shard} applies the result. Used by one thread.
 *
 * <p>With replica rules (a follower's shard) the index instead maps each key to its newest slot, live or
 * tombstone, exactly as replication applies images, and nothing is collected for reuse: a replica's slots are
 * the leader's, and only the leader's images change them.
 */
final class ShardRecovery {
    final HashIndex index;
    final int[] reusable;
    final int[] losers;
    final int[] corrupt;
    final int incomplete;
    final int deletedSlots;
    final int highWater;
    final long maxLsn;
    final int slotsChecked;
    final int indexedTombstones;

    private ShardRecovery(Builder b) {
        this.index = b.index;
        this.reusable = Arrays.copyOf(b.reusable, b.reusableCount);
        this.losers = Arrays.copyOf(b.losers, b.loserCount);
        this.corrupt = Arrays.copyOf(b.corrupt, b.corruptCount);
        this.incomplete = b.incompleteCount;
        this.deletedSlots = b.deletedCount;
        this.highWater = b.highWater;
        this.maxLsn = b.maxLsn;
        this.slotsChecked = b.checked;
        this.indexedTombstones = b.indexedTombstones;
    }

    /** Scans {@code file} (slots of {@code keySize}-byte keys) and returns what it holds. */
    static ShardRecovery scan(ShardFile file, int keySize, int slotSize) {
        return scan(file, keySize, slotSize, false);
    }

    /** As {@link #scan(ShardFile, int, int)}, with replica rules if {@code replica}. */
    static ShardRecovery scan(ShardFile file, int keySize, int slotSize, boolean replica) {
        Builder b = new Builder(file, keySize, slotSize, replica);
        b.run();
        return new ShardRecovery(b);
    }

    /** Reports to {@code log} what this recovery of shard {@code shardId} found and will settle. */
    void log(Logger log, int shardId) {
        if (corrupt.length > 0) {
            log.warn(
                    "shard {}: {} corrupt slot(s) found and freed (first: slot {}); {} slots checked",
                    shardId,
                    corrupt.length,
                    corrupt[0],
                    slotsChecked);
        }
        if (incomplete > 0) {
            log.info("shard {}: {} interrupted write(s) discarded", shardId, incomplete);
        }
        if (losers.length > incomplete) {
            log.info("shard {}: {} superseded slot(s) released", shardId, losers.length - incomplete);
        }
    }

    private static final class Builder {
        private final ShardFile file;
        private final int keySize;
        private final SlotScanner scanner;
        private final HashIndex index;
        private final boolean replica;
        private int indexedTombstones;
        private int[] reusable = new int[64];
        private int reusableCount;
        private int[] losers = new int[16];
        private int loserCount;
        private int[] corrupt = new int[16];
        private int corruptCount;
        private int[] deleted = new int[64];
        private int deletedCount;
        private int incompleteCount;
        private int highWater;
        private long maxLsn;
        private int checked;

        Builder(ShardFile file, int keySize, int slotSize, boolean replica) {
            this.replica = replica;
            this.file = file;
            this.keySize = keySize;
            this.scanner = new SlotScanner(file, slotSize);
            this.index = new HashIndex(new FileSlotKeys(file, keySize));
        }

        void run() {
            int cap = file.capacity();
            // pass 1, sequential: classify every slot and note (hash tag, slot) of every keyed slot to index
            long[] keyed = new long[1024];
            int keyedCount = 0;
            for (int slot = 0; slot < cap; slot++) {
                checked++;
                int kind = scanner.classify(slot);
                if (kind == SlotScanner.S_EMPTY) {
                    continue;
                }
                highWater = slot + 1;
                switch (kind) {
                    case SlotScanner.S_LIVE -> {
                        maxLsn = Math.max(maxLsn, scanner.lsn(slot));
                        keyed = add(keyed, keyedCount++, HashIndex.entryOf(hashOf(slot), slot));
                    }
                    case SlotScanner.S_DELETED -> {
                        maxLsn = Math.max(maxLsn, scanner.lsn(slot));
                        deleted = add(deleted, deletedCount++, slot);
                        if (replica) {
                            // the sign bit (slot ids stay below 2^30) marks a tombstone for pass 2
                            keyed = add(keyed, keyedCount++, HashIndex.entryOf(hashOf(slot), slot | Integer.MIN_VALUE));
                        }
                    }
                    case SlotScanner.S_FREE -> {
                        maxLsn = Math.max(maxLsn, scanner.lsn(slot));
                        reusable = add(reusable, reusableCount++, slot);
                    }
                    case SlotScanner.S_INCOMPLETE -> {
                        incompleteCount++;
                        losers = add(losers, loserCount++, slot);
                    }
                    default -> {
                        corrupt = add(corrupt, corruptCount++, slot);
                        reusable = add(reusable, reusableCount++, slot);
                    }
                }
            }
            // pass 2: index in table order, so the inserts walk the table instead of missing the cache at random
            index.reserve(keyedCount);
            HashIndex.sortByHome(keyed, keyedCount);
            for (int i = 0; i < keyedCount; i++) {
                long e = keyed[i];
                int raw = HashIndex.slotOf(e);
                long h = HashIndex.tagOf(e);
                if (replica) {
                    newestOfKey(raw & Integer.MAX_VALUE, h, raw < 0);
                } else {
                    live(raw, h);
                }
            }
            if (replica) {
                // a replica reuses nothing by itself: the leader's images decide every slot
                reusableCount = 0;
                loserCount = 0;
            } else {
                applyTombstones();
            }
        }

        /** Replica rule: the key's newest slot, live or tombstone, is the indexed one. */
        private void newestOfKey(int slot, long h, boolean tombstone) {
            int other = index.findSameKey(h, slot);
            if (other < 0) {
                index.insert(h, slot);
                indexedTombstones += tombstone ? 1 : 0;
            } else if (scanner.lsn(slot) > scanner.lsn(other)) {
                index.replace(h, other, slot);
                indexedTombstones += (tombstone ? 1 : 0) - (scanner.statusOf(other) == SlotLayout.DELETED ? 1 : 0);
            }
        }

        private void live(int slot, long h) {
            int other = index.findSameKey(h, slot);
            if (other < 0) {
                index.insert(h, slot);
            } else if (scanner.lsn(slot) > scanner.lsn(other)) {
                index.replace(h, other, slot);
                losers = add(losers, loserCount++, other);
            } else {
                losers = add(losers, loserCount++, slot);
            }
        }

        private void applyTombstones() {
            for (int i = 0; i < deletedCount; i++) {
                int d = deleted[i];
                long h = hashOf(d);
                int other = index.findSameKey(h, d);
                if (other >= 0 && scanner.lsn(other) < scanner.lsn(d)) {
                    index.remove(h, other);
                    losers = add(losers, loserCount++, other);
                }
                reusable = add(reusable, reusableCount++, d);
            }
        }

        private long hashOf(int slot) {
            return KeyHash.hash(file.segment(slot), file.offset(slot) + KEY_OFFSET, keySize);
        }

        private static int[] add(int[] a, int at, int v) {
            int[] r = at == a.length ? Arrays.copyOf(a, a.length * 2) : a;
            r[at] = v;
            return r;
        }

        private static long[] add(long[] a, int at, long v) {
            long[] r = at == a.length ? Arrays.copyOf(a, a.length * 2) : a;
            r[at] = v;
            return r;
        }
    }
}
