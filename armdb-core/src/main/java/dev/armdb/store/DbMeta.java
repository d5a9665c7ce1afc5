package dev.armdb.store;

import static dev.armdb.store.DbMetaLayout.*;

import dev.armdb.ArmDbConfigMismatchException;
import dev.armdb.ArmDbCorruptException;
import dev.armdb.ArmDbException;
import dev.armdb.FixedConfig;
import dev.armdb.ShardRouting;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.zip.CRC32C;

/**
 * The identity of a collection as stored in {@code db.meta} (see {@link DbMetaLayout}). Immutable.
 *
 * @param databaseId 16 random bytes chosen at creation
 * @param shardCount number of shards
 * @param keySize key size in bytes
 * @param valueSize value size in bytes
 * @param routing shard routing
 * @param createdMillis creation time, epoch milliseconds
 */
public record DbMeta(
        byte[] databaseId, int shardCount, int keySize, int valueSize, ShardRouting routing, long createdMillis) {

    private static final SecureRandom RANDOM = new SecureRandom();

    /** A new identity for a collection created with {@code cfg}, with a fresh random database id. */
    public static DbMeta create(FixedConfig cfg) {
        byte[] id = new byte[DATABASE_ID_SIZE];
        RANDOM.nextBytes(id);
        return new DbMeta(id, cfg.shards(), cfg.keySize(), cfg.valueSize(), cfg.routing(), System.currentTimeMillis());
    }

    /** Bytes of a slot of this collection. */
    public int slotSize() {
        return SlotLayout.slotSize(keySize, valueSize);
    }

    /** The database id in hex, for logs and status. */
    public String databaseIdHex() {
        return HexFormat.of().formatHex(databaseId);
    }

    /**
     * Checks that {@code cfg} describes this collection.
     *
     * @throws ArmDbConfigMismatchException naming the first setting that differs and both values
     */
    public void checkMatches(FixedConfig cfg, Path dir) {
        mismatch(dir, "key size", keySize, cfg.keySize());
        mismatch(dir, "value size", valueSize, cfg.valueSize());
        mismatch(dir, "shard count", shardCount, cfg.shards());
        if (routing != cfg.routing()) {
            throw new ArmDbConfigMismatchException("shard routing mismatch for " + dir + ": collection has " + routing
                    + ", config asks for " + cfg.routing());
        }
    }

    private static void mismatch(Path dir, String what, int stored, int asked) {
        if (stored != asked) {
            throw new ArmDbConfigMismatchException(
                    what + " mismatch for " + dir + ": collection has " + stored + ", config asks for " + asked);
        }
    }

    /** Encodes this identity into the 128 bytes of {@code db.meta}. */
    public byte[] encode() {
        ByteBuffer b = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC_OFFSET, MAGIC);
        b.putInt(FORMAT_VERSION_OFFSET, FORMAT_VERSION);
        b.putInt(FLAGS_OFFSET, 0);
        b.put(DATABASE_ID_OFFSET, databaseId);
        b.putInt(SHARD_COUNT_OFFSET, shardCount);
        b.putInt(KEY_SIZE_OFFSET, keySize);
        b.putInt(VALUE_SIZE_OFFSET, valueSize);
        b.putInt(SLOT_SIZE_OFFSET, slotSize());
        b.putInt(ROUTING_OFFSET, routing.code());
        b.putLong(CREATED_MILLIS_OFFSET, createdMillis);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, CRC_OFFSET);
        b.putInt(CRC_OFFSET, (int) crc.getValue());
        return b.array();
    }

    /**
     * Decodes {@code db.meta} bytes, checking size, magic, version, CRC and ranges.
     *
     * @throws ArmDbCorruptException saying what was expected and what was found
     */
    public static DbMeta decode(byte[] bytes, Path file) {
        if (bytes.length != SIZE) {
            throw new ArmDbCorruptException(
                    file + " is not an armdb db.meta: expected " + SIZE + " bytes, found " + bytes.length);
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (!Arrays.equals(bytes, MAGIC_OFFSET, MAGIC_OFFSET + MAGIC.length, MAGIC, 0, MAGIC.length)) {
            throw new ArmDbCorruptException(file + " is not an armdb db.meta: expected magic ARMDBMET, found "
                    + HexFormat.of().formatHex(bytes, 0, MAGIC.length));
        }
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, CRC_OFFSET);
        int stored = b.getInt(CRC_OFFSET);
        if (stored != (int) crc.getValue()) {
            throw new ArmDbCorruptException(file + " is damaged: expected CRC32C "
                    + Integer.toHexString((int) crc.getValue()) + ", found " + Integer.toHexString(stored));
        }
        int version = b.getInt(FORMAT_VERSION_OFFSET);
        if (version != FORMAT_VERSION) {
            throw new ArmDbCorruptException(
                    file + " has format version " + version + ", this armdb reads version " + FORMAT_VERSION);
        }
        byte[] id = Arrays.copyOfRange(bytes, DATABASE_ID_OFFSET, DATABASE_ID_OFFSET + DATABASE_ID_SIZE);
        int shards = b.getInt(SHARD_COUNT_OFFSET);
        int keySize = b.getInt(KEY_SIZE_OFFSET);
        int valueSize = b.getInt(VALUE_SIZE_OFFSET);
        ShardRouting routing = ShardRouting.ofCode(b.getInt(ROUTING_OFFSET));
        DbMeta meta = new DbMeta(id, shards, keySize, valueSize, routing, b.getLong(CREATED_MILLIS_OFFSET));
        try {
            meta.toConfig().build();
        } catch (IllegalArgumentException e) {
            throw new ArmDbCorruptException(file + " holds impossible sizes: " + e.getMessage());
        }
        if (b.getInt(SLOT_SIZE_OFFSET) != meta.slotSize()) {
            throw new ArmDbCorruptException(file + " is inconsistent: expected slot size " + meta.slotSize()
                    + ", found " + b.getInt(SLOT_SIZE_OFFSET));
        }
        return meta;
    }

    /** A config builder carrying this collection's fixed settings and default run-time settings. */
    public FixedConfig.Builder toConfig() {
        return FixedConfig.builder()
                .keySize(keySize)
                .valueSize(valueSize)
                .shards(shardCount)
                .routing(routing);
    }

    /**
     * Reads and decodes {@code dir/db.meta}.
     *
     * @throws ArmDbCorruptException if the file is not a valid meta file
     */
    public static DbMeta read(Path dir) {
        Path file = dir.resolve(FILE_NAME);
        if (!Files.exists(file)) {
            throw new ArmDbException("no collection at " + dir + ": " + FILE_NAME + " is missing");
        }
        try {
            long size = Files.size(file);
            if (size != SIZE) {
                throw new ArmDbCorruptException(
                        file + " is not an armdb db.meta: expected " + SIZE + " bytes, found " + size);
            }
            return decode(Files.readAllBytes(file), file);
        } catch (IOException e) {
            throw new ArmDbException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Writes {@code dir/db.meta} crash-safely: to a temporary file, forced, atomically renamed, then the
     * directory forced. Must happen before any shard file exists.
     */
    public void write(Path dir) {
        Path file = dir.resolve(FILE_NAME);
        try {
            DurableFiles.replace(file, encode());
        } catch (IOException e) {
            throw new ArmDbException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DbMeta m
                && Arrays.equals(databaseId, m.databaseId)
                && shardCount == m.shardCount
                && keySize == m.keySize
                && valueSize == m.valueSize
                && routing == m.routing
                && createdMillis == m.createdMillis;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(databaseId) * 31 + shardCount;
    }

    @Override
    public String toString() {
        return "DbMeta[id=" + databaseIdHex() + ", shards=" + shardCount + ", keySize=" + keySize + ", valueSize="
                + valueSize + ", routing=" + routing + "]";
    }
}
