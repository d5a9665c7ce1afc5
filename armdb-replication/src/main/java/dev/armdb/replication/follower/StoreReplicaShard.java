package dev.armdb.replication.follower;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.store.Shard;
import dev.armdb.store.Store;

/**
 * {@link ReplicaShard} onto one engine shard: {@link #of} for a shard of a {@link Store} (its copy mark is the
 * store's durable {@code shard-NNN.copying} file); the deterministic simulation gives its own copy mark.
 *
 * <p>Threading: as {@link ReplicaShard}.
 */
final class StoreReplicaShard implements ReplicaShard {
    /** Where a shard's "copy in progress" mark lives. */
    interface CopyMark {
        /** Sets the mark, durably. */
        void begin();

        /** Clears the mark. */
        void finish();

        /** True while the mark is set. */
        boolean incomplete();
    }

    private final Shard shard;
    private final FixedConfig config;
    private final CopyMark mark;

    StoreReplicaShard(Shard shard, FixedConfig config, CopyMark mark) {
        this.shard = shard;
        this.config = config;
        this.mark = mark;
    }

    /** Shard {@code id} of {@code store}, with the store's copy mark. */
    static StoreReplicaShard of(Store store, int id) {
        return new StoreReplicaShard(store.shard(id), store.config(), new CopyMark() {
            @Override
            public void begin() {
                store.beginCopy(id);
            }

            @Override
            public void finish() {
                store.finishCopy(id);
            }

            @Override
            public boolean incomplete() {
                return store.copyIncomplete(id);
            }
        });
    }

    @Override
    public int slotSize() {
        return shard.slotSize();
    }

    @Override
    public int slotCount() {
        return shard.slotCount();
    }

    @Override
    public long lastLsn() {
        return shard.lastLsn();
    }

    @Override
    public long maxSlots() {
        return config.maxSlotsPerShard();
    }

    @Override
    public Durability durability() {
        return config.durability();
    }

    @Override
    public long groupIntervalNanos() {
        return config.groupInterval().toNanos();
    }

    @Override
    public void wipe() {
        shard.wipe();
    }

    @Override
    public void beginBulkLoad(int expectedSlots) {
        shard.beginBulkLoad(expectedSlots);
    }

    @Override
    public void finishBulkLoad() {
        shard.finishBulkLoad();
    }

    @Override
    public boolean isBulkLoading() {
        return shard.isBulkLoading();
    }

    @Override
    public void applyImages(byte[] buf, int offset, int count, int stride) {
        shard.applyImages(buf, offset, count, stride, true);
    }

    @Override
    public void forceApplied() {
        shard.forceApplied();
    }

    @Override
    public long forceMark() {
        return shard.forceMark();
    }

    @Override
    public boolean forcedSince(long mark) {
        return shard.forcedSince(mark);
    }

    @Override
    public void beginCopy() {
        mark.begin();
    }

    @Override
    public void finishCopy() {
        // the bulk-loaded images are in the slot file only (not in the redo log): forced before the mark goes
        shard.forceCopied();
        mark.finish();
    }

    @Override
    public boolean copyIncomplete() {
        return mark.incomplete();
    }
}
