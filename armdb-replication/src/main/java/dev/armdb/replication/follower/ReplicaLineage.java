package dev.armdb.replication.follower;

import static dev.armdb.replication.follower.ReplicaLineageLayout.*;

import dev.armdb.ArmDbCorruptException;
import dev.armdb.ArmDbException;
import dev.armdb.store.DurableFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * What a promoted follower inherited: per shard, the old leader's database id and epoch it followed and the LSN it
 * had applied when it was promoted. A follower of that same leader history that holds nothing newer than that LSN
 * is a prefix of the promoted node's history, so the promoted node can catch it up by a partial scan instead of a
 * full copy (see docs/protocol.md, "Failover"). Immutable and thread-safe.
 */
public final class ReplicaLineage {
    private final long promotionEpoch;
    private final byte[][] databaseIds;
    private final long[] appliedLsns;
    private final long[] leaderEpochs;

    ReplicaLineage(long promotionEpoch, byte[][] databaseIds, long[] appliedLsns, long[] leaderEpochs) {
        this.promotionEpoch = promotionEpoch;
        this.databaseIds = databaseIds;
        this.appliedLsns = appliedLsns;
        this.leaderEpochs = leaderEpochs;
    }

    /** The lineage held in {@code state} now, for a promotion by the open of epoch {@code promotionEpoch}. */
    static ReplicaLineage of(ReplicaPositions state, int shards, long promotionEpoch) {
        byte[][] ids = new byte[shards][];
        long[] applied = new long[shards];
        long[] epochs = new long[shards];
        for (int s = 0; s < shards; s++) {
            ids[s] = state.leaderDatabaseId(s);
            applied[s] = state.appliedLsn(s);
            epochs[s] = state.leaderEpoch(s);
        }
        return new ReplicaLineage(promotionEpoch, ids, applied, epochs);
    }

    /** The epoch of the open that promoted; the lineage holds only while that epoch is still trusted. */
    public long promotionEpoch() {
        return promotionEpoch;
    }

    /** Shards recorded. */
    public int shards() {
        return appliedLsns.length;
    }

    /**
     * True if a follower of shard {@code s} that synced with leader {@code databaseId} under {@code leaderEpoch} to
     * {@code fromLsn}, and holds no image newer than {@code heldLsn}, holds only history this node inherited.
     */
    public boolean inherits(int s, byte[] databaseId, long leaderEpoch, long fromLsn, long heldLsn) {
        return s >= 0
                && s < appliedLsns.length
                && fromLsn > 0
                && leaderEpoch != 0
                && leaderEpoch == leaderEpochs[s]
                && appliedLsns[s] > 0
                && Arrays.equals(databaseId, databaseIds[s])
                && fromLsn <= heldLsn
                && heldLsn <= appliedLsns[s];
    }

    /** The file's bytes. */
    byte[] encode() {
        int shards = appliedLsns.length;
        ByteBuffer b = ByteBuffer.allocate(fileSize(shards)).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC)
                .putInt(VERSION_OFFSET, FORMAT_VERSION)
                .putInt(SHARD_COUNT_OFFSET, shards)
                .putLong(PROMOTION_EPOCH_OFFSET, promotionEpoch);
        for (int s = 0; s < shards; s++) {
            int at = entryOffset(s);
            b.put(at + DATABASE_ID_OFFSET, databaseIds[s])
                    .putLong(at + APPLIED_LSN_OFFSET, appliedLsns[s])
                    .putLong(at + LEADER_EPOCH_OFFSET, leaderEpochs[s]);
        }
        CRC32C crc = new CRC32C();
        crc.update(b.array());
        b.putInt(CRC_OFFSET, (int) crc.getValue());
        return b.array();
    }

    /**
     * Decodes a file's bytes.
     *
     * @throws ArmDbCorruptException if they are not a lineage of format {@value ReplicaLineageLayout#FORMAT_VERSION}
     */
    static ReplicaLineage decode(byte[] bytes, Path file) {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < HEADER_SIZE || !Arrays.equals(bytes, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            throw new ArmDbCorruptException(file + " is not an armdb replica lineage (bad magic or too short)");
        }
        int version = b.getInt(VERSION_OFFSET);
        int shards = b.getInt(SHARD_COUNT_OFFSET);
        if (version != FORMAT_VERSION || shards < 1 || bytes.length != fileSize(shards)) {
            throw new ArmDbCorruptException(file + ": expected lineage format " + FORMAT_VERSION + " of "
                    + (shards < 1 ? "at least 1 shard" : fileSize(shards) + " bytes") + ", found version " + version
                    + ", " + bytes.length + " bytes");
        }
        int stored = b.getInt(CRC_OFFSET);
        byte[] copy = bytes.clone();
        ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN).putInt(CRC_OFFSET, 0);
        CRC32C crc = new CRC32C();
        crc.update(copy);
        if ((int) crc.getValue() != stored) {
            throw new ArmDbCorruptException(file + " fails its CRC32C");
        }
        byte[][] ids = new byte[shards][16];
        long[] applied = new long[shards];
        long[] epochs = new long[shards];
        for (int s = 0; s < shards; s++) {
            int at = entryOffset(s);
            b.get(at + DATABASE_ID_OFFSET, ids[s]);
            applied[s] = b.getLong(at + APPLIED_LSN_OFFSET);
            epochs[s] = b.getLong(at + LEADER_EPOCH_OFFSET);
        }
        return new ReplicaLineage(b.getLong(PROMOTION_EPOCH_OFFSET), ids, applied, epochs);
    }

    /** Writes this lineage durably into {@code dir} (temporary file, force, atomic rename, directory force). */
    void write(Path dir) {
        Path file = dir.resolve(FILE_NAME);
        try {
            DurableFiles.replace(file, encode());
        } catch (IOException e) {
            throw new ArmDbException("cannot write " + file + ": " + e, e);
        }
    }

    /**
     * The lineage in {@code dir}, or null if there is none.
     *
     * @throws ArmDbCorruptException if the file is damaged
     */
    public static ReplicaLineage load(Path dir) {
        Path file = dir.resolve(FILE_NAME);
        if (!Files.exists(file)) {
            return null;
        }
        try {
            return decode(Files.readAllBytes(file), file);
        } catch (IOException e) {
            throw new ArmDbException("cannot read " + file + ": " + e, e);
        }
    }

    /** Removes the lineage of {@code dir} durably (the node follows again, so its history changes). */
    static void clear(Path dir) {
        Path file = dir.resolve(FILE_NAME);
        try {
            DurableFiles.delete(file);
        } catch (IOException e) {
            throw new ArmDbException("cannot remove " + file + ": " + e, e);
        }
    }
}
