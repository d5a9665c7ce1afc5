package dev.armdb.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.index.HashIndex;
import dev.armdb.index.KeyHash;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The reader's half of the slot seqlock against the writer's ({@link SlotWriter}), on a simulated file and one
 * thread: every store a publish makes is a boundary of the simulated disk, and a read there must either retry or
 * copy one whole image, never a mix.
 *
 * <p>Mutation check (done when written, each fails here): {@link SlotReader#readValue} without its odd-version check;
 * {@link SlotReader#readImage} returning the LSN of a slot whose CRC fails.
 */
class SlotReaderTest {
    private static final int KEY = 8;
    private static final int VALUE = 24;
    private final FixedConfig cfg = FixedConfig.builder()
            .keySize(KEY)
            .valueSize(VALUE)
            .shards(1)
            .durability(Durability.NONE)
            .growthStepBytes(4096)
            .build();
    private final DbMeta meta = DbMeta.create(cfg);
    private final int slotSize = meta.slotSize();
    private final SimulatedDisk disk = new SimulatedDisk();
    private final ShardFile file = ShardFile.open(
            Path.of("sim"),
            meta,
            0,
            ShardFile.chunkShiftFor(cfg.growthStepBytes(), slotSize),
            1024,
            false,
            disk.opener(),
            new FailStop());
    private final SlotWriter writer = new SlotWriter(file, KEY, VALUE, slotSize, null);
    private final SlotReader reader = new SlotReader(file, KEY, VALUE, slotSize);

    @Test
    void aFinishedImageReadsWholeItsTombstoneReadsAbsentAndAnotherKeyRetries() {
        byte[] out = new byte[VALUE];
        writer.write(3, SlotLayout.LIVE, 7, key(1), value(1));
        assertThat(reader.readValue(3, key(1), out)).isEqualTo(SlotReader.FOUND);
        assertThat(out).isEqualTo(value(1));
        assertThat(reader.probe(3, key(1))).isEqualTo(SlotReader.FOUND);
        assertThat(reader.readValue(3, key(2), out)).isEqualTo(SlotReader.RETRY);
        assertThat(reader.probe(3, key(2))).isEqualTo(SlotReader.RETRY);
        assertThat(reader.readImage(3, new byte[slotSize], 0)).isEqualTo(7);

        writer.write(3, SlotLayout.DELETED, 8, key(1), new byte[VALUE]);
        assertThat(reader.readValue(3, key(1), out)).isEqualTo(SlotReader.ABSENT);
        assertThat(reader.probe(3, key(1))).isEqualTo(SlotReader.ABSENT);
        assertThat(reader.readImage(3, new byte[slotSize], 0)).isEqualTo(8);
        assertThat(reader.statusAt(3)).isEqualTo(SlotLayout.DELETED);
        assertThat(reader.lsnAt(3)).isEqualTo(8);
        assertThat(reader.keyAt(3)).isEqualTo(key(1));
    }

    @Test
    void atEveryStoreOfAPublishAReaderRetriesUntilTheNewImageIsWhole() {
        writer.write(0, SlotLayout.LIVE, 1, key(1), value(1));
        List<String> seen = new ArrayList<>();
        disk.onBoundary(what -> {
            byte[] out = new byte[VALUE];
            int read = reader.readValue(0, key(1), out);
            byte[] image = new byte[slotSize];
            long lsn = reader.readImage(0, image, 0);
            seen.add(name(read, out) + "/" + (lsn == SlotReader.UNSTABLE ? "unstable" : "lsn " + lsn));
        });
        writer.write(0, SlotLayout.LIVE, 2, key(1), value(2));
        disk.onBoundary(what -> {});
        // odd version stored; image copied under the odd version; even version stored
        assertThat(seen).containsExactly("retry/unstable", "retry/unstable", "value 2/lsn 2");
    }

    @Test
    void aSlotLeftOddIsUnstableAndItsLockedCopyReadsTorn() {
        writer.write(5, SlotLayout.LIVE, 9, key(1), value(1));
        int word = reader.stateWordAt(5);
        SlotLayout.STATE_WORD.setRelease(
                file.segment(5),
                file.offset(5),
                SlotLayout.stateWord(SlotLayout.status(word), SlotLayout.version(word) | 1));
        byte[] image = new byte[slotSize];
        assertThat(reader.readValue(5, key(1), new byte[VALUE])).isEqualTo(SlotReader.RETRY);
        assertThat(reader.readImage(5, image, 0)).isEqualTo(SlotReader.UNSTABLE);
        reader.copyImage(5, image, 0);
        assertThat(reader.imageLsn(image, 0))
                .as("an odd version is a torn slot")
                .isEqualTo(-1);
    }

    @Test
    void anEmptySlotReadsZeroAndACorruptOneMinusOne() {
        byte[] image = new byte[slotSize];
        assertThat(reader.readImage(6, image, 0)).isZero();
        reader.copyImage(6, image, 0);
        assertThat(reader.imageLsn(image, 0)).isZero();

        writer.write(6, SlotLayout.LIVE, 4, key(1), value(1));
        long valueAt = file.offset(6) + SlotLayout.valueOffset(KEY);
        byte b = file.segment(6).get(ValueLayout.JAVA_BYTE, valueAt);
        file.segment(6).set(ValueLayout.JAVA_BYTE, valueAt, (byte) (b ^ 1));
        assertThat(reader.readImage(6, image, 0)).isEqualTo(-1);
    }

    @Test
    void aHintReadsOnlyWhileTheIndexHoldsTheSlotAndItHoldsTheKeyLive() {
        HashIndex index = new HashIndex(new FileSlotKeys(file, KEY));
        byte[] keys = new byte[3 * KEY];
        System.arraycopy(key(1), 0, keys, KEY, KEY);
        byte[] out = new byte[VALUE];
        writer.write(2, SlotLayout.LIVE, 3, key(1), value(3));
        assertThat(reader.readIfIndexed(index, 2, keys, KEY, out))
                .as("not indexed")
                .isFalse();
        index.insert(KeyHash.hash(key(1)), 2);
        assertThat(reader.readIfIndexed(index, 2, keys, KEY, out)).isTrue();
        assertThat(out).isEqualTo(value(3));
        assertThat(reader.readIfIndexed(index, 2, keys, 0, out))
                .as("another key")
                .isFalse();
        writer.write(2, SlotLayout.DELETED, 4, key(1), new byte[VALUE]);
        assertThat(reader.readIfIndexed(index, 2, keys, KEY, out))
                .as("a tombstone")
                .isFalse();
    }

    @Test
    void plainReadsCompareAndCopyTheValue() {
        writer.write(1, SlotLayout.LIVE, 2, key(4), value(5));
        assertThat(reader.valueEquals(1, value(5))).isTrue();
        assertThat(reader.valueEquals(1, value(6))).isFalse();
        byte[] out = new byte[VALUE];
        reader.copyValue(1, out);
        assertThat(out).isEqualTo(value(5));
    }

    private static String name(int read, byte[] out) {
        return switch (read) {
            case SlotReader.FOUND -> Arrays.equals(out, value(out[0])) ? "value " + out[0] : "mixed";
            case SlotReader.ABSENT -> "absent";
            default -> "retry";
        };
    }

    private static byte[] key(int k) {
        byte[] key = new byte[KEY];
        key[0] = (byte) k;
        key[KEY - 1] = (byte) ~k;
        return key;
    }

    /** Every byte is {@code v}: a mix of two values shows as a value with two different bytes. */
    private static byte[] value(int v) {
        byte[] value = new byte[VALUE];
        Arrays.fill(value, (byte) v);
        return value;
    }
}
