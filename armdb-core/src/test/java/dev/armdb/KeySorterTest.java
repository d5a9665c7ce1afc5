package dev.armdb;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The open-time key sort against a comparison sort, on random keys with shared prefixes and duplicates. */
class KeySorterTest {
    @Test
    void sortsLikeUnsignedLexicographicOrderAndDropsDuplicates() {
        long seed = System.nanoTime();
        System.out.println("KeySorterTest seed " + seed);
        Random rnd = new Random(seed);
        for (int keySize : new int[] {1, 3, 8, 9, 16, 40}) {
            List<byte[]> keys = new ArrayList<>();
            TreeSet<byte[]> expected = new TreeSet<>(Arrays::compareUnsigned);
            byte[] shared = new byte[keySize];
            rnd.nextBytes(shared);
            for (int i = 0; i < 20_000; i++) {
                byte[] k = new byte[keySize];
                rnd.nextBytes(k);
                if (i % 3 == 0) {
                    // a long common prefix: ties on the first 8 bytes go to the comparison pass
                    System.arraycopy(shared, 0, k, 0, Math.max(0, keySize - 1));
                }
                if (i % 7 == 0) {
                    k[0] = (byte) (i % 2 == 0 ? 0x00 : 0xFF);
                }
                keys.add(k);
                expected.add(k);
                if (i % 11 == 0) {
                    keys.add(k.clone());
                }
            }
            byte[][] sorted = KeySorter.sortedDistinct(keys);
            assertThat(keys).isEmpty();
            assertThat(sorted).as("key size %d, seed %d", keySize, seed).isDeepEqualTo(expected.toArray(new byte[0][]));
        }
    }

    @Test
    void emptyAndSingleInputs() {
        assertThat(KeySorter.sortedDistinct(new ArrayList<>())).isEmpty();
        List<byte[]> one = new ArrayList<>(List.of(new byte[] {5}));
        assertThat(KeySorter.sortedDistinct(one)).isDeepEqualTo(new byte[][] {{5}});
    }
}
