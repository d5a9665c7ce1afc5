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

    /** Each payload follows its key through the sort; of duplicates, the first one's payload is kept. */
    @Test
    void payloadsFollowTheirKeys() {
        long seed = Long.getLong("armdb.seed", System.nanoTime());
        System.out.println("KeySorterTest payload seed " + seed);
        Random rnd = new Random(seed);
        int n = 30_000;
        byte[][] keys = new byte[n][];
        long[] payload = new long[n];
        java.util.TreeMap<byte[], Long> expected = new java.util.TreeMap<>(Arrays::compareUnsigned);
        for (int i = 0; i < n; i++) {
            byte[] k = new byte[12];
            rnd.nextBytes(k);
            if (i % 3 == 0) {
                Arrays.fill(k, 0, 9, (byte) 7);
                k[9] = (byte) rnd.nextInt(4);
            }
            keys[i] = k;
            payload[i] = rnd.nextLong();
            expected.putIfAbsent(k, payload[i]);
        }
        int distinct = KeySorter.sortDistinct(keys, payload, n);
        assertThat(distinct).isEqualTo(expected.size());
        int i = 0;
        for (var e : expected.entrySet()) {
            assertThat(keys[i]).as("seed %d position %d", seed, i).isEqualTo(e.getKey());
            assertThat(payload[i]).as("seed %d position %d", seed, i).isEqualTo(e.getValue());
            i++;
        }
    }
}
