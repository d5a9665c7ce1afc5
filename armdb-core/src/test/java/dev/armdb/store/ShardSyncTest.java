package dev.armdb.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.armdb.ArmDbStorageFailedException;
import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * A shard's forces on their own, over a simulated slot file and without a shard: which calls force, what a completed
 * or failed force records as durable, and which forces a mark counts.
 *
 * <p>Mutation check (done when written, each fails here): {@link ShardSync#forceNow} recording the LSN as durable
 * before the force (a failed force then counts); {@link ShardSync#needsForce} looking at LSNs only.
 */
class ShardSyncTest {
    private final FixedConfig cfg = FixedConfig.builder()
            .keySize(8)
            .valueSize(24)
            .shards(1)
            .durability(Durability.NONE)
            .growthStepBytes(4096)
            .build();
    private final DbMeta meta = DbMeta.create(cfg);
    private final SimulatedDisk disk = new SimulatedDisk();
    private final ShardFile file = ShardFile.open(
            Path.of("sim"),
            meta,
            0,
            ShardFile.chunkShiftFor(cfg.growthStepBytes(), meta.slotSize()),
            1024,
            false,
            disk.opener(),
            new FailStop());
    private final AtomicLong lastLsn = new AtomicLong();
    private final ShardSync sync = new ShardSync(file, null, lastLsn::get);
    private final AtomicInteger forces = new AtomicInteger();

    ShardSyncTest() {
        disk.onBoundary(what -> {
            if (what.equals("force")) {
                forces.incrementAndGet();
            }
        });
    }

    @Test
    void forceToForcesOnlyWhatNoEarlierForceCovered() {
        file.markDirty(0);
        lastLsn.set(5);
        assertThat(sync.forceTo(5)).isTrue();
        assertThat(sync.durableLsn()).isEqualTo(5);
        int after = forces.get();
        assertThat(after).as("the dirty chunk was forced").isPositive();
        assertThat(sync.forceTo(3)).isFalse();
        assertThat(sync.forceTo(5)).isFalse();
        assertThat(forces.get()).as("no force for LSNs already durable").isEqualTo(after);
        file.markDirty(0);
        lastLsn.set(7);
        assertThat(sync.forceTo(6)).isTrue();
        assertThat(sync.durableLsn())
                .as("the force covers the last LSN when it began")
                .isEqualTo(7);
        assertThat(sync.forceTo(7)).isFalse();
    }

    @Test
    void aFailedForceRecordsNothingDurableAndCountsForNoMark() {
        file.markDirty(0);
        lastLsn.set(4);
        long mark = sync.forceMark();
        disk.failForces(1);
        assertThatThrownBy(() -> sync.forceTo(4)).isInstanceOf(ArmDbStorageFailedException.class);
        assertThat(sync.durableLsn()).isZero();
        assertThat(sync.forcedSince(mark)).isFalse();
        assertThat(sync.needsForce(0)).isTrue();
        assertThatThrownBy(sync::forceNow)
                .as("fail-stopped: later forces refuse")
                .isInstanceOf(ArmDbStorageFailedException.class);
        assertThat(sync.durableLsn()).isZero();
    }

    @Test
    void aForceIsNeededForNewLsnsPendingRetirementsOrDirtyChunksWhateverTheirLsns() {
        assertThat(sync.needsForce(0)).as("nothing written").isFalse();
        assertThat(sync.needsForce(1)).as("a retirement waits for a force").isTrue();
        lastLsn.set(2);
        assertThat(sync.needsForce(0)).isTrue();
        sync.forceNow();
        assertThat(sync.needsForce(0)).isFalse();
        // a replica's image with an LSN below the durable one, stored after the force
        file.markDirty(0);
        assertThat(sync.needsForce(0)).isTrue();
        sync.forceNow();
        assertThat(sync.needsForce(0)).isFalse();
    }

    @Test
    void aMarkCountsOnlyForcesBegunAfterIt() {
        long before = sync.forceMark();
        sync.forceNow();
        assertThat(sync.forcedSince(before)).isTrue();
        file.markDirty(0);
        AtomicLong during = new AtomicLong(-1);
        disk.beforeForce(() -> {
            if (during.get() < 0) {
                during.set(sync.forceMark());
            }
        });
        sync.forceNow();
        assertThat(during.get()).as("the hook ran inside the force").isGreaterThanOrEqualTo(0);
        assertThat(sync.forcedSince(during.get()))
                .as("the only force completed since began before the mark")
                .isFalse();
        disk.beforeForce(() -> {});
        file.markDirty(0);
        sync.forceNow();
        assertThat(sync.forcedSince(during.get())).isTrue();
    }

    @Test
    void withoutARedoLogThereIsNoCheckpointAndNoLogToEmpty() {
        assertThat(sync.checkpointDue(Long.MAX_VALUE, 0)).isFalse();
        assertThat(sync.beginCheckpoint()).isFalse();
        assertThat(sync.forceSlotsAndEmptyLog()).isFalse();
    }
}
