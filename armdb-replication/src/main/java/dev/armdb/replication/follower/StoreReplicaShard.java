package dev.armdb.replication.follower;

import dev.armdb.Durability;
import dev.armdb.store.Shard;
import dev.armdb.store.Store;

/**
 * {@link ReplicaShard} onto one shard of a {@link Store}. Threading: as {@link ReplicaShard}.
 */
final class StoreReplicaShard implements ReplicaShard {
    private final Store store;
    private final Shard shard;
    private final int id;

    StoreReplicaShard(Store store, int id) {
        this.store = store;
        this.shard = store.shard(id);
        this.id = id;
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
        return store.config().maxSlotsPerShard();
    }

    @Override
    public Durability durability() {
        return store.config().durability();
    }

    @Override
    public long groupIntervalNanos() {
        return store.config().groupInterval().toNanos();
    }

    @Override
    public void wipe() {
        shard.wipe();
    }

    @Override
    public void beginBulkLoad() {
        shard.beginBulkLoad();
    }

    @Override
    public void finishBulkLoad() {
        shard.finishBulkLoad();
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
    public void beginCopy() {
        store.beginCopy(id);
    }

    @Override
    public void finishCopy() {
        store.finishCopy(id);
    }

    @Override
    public boolean copyIncomplete() {
        return store.copyIncomplete(id);
    }
}
