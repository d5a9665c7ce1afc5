package dev.armdb.bench;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The record numbering every store shares: record {@code i} has a key and a value derived from {@code i} alone (see
 * {@link Shape}), so a benchmark can make any key again without keeping the key set in memory.
 *
 * <p>Keys start with {@code mix(i)} big-endian: {@code mix} is a bijection of the 64-bit numbers, so keys are unique
 * and spread uniformly over the key space (like hashed or random ids), and key order (unsigned bytes, as every
 * ordered store here sorts) is the unsigned order of {@code mix(i)}. {@link #unmix} inverts it, which lets
 * {@link KeyOrder} list records in key order without a table of keys.
 */
public final class Keys {
    private static final long M1 = 0xBF58476D1CE4E5B9L;
    private static final long M2 = 0x94D049BB133111EBL;
    private static final long M1_INVERSE = inverse(M1);
    private static final long M2_INVERSE = inverse(M2);
    private static final VarHandle BE_LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

    private Keys() {}

    /** A bijective 64-bit mixer (the splitmix64 finaliser): distinct inputs give distinct outputs. */
    public static long mix(long x) {
        x = (x ^ (x >>> 30)) * M1;
        x = (x ^ (x >>> 27)) * M2;
        return x ^ (x >>> 31);
    }

    /** The inverse of {@link #mix}: {@code unmix(mix(x)) == x} for every {@code x}. */
    public static long unmix(long x) {
        x = x ^ (x >>> 31) ^ (x >>> 62);
        x *= M2_INVERSE;
        x = x ^ (x >>> 27) ^ (x >>> 54);
        x *= M1_INVERSE;
        return x ^ (x >>> 30) ^ (x >>> 60);
    }

    /** The multiplicative inverse of an odd number modulo 2^64 (Newton's iteration doubles the correct bits). */
    private static long inverse(long odd) {
        long x = odd;
        for (int i = 0; i < 5; i++) {
            x *= 2 - odd * x;
        }
        return x;
    }

    /** The record index stored in a value written by {@link Shape#value}. */
    public static long recordOf(byte[] value) {
        return (long) BE_LONG.get(value, 0);
    }

    /** The write number stored in a value written by {@link Shape#value}. */
    public static long versionOf(byte[] value) {
        return (long) BE_LONG.get(value, 8);
    }
}
