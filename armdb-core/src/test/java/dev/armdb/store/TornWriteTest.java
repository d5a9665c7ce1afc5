package dev.armdb.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.FixedMap;
import dev.armdb.Verifier;
import dev.armdb.VerifyReport;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A crash mid-copy of a key's newest slot must leave the key's previous value, and be reported. */
class TornWriteTest {
    private static final int KEY = 16;
    private static final int VALUE = 32;
    private static final int SLOT = SlotLayout.slotSize(KEY, VALUE);

    @TempDir
    Path dir;

    private static byte[] filled(int size, int b) {
        byte[] a = new byte[size];
        java.util.Arrays.fill(a, (byte) b);
        return a;
    }

    private FixedConfig config() {
        return FixedConfig.builder()
                .keySize(KEY)
                .valueSize(VALUE)
                .shards(1)
                .durability(Durability.SYNC)
                .growthStepBytes(4096)
                .build();
    }

    /** Writes a slot image for {@code key} at {@code slot} as a writer would, then returns its file offset. */
    private long writeNewestSlot(int slot, long lsn, int version, byte[] key, byte[] value) throws IOException {
        ByteBuffer img = ByteBuffer.allocate(SLOT).order(ByteOrder.LITTLE_ENDIAN);
        img.putInt(SlotLayout.STATE_OFFSET, SlotLayout.stateWord(SlotLayout.LIVE, version));
        img.putLong(SlotLayout.LSN_OFFSET, lsn);
        img.put(SlotLayout.KEY_OFFSET, key);
        img.put(SlotLayout.valueOffset(KEY), value);
        CRC32C crc = new CRC32C();
        crc.update(img.array(), 0, SlotLayout.CRC_OFFSET);
        crc.update(img.array(), SlotLayout.LSN_OFFSET, SLOT - SlotLayout.LSN_OFFSET);
        img.putInt(SlotLayout.CRC_OFFSET, (int) crc.getValue());
        long at = ShardFileLayout.slotOffset(slot, SLOT);
        try (FileChannel ch = FileChannel.open(dir.resolve(ShardFileLayout.fileName(0)), StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(img.array()), at);
        }
        return at;
    }

    private void flipByte(long at) throws IOException {
        try (FileChannel ch = FileChannel.open(
                dir.resolve(ShardFileLayout.fileName(0)), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            ch.read(one, at);
            one.put(0, (byte) (one.get(0) ^ 0x5A));
            one.rewind();
            ch.write(one, at);
        }
    }

    @Test
    void tornNewestSlotFallsBackToPreviousValueAndIsReported() throws IOException {
        byte[] key = filled(KEY, 7);
        byte[] v1 = filled(VALUE, 1);
        long maxLsn;
        int firstFree;
        try (FixedMap map = FixedMap.open(dir, config())) {
            for (int i = 0; i < 10; i++) {
                map.put(filled(KEY, 100 + i), filled(VALUE, i));
            }
            map.put(key, v1);
            maxLsn = map.stats().shards().getFirst().maxLsn();
            firstFree = (int) (map.stats().shards().getFirst().capacitySlots()
                    - map.stats().shards().getFirst().freeSlots());
        }
        // the crash: the new value's slot was being copied when the power went; its bytes no longer match
        long at = writeNewestSlot(firstFree, maxLsn + 1, 2, key, filled(VALUE, 2));
        flipByte(at + SlotLayout.valueOffset(KEY) + 5);

        try (FixedMap map = FixedMap.open(dir, config())) {
            assertThat(map.get(key)).isEqualTo(v1);
            assertThat(map.stats().corruptSlots()).isEqualTo(1);
            assertThat(map.size()).isEqualTo(11);
        }
        VerifyReport report = Verifier.verify(dir);
        assertThat(report.clean()).isFalse();
        assertThat(report.shards().getFirst().corruptSlots()).containsExactly(firstFree);
        assertThat(report.shards().getFirst().liveKeys()).isEqualTo(11);
    }

    @Test
    void interruptedWriteIsDiscardedNotCorrupt() throws IOException {
        byte[] key = filled(KEY, 9);
        byte[] v1 = filled(VALUE, 1);
        long maxLsn;
        try (FixedMap map = FixedMap.open(dir, config())) {
            map.put(key, v1);
            maxLsn = map.stats().shards().getFirst().maxLsn();
        }
        // odd version: the writer had started (version made odd first) when the process died
        writeNewestSlot(1, maxLsn + 1, 3, key, filled(VALUE, 2));

        try (FixedMap map = FixedMap.open(dir, config())) {
            assertThat(map.get(key)).isEqualTo(v1);
            assertThat(map.stats().corruptSlots()).isZero();
            assertThat(map.stats().incompleteSlots()).isEqualTo(1);
            map.put(key, filled(VALUE, 3));
        }
        try (FixedMap map = FixedMap.open(dir, config())) {
            assertThat(map.get(key)).isEqualTo(filled(VALUE, 3));
            assertThat(map.stats().incompleteSlots()).isZero();
        }
        assertThat(Verifier.verify(dir).clean()).isTrue();
    }

    @Test
    void olderLiveCopyLeftByCrashLosesToNewerByLsn() throws IOException {
        byte[] key = filled(KEY, 11);
        long maxLsn;
        try (FixedMap map = FixedMap.open(dir, config())) {
            map.put(key, filled(VALUE, 1));
            maxLsn = map.stats().shards().getFirst().maxLsn();
        }
        // an update whose new slot is whole but whose old slot was never released (crash between the two)
        writeNewestSlot(1, maxLsn + 1, 2, key, filled(VALUE, 2));
        try (FixedMap map = FixedMap.open(dir, config())) {
            assertThat(map.get(key)).isEqualTo(filled(VALUE, 2));
            assertThat(map.size()).isEqualTo(1);
            assertThat(map.stats().shards().getFirst().maxLsn()).isGreaterThan(maxLsn + 1);
            map.delete(key);
        }
        try (FixedMap map = FixedMap.open(dir, config())) {
            assertThat(map.get(key)).isNull();
            assertThat(map.size()).isZero();
        }
    }
}
