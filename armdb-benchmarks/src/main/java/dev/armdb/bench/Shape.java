package dev.armdb.bench;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

/**
 * A record shape of the engine benchmarks (the JMH parameter {@code shape}): key and value sizes, and how record
 * {@code i}'s key and value are made.
 *
 * <ul>
 *   <li>{@code 16x32}: key {@code mix(i) ‖ i}, value {@code i ‖ version ‖ mix(i ^ version << 32) ‖ ~i};
 *   <li>{@code 8x256}: key {@code mix(i)}, value the same 32-byte head followed by 224 bytes of filler.
 * </ul>
 *
 * All numbers are big-endian. The filler of record {@code i} is a window of a fixed table of random bytes at an
 * offset taken from {@code mix(~i)} (not from the key, so neighbours in key order do not share filler): incompressible like a feature vector or an encrypted blob (a constant filler
 * would flatter compressing stores), yet made by one array copy, so building a value in a measured put costs little.
 */
public record Shape(String name, int keySize, int valueSize) {
    /** 16-byte keys, 32-byte values. */
    public static final Shape K16_V32 = new Shape("16x32", 16, 32);
    /** 8-byte keys, 256-byte values. */
    public static final Shape K8_V256 = new Shape("8x256", 8, 256);
    /** Bytes of a value that carry record, version and check words; the rest is filler. */
    public static final int HEAD = 32;

    private static final VarHandle BE_LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);
    private static final int FILLER_TABLE = 1 << 20;
    private static final byte[] FILLER = filler();

    /** Checks the sizes this class can fill. */
    public Shape {
        if ((keySize != 8 && keySize != 16) || valueSize < HEAD) {
            throw new IllegalArgumentException(
                    "shape needs an 8- or 16-byte key and a value of at least " + HEAD + " bytes, got " + name);
        }
    }

    /** The shape named {@code KEYxVALUE}, e.g. {@code 16x32}. */
    public static Shape of(String name) {
        String[] parts = name.split("x");
        if (parts.length != 2) {
            throw new IllegalArgumentException("shape must be KEYxVALUE bytes such as 16x32, got " + name);
        }
        return new Shape(name, Integer.parseInt(parts[0]), Integer.parseInt(parts[1]));
    }

    private static byte[] filler() {
        byte[] b = new byte[FILLER_TABLE];
        new SplittableRandom(0x5EED).nextBytes(b);
        return b;
    }

    /** Bytes of key plus value. */
    public int recordBytes() {
        return keySize + valueSize;
    }

    /** Writes key {@code i} into {@code dst[0..keySize)}. */
    public void key(long i, byte[] dst) {
        BE_LONG.set(dst, 0, Keys.mix(i));
        if (keySize == 16) {
            BE_LONG.set(dst, 8, i);
        }
    }

    /** A new array holding key {@code i}. */
    public byte[] key(long i) {
        byte[] k = new byte[keySize];
        key(i, k);
        return k;
    }

    /** Writes key {@code i} at positions {@code 0..keySize} of {@code dst} (absolute puts). */
    public void key(long i, ByteBuffer dst) {
        dst.order(ByteOrder.BIG_ENDIAN);
        dst.putLong(0, Keys.mix(i));
        if (keySize == 16) {
            dst.putLong(8, i);
        }
    }

    /** Writes the value of record {@code i} at write number {@code version} (0 = as loaded) into {@code dst}. */
    public void value(long i, long version, byte[] dst) {
        BE_LONG.set(dst, 0, i);
        BE_LONG.set(dst, 8, version);
        BE_LONG.set(dst, 16, Keys.mix(i ^ (version << 32)));
        BE_LONG.set(dst, 24, ~i);
        if (valueSize > HEAD) {
            System.arraycopy(FILLER, fillerOffset(i), dst, HEAD, valueSize - HEAD);
        }
    }

    /** A new array holding the value of record {@code i} at write number {@code version}. */
    public byte[] value(long i, long version) {
        byte[] v = new byte[valueSize];
        value(i, version, v);
        return v;
    }

    /** Writes the value of record {@code i} at {@code version} at positions {@code 0..valueSize} of {@code dst}. */
    public void value(long i, long version, ByteBuffer dst) {
        dst.order(ByteOrder.BIG_ENDIAN);
        dst.putLong(0, i);
        dst.putLong(8, version);
        dst.putLong(16, Keys.mix(i ^ (version << 32)));
        dst.putLong(24, ~i);
        if (valueSize > HEAD) {
            dst.put(HEAD, FILLER, fillerOffset(i), valueSize - HEAD);
        }
    }

    private int fillerOffset(long i) {
        // not from mix(i): that is the key, and records adjacent in key order would get overlapping windows
        return (int) ((Keys.mix(~i) >>> 40) % (FILLER_TABLE - valueSize));
    }

    @Override
    public String toString() {
        return name;
    }
}
