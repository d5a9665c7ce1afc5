package dev.armdb.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.FixedMap;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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

    @TempDir
    Path dir;

    @Test
    void forceAppliedForcesLowerLsnImagesAppliedAfterAHigherOneWasForced() throws Exception {
        FixedConfig cfg = FixedConfig.builder()
                .keySize(KEY)
                .valueSize(VALUE)
                .shards(1)
                .durability(Durability.SYNC)
                .growthStepBytes(4096)
                .build();
        try (FixedMap follower = FixedMap.open(dir, cfg)) {
            Store store = follower.engine();
            store.replica(true);
            store.persistReplicaMark();
            Shard shard = store.shard(0);
            // a scan image newer than the position the follower is heading for, forced by an ack
            shard.applyImage(1, image(SlotLayout.LIVE, 120, 2), 0);
            shard.forceApplied();
            assertThat(dirtyChunks(shard)).as("after the first force").isZero();
            // the feed then replays LSN 101..119; one of them lands in slot 0
            assertThat(shard.applyImage(0, image(SlotLayout.LIVE, 101, 1), 0)).isTrue();
            // the follower is now at a consistent point (120) and forces before recording and acknowledging it
            shard.forceApplied();
            assertThat(dirtyChunks(shard))
                    .as("chunks changed since the last force but not forced before the follower records LSN 120")
                    .isZero();
        }
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

    /** Number of chunks marked dirty (written since their last force). */
    private static int dirtyChunks(Shard shard) throws Exception {
        Field f = Shard.class.getDeclaredField("file");
        f.setAccessible(true);
        ShardFile file = (ShardFile) f.get(shard);
        Field d = ShardFile.class.getDeclaredField("dirtyChunks");
        d.setAccessible(true);
        int n = 0;
        for (long w : (long[]) d.get(file)) {
            n += Long.bitCount(w);
        }
        return n;
    }
}
