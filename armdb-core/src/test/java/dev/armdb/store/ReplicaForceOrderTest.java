package dev.armdb.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/**
 * A follower forces every slot it changed since its last force, whatever the LSN order of the images, before it
 * records or acknowledges anything (DESIGN, consistent points rule 3). Images arrive out of LSN order (a scan, or a
 * feed entry whose slot changed again before it was read); {@link Shard#forceApplied()} is {@code syncTo(lastLsn())},
 * and {@code syncTo} returns at once when {@code durableLsn >= lsn}. So once an image with a high LSN has been forced
 * (the follower forces on every ack in SYNC, and at every group force), images applied later with lower LSNs are
 * never forced by it: the follower then records and acknowledges the consistent point while those slots are only in
 * the page cache, and a power loss loses writes a WAIT counted. Failed while syncTo compared LSNs: the chunk stayed dirty.
 */
class ReplicaForceOrderTest {
    private static final int KEY = 8;
    private static final int VALUE = 24;

    @Test
    void forceAppliedForcesLowerLsnImagesAppliedAfterAHigherOneWasForced() {
        FixedConfig cfg = FixedConfig.builder()
                .keySize(KEY)
                .valueSize(VALUE)
                .shards(1)
                .durability(Durability.SYNC)
                .growthStepBytes(4096)
                .build();
        DbMeta meta = DbMeta.create(cfg);
        SimulatedDisk disk = new SimulatedDisk();
        Shard shard = CrashStateEnumerationTest.open(disk, meta, cfg, true);
        // a scan image newer than the position the follower is heading for, forced by an ack
        shard.applyImage(1, image(SlotLayout.LIVE, 120, 2), 0);
        shard.forceApplied();
        // the feed then replays LSN 101..119; one of them lands in slot 0
        assertThat(shard.applyImage(0, image(SlotLayout.LIVE, 101, 1), 0)).isTrue();
        // the follower is now at a consistent point (120) and forces before recording and acknowledging it
        shard.forceApplied();
        shard.abandon();
        Shard reopened = CrashStateEnumerationTest.open(disk.powerLossKeepingNothing(), meta, cfg, true);
        byte[] out = new byte[meta.slotSize()];
        assertThat(reopened.readSlotImage(0, out, 0))
                .as("the image applied after a higher LSN was forced, after a power loss")
                .isEqualTo(101);
        assertThat(reopened.readSlotImage(1, out, 0)).isEqualTo(120);
        reopened.abandon();
    }

    private static byte[] image(int status, long lsn, int keyByte) {
        int slotSize = SlotLayout.slotSize(KEY, VALUE);
        ByteBuffer b = ByteBuffer.allocate(slotSize).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(SlotLayout.STATE_OFFSET, SlotLayout.stateWord(status, 2));
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
