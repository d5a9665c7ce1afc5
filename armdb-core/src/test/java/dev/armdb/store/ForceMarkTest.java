package dev.armdb.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/**
 * {@link Shard#forceMark()} and {@link Shard#forcedSince(long)}: a follower acknowledges a consistent point once a
 * force begun after the point was reached has completed, whoever ran it. So a mark must never count a force that
 * began before it (that force may have read the dirty chunks before the stores it should cover), and a force that
 * completes after the mark must leave everything stored before the mark on disk (checked by a power loss that keeps
 * only forced bytes).
 *
 * <p>Mutation check (done when written, each fails here): {@code forcedSince} comparing {@code >=}; publishing
 * {@code forcesBegun} after the force instead of before it.
 */
class ForceMarkTest {
    private static final int KEY = 8;
    private static final int VALUE = 24;
    private final FixedConfig cfg = FixedConfig.builder()
            .keySize(KEY)
            .valueSize(VALUE)
            .shards(1)
            .durability(Durability.GROUP)
            .growthStepBytes(4096)
            .build();
    private final DbMeta meta = DbMeta.create(cfg);
    private final SimulatedDisk disk = new SimulatedDisk();

    @Test
    void aMarkIsCoveredOnlyByALaterGroupForceAndThatForceMadeItsStoresDurable() {
        Shard replica = CrashStateEnumerationTest.open(disk, meta, cfg, true);
        long before = replica.forceMark();
        replica.forceApplied();
        assertThat(replica.forcedSince(before)).as("a force after the mark").isTrue();
        replica.applyImage(0, image(120, 1), 0);
        long mark = replica.forceMark();
        assertThat(replica.forcedSince(mark))
                .as("the forces completed so far all began before the mark")
                .isFalse();
        replica.forceIfDirty();
        assertThat(replica.forcedSince(mark))
                .as("after the group commit's force")
                .isTrue();
        Shard reopened = CrashStateEnumerationTest.open(disk.powerLossKeepingNothing(), meta, cfg, true);
        assertThat(reopened.readSlotImage(0, new byte[meta.slotSize()], 0))
                .as("the image stored before the mark, after a power loss")
                .isEqualTo(120);
    }

    @Test
    void aForceThatBeganBeforeTheMarkDoesNotCoverIt() {
        Shard replica = CrashStateEnumerationTest.open(disk, meta, cfg, true);
        replica.applyImage(0, image(101, 1), 0);
        AtomicLong mark = new AtomicLong(-1);
        // while the group commit's force is under way: another image, and the mark a follower would take after it
        disk.beforeForce(() -> {
            if (mark.get() < 0) {
                replica.applyImage(1, image(102, 2), 0);
                mark.set(replica.forceMark());
            }
        });
        replica.forceIfDirty();
        assertThat(mark.get()).as("the hook ran").isGreaterThanOrEqualTo(0);
        assertThat(replica.forcedSince(mark.get()))
                .as("the only completed force began before the mark")
                .isFalse();
        replica.forceApplied();
        assertThat(replica.forcedSince(mark.get())).isTrue();
    }

    /**
     * A bulk load is not redo-logged, so the copy's end must force the slot file. Mutation checks: {@code
     * ShardSync.forceNow} ignoring {@code slotFileToo} fails this test; {@code StoreReplicaShard.finishCopy} calling
     * {@code forceApplied} instead of {@code forceCopied} fails the replication simulation (55 of 3,000 seeds: a
     * follower reopened after a power loss without its copy).
     */
    @Test
    void theGroupCommitLeavesABulkLoadUnforcedAndTheCopysEndForcesAllOfIt() {
        Shard replica = CrashStateEnumerationTest.open(disk, meta, cfg, true);
        replica.beginBulkLoad();
        // several chunks of 64 slots (4 KiB growth steps): growth during the load, as in a real first copy
        int slots = 200;
        for (int slot = 0; slot < slots; slot++) {
            replica.applyImage(slot, image(slot + 1, slot), 0);
        }
        long during = replica.forceMark();
        replica.forceIfDirty();
        assertThat(replica.forcedSince(during))
                .as("the group commit during a bulk load (its copy mark empties it after a crash)")
                .isFalse();
        replica.finishBulkLoad();
        long mark = replica.forceMark();
        // the copy's end (before its incomplete mark goes): a bulk load's stores are in the slot file only
        replica.forceCopied();
        assertThat(replica.forcedSince(mark)).as("the force at the copy's end").isTrue();
        Shard reopened = CrashStateEnumerationTest.open(disk.powerLossKeepingNothing(), meta, cfg, true);
        byte[] img = new byte[meta.slotSize()];
        for (int slot = 0; slot < slots; slot++) {
            assertThat(reopened.readSlotImage(slot, img, 0))
                    .as("slot %d of the bulk load, after a power loss", slot)
                    .isEqualTo(slot + 1);
        }
    }

    private static byte[] image(long lsn, int keyByte) {
        int slotSize = SlotLayout.slotSize(KEY, VALUE);
        ByteBuffer b = ByteBuffer.allocate(slotSize).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(SlotLayout.STATE_OFFSET, SlotLayout.stateWord(SlotLayout.LIVE, 2));
        b.putLong(SlotLayout.LSN_OFFSET, lsn);
        b.put(SlotLayout.KEY_OFFSET, (byte) keyByte);
        b.put(SlotLayout.valueOffset(KEY), (byte) lsn);
        byte[] image = b.array();
        CRC32C crc = new CRC32C();
        crc.update(image, 0, SlotLayout.CRC_OFFSET);
        crc.update(image, SlotLayout.LSN_OFFSET, slotSize - SlotLayout.LSN_OFFSET);
        b.putInt(SlotLayout.CRC_OFFSET, (int) crc.getValue());
        return image;
    }
}
