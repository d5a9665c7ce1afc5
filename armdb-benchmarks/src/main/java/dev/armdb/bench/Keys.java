package dev.armdb.bench;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The data set every store gets: record {@code i} (0 &lt;= i &lt; n) has a 16-byte key and a 32-byte value derived from
 * {@code i} alone, so a benchmark can make any key again without keeping the key set in memory.
 *
 * <p>Key {@code i} is {@code mix(i)} then {@code i}, both big-endian: {@code mix} is a bijection of the 64-bit numbers,
 * so the keys are unique and spread uniformly over the key space (like hashed or random ids), and the key order
 * (unsigned bytes, as every ordered store here sorts) is the order of {@code mix(i)}.
 */
public final class Keys {
    /** Key size of the engine benchmarks. */
    public static final int KEY_SIZE = 16;
    /** Value size of the engine benchmarks. */
    public static final int VALUE_SIZE = 32;

    private static final VarHandle BE_LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

    private Keys() {}

    /** A bijective 64-bit mixer (the splitmix64 finaliser): distinct inputs give distinct outputs. */
    public static long mix(long x) {
        x = (x ^ (x >>> 30)) * 0xBF58476D1CE4E5B9L;
        x = (x ^ (x >>> 27)) * 0x94D049BB133111EBL;
        return x ^ (x >>> 31);
    }

    /** Writes key {@code i} into {@code dst[0..16)}. */
    public static void key(long i, byte[] dst) {
        BE_LONG.set(dst, 0, mix(i));
        BE_LONG.set(dst, 8, i);
    }

    /** A new array holding key {@code i}. */
    public static byte[] key(long i) {
        byte[] k = new byte[KEY_SIZE];
        key(i, k);
        return k;
    }

    /** Writes key {@code i} at positions 0..16 of {@code dst} (absolute puts; position and limit untouched). */
    public static void key(long i, ByteBuffer dst) {
        dst.order(ByteOrder.BIG_ENDIAN);
        dst.putLong(0, mix(i));
        dst.putLong(8, i);
    }

    /** Writes the value of record {@code i} at write number {@code version} (0 = as loaded) into {@code dst}. */
    public static void value(long i, long version, byte[] dst) {
        BE_LONG.set(dst, 0, i);
        BE_LONG.set(dst, 8, version);
        BE_LONG.set(dst, 16, mix(i ^ (version << 32)));
        BE_LONG.set(dst, 24, ~i);
    }

    /** A new array holding the value of record {@code i} at write number {@code version}. */
    public static byte[] value(long i, long version) {
        byte[] v = new byte[VALUE_SIZE];
        value(i, version, v);
        return v;
    }

    /** Writes the value of record {@code i} at write number {@code version} at positions 0..32 of {@code dst}. */
    public static void value(long i, long version, ByteBuffer dst) {
        dst.order(ByteOrder.BIG_ENDIAN);
        dst.putLong(0, i);
        dst.putLong(8, version);
        dst.putLong(16, mix(i ^ (version << 32)));
        dst.putLong(24, ~i);
    }

    /** The record index stored in a value written by {@link #value}. */
    public static long recordOf(byte[] value) {
        return (long) BE_LONG.get(value, 0);
    }

    /** The write number stored in a value written by {@link #value}. */
    public static long versionOf(byte[] value) {
        return (long) BE_LONG.get(value, 8);
    }
}
