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
                assertThat(map.delete(bytes(16, i))).isTrue();
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
