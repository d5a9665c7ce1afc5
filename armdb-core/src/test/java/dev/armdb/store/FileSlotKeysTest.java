package dev.armdb.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Key comparisons against slots ({@link FileSlotKeys}), for key sizes below, at and between multiples of 8 (the
 * comparison goes 8 bytes at a time, then byte by byte): two slots compare equal exactly when every byte of their keys
 * does, whichever byte differs.
 */
class FileSlotKeysTest {
    @Test
    void slotsCompareEqualExactlyWhenEveryKeyByteIs() {
        for (int keySize : new int[] {1, 7, 8, 12, 16, 20, 64}) {
            FixedConfig cfg = FixedConfig.builder()
                    .keySize(keySize)
                    .valueSize(8)
                    .shards(1)
                    .durability(Durability.NONE)
                    .growthStepBytes(4096)
                    .build();
            DbMeta meta = DbMeta.create(cfg);
            ShardFile file = ShardFile.open(
                    Path.of("sim"),
                    meta,
                    0,
                    ShardFile.chunkShiftFor(cfg.growthStepBytes(), meta.slotSize()),
                    1024,
                    false,
                    new SimulatedDisk().opener(),
                    new FailStop());
            SlotWriter writer = new SlotWriter(file, keySize, 8, meta.slotSize(), null);
            FileSlotKeys keys = new FileSlotKeys(file, keySize);
            byte[] key = new byte[keySize];
            for (int i = 0; i < keySize; i++) {
                key[i] = (byte) (31 * i + keySize);
            }
            writer.write(0, SlotLayout.LIVE, 1, key, new byte[8]);
            writer.write(1, SlotLayout.LIVE, 2, key.clone(), new byte[8]);
            assertThat(keys.keysEqual(0, 1))
                    .as("key size %d, same key", keySize)
                    .isTrue();
            assertThat(keys.keyEquals(1, key)).isTrue();
            for (int at = 0; at < keySize; at++) {
                byte[] other = key.clone();
                other[at] ^= (byte) 0x80;
                writer.write(2, SlotLayout.LIVE, 3 + at, other, new byte[8]);
                assertThat(keys.keysEqual(0, 2))
                        .as("key size %d, byte %d differs", keySize, at)
                        .isFalse();
                assertThat(keys.keysEqual(2, 0)).isFalse();
                assertThat(keys.keyEquals(2, key)).isFalse();
            }
        }
    }
}
