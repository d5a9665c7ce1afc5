package dev.armdb;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Random;

/**
 * Child process of {@link CrashRecoveryTest}: writes random puts and deletes into a {@link FixedMap} until it is
 * killed, acknowledging each returned call with one line on stdout ({@code P <keyId> <seq>} or {@code D
 * <keyId>}), written with a single unbuffered write.
 *
 * <p>Arguments: {@code <dir> <seed> [<startSeq> [<durability>]]} (durability: SYNC unless given). Op number {@code
 * i} of the run (puts and deletes alike) has sequence number {@code startSeq + i}; a put stores {@link #value(int,
 * long)} of its key id and sequence number.
 */
public final class CrashWriter {
    /** Key ids are {@code 0 .. UNIVERSE-1}. */
    public static final int UNIVERSE = 2000;

    public static final int KEY_SIZE = 16;
    public static final int VALUE_SIZE = 32;

    private static final long MAX_OPS = 2_000_000;
    private static final long MAX_NANOS = 120_000_000_000L;

    private CrashWriter() {}

    /** The config the writer and the test open the collection with: {@link Durability#SYNC}. */
    public static FixedConfig config() {
        return config(Durability.SYNC);
    }

    /** The config the writer and the test open the collection with, in {@code durability}. */
    public static FixedConfig config(Durability durability) {
        return FixedConfig.builder()
                .keySize(KEY_SIZE)
                .valueSize(VALUE_SIZE)
                .shards(4)
                .durability(durability)
                .growthStepBytes(4096)
                .build();
    }

    static long mix(long z) {
        z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
        z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
        return z ^ (z >>> 33);
    }

    /** The 16-byte key of {@code keyId}. */
    public static byte[] key(int keyId) {
        return ByteBuffer.allocate(KEY_SIZE)
                .putLong(keyId)
                .putLong(mix(keyId + 0x9E3779B97F4A7C15L))
                .array();
    }

    private static long checksum(long keyId, long seq, long filler) {
        return mix(mix(keyId * 31 + 7) ^ mix(seq + 0x1234_5678L) ^ Long.rotateLeft(filler, 17));
    }

    /** The 32-byte value a put of {@code keyId} at sequence number {@code seq} stores. */
    public static byte[] value(int keyId, long seq) {
        long filler = mix(keyId ^ (seq << 20));
        return ByteBuffer.allocate(VALUE_SIZE)
                .putLong(keyId)
                .putLong(seq)
                .putLong(filler)
                .putLong(checksum(keyId, seq, filler))
                .array();
    }

    /**
     * Decodes a value into {@code {keyId, seq}}.
     *
     * @throws IllegalArgumentException if the value is not one {@link #value(int, long)} produces
     */
    public static long[] decode(byte[] value) {
        if (value.length != VALUE_SIZE) {
            throw new IllegalArgumentException("value has " + value.length + " bytes");
        }
        ByteBuffer b = ByteBuffer.wrap(value);
        long keyId = b.getLong();
        long seq = b.getLong();
        long filler = b.getLong();
        long sum = b.getLong();
        if (sum != checksum(keyId, seq, filler)
                || filler != mix(keyId ^ (seq << 20))
                || keyId < 0
                || keyId >= UNIVERSE) {
            throw new IllegalArgumentException(
                    "value fails its checksum: " + java.util.HexFormat.of().formatHex(value));
        }
        return new long[] {keyId, seq};
    }

    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args[0]);
        Random rnd = new Random(Long.parseLong(args[1]));
        long startSeq = args.length > 2 ? Long.parseLong(args[2]) : 1;
        Durability durability = args.length > 3 ? Durability.valueOf(args[3]) : Durability.SYNC;
        // unbuffered: every acknowledgement is one write(2) and reaches the pipe before the next op starts
        OutputStream out = new FileOutputStream(FileDescriptor.out);
        long deadline = System.nanoTime() + MAX_NANOS;
        try (FixedMap map = FixedMap.open(dir, config(durability))) {
            for (long i = 0; i < MAX_OPS && System.nanoTime() - deadline < 0; i++) {
                int keyId = rnd.nextInt(UNIVERSE);
                long seq = startSeq + i;
                String line;
                if (rnd.nextInt(8) == 0) {
                    map.delete(key(keyId));
                    line = "D " + keyId + "\n";
                } else {
                    map.put(key(keyId), value(keyId, seq));
                    line = "P " + keyId + " " + seq + "\n";
                }
                out.write(line.getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
        }
    }
}
