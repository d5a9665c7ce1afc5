package dev.armdb.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.FixedConfig;
import dev.armdb.index.KeyHash;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Shard#touchSlots}, which a leader's stream calls on the slots it polled from the change feed before reading
 * their images: it loads exactly the first and the last word of every slot named inside the file, and skips ids
 * outside it (negative, or past the mapped capacity) instead of failing, whatever order and repetitions the ids come
 * in. Mutation check (2026-12-05): {@code SlotReader.touch} without its bounds check fails the test. The expected sum
 * is computed from the images {@link Shard#readSlotImage} copies of the same slots, after a flush, so that no
 * background force changes a slot in between. Seeded.
 */
class TouchSlotsTest {
    @TempDir
    Path dir;

    @Test
    void touchLoadsTheSlotsInsideTheFileAndSkipsTheRest() {
        long seed = System.nanoTime();
        System.out.println("TouchSlotsTest seed " + seed);
        SplittableRandom rnd = new SplittableRandom(seed);
        FixedConfig cfg = FixedConfig.builder()
                .keySize(8)
                .valueSize(24)
                .shards(1)
                .growthStepBytes(4096)
                .build();
        try (Store store = Store.open(dir, cfg)) {
            Shard shard = store.shard(0);
            for (int i = 0; i < 500; i++) {
                byte[] key = ByteBuffer.allocate(8).putLong(rnd.nextLong(200)).array();
                shard.put(key, KeyHash.hash(key), new byte[24]);
            }
            // settles every retirement now: the background group commit releases superseded copies (rewriting their
            // state words) at its next force, which would otherwise land between the expected sums and the touches
            shard.flush();
            int written = shard.slotCount();
            int slotSize = shard.slotSize();
            int[] slots = new int[256];
            long expected = 0;
            byte[] image = new byte[slotSize];
            ByteBuffer words = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < slots.length; i++) {
                slots[i] = switch (rnd.nextInt(5)) {
                    case 0 -> -1 - rnd.nextInt(1000);
                    case 1 -> (1 << 30) + rnd.nextInt(1000);
                    // past the high water: zeros whether still inside the mapped file or not
                    case 2 -> written + rnd.nextInt(64);
                    default -> rnd.nextInt(written);
                };
                if (slots[i] >= 0 && slots[i] < written) {
                    shard.readSlotImage(slots[i], image, 0);
                    expected += words.getInt(0) + words.getInt(slotSize - Integer.BYTES);
                }
            }
            int count = 1 + rnd.nextInt(slots.length);
            long expectedPrefix = 0;
            for (int i = 0; i < count; i++) {
                if (slots[i] >= 0 && slots[i] < written) {
                    shard.readSlotImage(slots[i], image, 0);
                    expectedPrefix += words.getInt(0) + words.getInt(slotSize - Integer.BYTES);
                }
            }
            assertThat(shard.touchSlots(slots, slots.length))
                    .as("all %d ids", slots.length)
                    .isEqualTo(expected);
            assertThat(shard.touchSlots(slots, count))
                    .as("the first %d ids only", count)
                    .isEqualTo(expectedPrefix);
            assertThat(shard.touchSlots(slots, 0)).isZero();
        }
    }
}
