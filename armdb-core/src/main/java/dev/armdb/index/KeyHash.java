package dev.armdb.index;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The 64-bit hash of a key, identical whether the key sits in a {@code byte[]} or in a mapped slot. Part of the
 * on-disk contract (it routes keys to shards), so a golden test pins its values.
 *
 * <p>Eight bytes at a time, little-endian, each word multiplied and rotated into the state, with a final
 * avalanche; the tail is packed into one last word. Stateless and allocation-free; safe for any thread.
 */
public final class KeyHash {
    private static final long SEED = 0x9E37_79B9_7F4A_7C15L;
    private static final long M1 = 0xC2B2_AE3D_27D4_EB4FL;
    private static final long M2 = 0x1656_67B1_9E37_79F9L;
    private static final VarHandle LONG_LE_ARRAY =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG_LE_UNALIGNED =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private KeyHash() {}

    /** Hash of a whole array. */
    public static long hash(byte[] key) {
        return hash(key, 0, key.length);
    }

    /** Hash of {@code len} bytes of {@code buf} from {@code offset}; equal to {@link #hash(byte[])} of a copy. */
    public static long hash(byte[] buf, int offset, int len) {
        long h = SEED ^ (len * M1);
        int i = 0;
        for (; i + 8 <= len; i += 8) {
            h = mix(h, (long) LONG_LE_ARRAY.get(buf, offset + i));
        }
        if (i < len) {
            long tail = 0;
            for (int j = 0; i + j < len; j++) {
                tail |= (buf[offset + i + j] & 0xFFL) << (8 * j);
            }
            h = mix(h, tail);
        }
        return avalanche(h);
    }

    /** Hash of {@code len} bytes of a segment from {@code offset}; equal to {@link #hash(byte[])} of a copy. */
    public static long hash(MemorySegment seg, long offset, int len) {
        long h = SEED ^ (len * M1);
        int i = 0;
        for (; i + 8 <= len; i += 8) {
            h = mix(h, seg.get(LONG_LE_UNALIGNED, offset + i));
        }
        if (i < len) {
            long tail = 0;
            for (int j = 0; i + j < len; j++) {
                tail |= (seg.get(ValueLayout.JAVA_BYTE, offset + i + j) & 0xFFL) << (8 * j);
            }
            h = mix(h, tail);
        }
        return avalanche(h);
    }

    private static long mix(long h, long word) {
        long k = Long.rotateLeft(word * M1, 31) * M2;
        return Long.rotateLeft(h ^ k, 27) * 5 + 0x52DC_E729L;
    }

    private static long avalanche(long h) {
        h ^= h >>> 33;
        h *= 0xFF51_AFD7_ED55_8CCDL;
        h ^= h >>> 33;
        h *= 0xC4CE_B9FE_1A85_EC53L;
        return h ^ (h >>> 33);
    }
}
