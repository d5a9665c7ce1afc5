package dev.armdb;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FixedMapBasicsTest {
    @TempDir
    Path dir;

    private static byte[] bytes(int size, int seed) {
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) {
            b[i] = (byte) (seed * 31 + i);
        }
        for (int i = 0; i < 4 && i < size; i++) {
            b[i] = (byte) (seed >>> (8 * i));
        }
        return b;
    }

    @Test
    void storedConfigReopensWithOtherRunTimeSettings() {
        FixedConfig created = FixedConfig.builder()
                .keySize(12)
                .valueSize(20)
                .shards(3)
                .durability(Durability.NONE)
                .build();
        try (FixedMap map = FixedMap.open(dir, created)) {
            map.put(bytes(12, 1), bytes(20, 1));
            FixedConfig stored = FixedMap.storedConfig(dir);
            assertThat(stored.keySize()).isEqualTo(12);
            assertThat(stored.valueSize()).isEqualTo(20);
            assertThat(stored.shards()).isEqualTo(3);
        }
        FixedConfig reopened = FixedMap.storedConfig(dir).toBuilder()
                .durability(Durability.SYNC)
                .groupInterval(java.time.Duration.ofSeconds(1))
                .build();
        try (FixedMap map = FixedMap.open(dir, reopened)) {
            assertThat(map.config().durability()).isEqualTo(Durability.SYNC);
            assertThat(map.get(bytes(12, 1))).isEqualTo(bytes(20, 1));
        }
    }

    @Test
    void putGetUpdateDeleteSurviveReopen() {
        FixedConfig cfg = FixedConfig.builder()
                .keySize(16)
                .valueSize(32)
                .shards(4)
                .durability(Durability.SYNC)
                .growthStepBytes(4096)
                .build();
        try (FixedMap map = FixedMap.open(dir, cfg)) {
            for (int i = 0; i < 1000; i++) {
                assertThat(map.put(bytes(16, i), bytes(32, i))).isPositive();
            }
            for (int i = 0; i < 1000; i += 2) {
                map.put(bytes(16, i), bytes(32, i + 7));
            }
            for (int i = 0; i < 1000; i += 3) {
                assertThat(map.delete(bytes(16, i))).isPositive();
            }
            assertThat(map.size()).isEqualTo(1000 - 334);
        }
        try (FixedMap map = FixedMap.open(dir)) {
            assertThat(map.size()).isEqualTo(1000 - 334);
            for (int i = 0; i < 1000; i++) {
                byte[] v = map.get(bytes(16, i));
                if (i % 3 == 0) {
                    assertThat(v).as("key %d", i).isNull();
                } else if (i % 2 == 0) {
                    assertThat(v).as("key %d", i).isEqualTo(bytes(32, i + 7));
                } else {
                    assertThat(v).as("key %d", i).isEqualTo(bytes(32, i));
                }
            }
            int[] count = {0};
            map.forEach((k, v) -> count[0]++);
            assertThat(count[0]).isEqualTo(1000 - 334);
            assertThat(map.stats().corruptSlots()).isZero();
        }
    }
}
