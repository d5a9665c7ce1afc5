package dev.armdb.store;

import static dev.armdb.store.ShardLogLayout.*;
import static dev.armdb.store.SlotLayout.INT_LE;
import static dev.armdb.store.SlotLayout.LONG_LE;
import static dev.armdb.store.SlotLayout.LSN_OFFSET;
import static dev.armdb.store.SlotLayout.inProgress;

import dev.armdb.ArmDbCorruptException;
import dev.armdb.ArmDbException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens a shard's redo log files and replays them onto its slot file, before the slot scan of an open.
 *
 * <p>Rules (docs/format.md, "Redo log"): the active file is the one whose header has the highest generation among
 * valid headers. If that header names a previous generation and the other file's header has that generation, the
 * other file's records are replayed first; if they end before the end the header names, a record the active
 * generation depends on is missing, so nothing of the active file is replayed. Then the active file's records are
 * replayed, up to the first record of another generation or with a bad CRC; then, if it was, the records of the
 * active generation in each half of the staging file, from its start up to the first record that is not one (the
 * records a dead process had appended but not yet written to a log file, and stale ones already written). A record
 * is applied only if the slot holds no valid image or an image with a lower LSN: replaying is idempotent, the order
 * of records for different slots does not matter, and a stale record never takes a slot back to an older image.
 *
 * <p>Threading: one opening thread, before the shard exists.
 */
final class ShardLogReplay {
    private static final Logger LOG = LoggerFactory.getLogger(ShardLogReplay.class);
    private static final int READ_RECORDS = 512;

    /** What an open found: the log, the highest generation of any valid header, and the file that holds it. */
    record Opened(ShardLog log, long maxGeneration, int newestFile, int replayed) {}

    private final ShardFile file;
    private final int slotSize;
    private final int recordSize;
    private final int maxSlots;
    private final byte[] slotImage;
    private final CRC32C crc = new CRC32C();
    private int applied;

    private ShardLogReplay(ShardFile file, int slotSize, int maxSlots) {
        this.file = file;
        this.slotSize = slotSize;
        this.recordSize = recordSize(slotSize);
        this.maxSlots = maxSlots;
        this.slotImage = new byte[slotSize];
    }

    /**
     * Opens the log of shard {@code shardId} in {@code dir} and replays it onto {@code file}. Returns null if the log
     * files do not exist and {@code create} is false (a collection that never had a log); otherwise creates missing
     * files.
     *
     * @throws ArmDbCorruptException if a log file with a valid header belongs to another collection or shard
     */
    static Opened open(
            Path dir,
            DbMeta meta,
            int shardId,
            ShardFile file,
            int maxSlots,
            long checkpointBytes,
            boolean create,
            ShardStorage.Opener opener,
            FailStop failStop) {
        ShardStorage[] files = new ShardStorage[3];
        try {
            for (int i = 0; i < 2; i++) {
                Path p = dir.resolve(fileName(shardId, i));
                if (!create && !exists(opener, p)) {
                    closeAll(files);
                    return null;
                }
                files[i] = opener.open(p, false);
            }
            files[2] = opener.open(dir.resolve(stagingFileName(shardId)), false);
            long[] gen = new long[2];
            long[] prevGen = new long[2];
            long[] prevEnd = new long[2];
            for (int i = 0; i < 2; i++) {
                readHeader(files[i], meta, shardId, i, gen, prevGen, prevEnd);
            }
            int newest = gen[1] > gen[0] ? 1 : 0;
            ShardLogReplay r = new ShardLogReplay(file, meta.slotSize(), maxSlots);
            if (gen[newest] > 0 && r.replayNewest(files, newest, gen, prevGen[newest], prevEnd[newest])) {
                r.replayStaging(files[2], gen[newest]);
            }
            if (r.applied > 0) {
                LOG.info("shard {}: {} slot image(s) replayed from the redo log", shardId, r.applied);
            }
            ShardLog log = new ShardLog(
                    new ShardStorage[] {files[0], files[1]}, files[2], meta, shardId, checkpointBytes, failStop);
            return new Opened(log, Math.max(gen[0], gen[1]), newest, r.applied);
        } catch (IOException e) {
            closeAll(files);
            throw new ArmDbException("cannot open the redo log of shard " + shardId + " in " + dir + ": " + e, e);
        } catch (RuntimeException e) {
            closeAll(files);
            throw e;
        }
    }

    private static boolean exists(ShardStorage.Opener opener, Path p) throws IOException {
        try {
            opener.open(p, true).close();
            return true;
        } catch (NoSuchFileException e) {
            return false;
        }
    }

    private static void closeAll(ShardStorage[] files) {
        for (ShardStorage f : files) {
            if (f != null) {
                f.close();
            }
        }
    }

    /** Reads the header of file {@code i}; a missing or torn header leaves generation 0 (no records). */
    private static void readHeader(
            ShardStorage f, DbMeta meta, int shardId, int i, long[] gen, long[] prevGen, long[] prevEnd)
            throws IOException {
        if (f.size() < HEADER_SIZE) {
            return;
        }
        ByteBuffer b = ByteBuffer.allocate(HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        f.read(b, 0);
        byte[] h = b.array();
        CRC32C c = new CRC32C();
        c.update(h, 0, HEADER_CRC_OFFSET);
        if (b.getInt(HEADER_CRC_OFFSET) != (int) c.getValue()) {
            return;
        }
        byte[] expected = ShardLog.encodeHeader(
                meta,
                shardId,
                b.getLong(GENERATION_OFFSET),
                b.getLong(PREVIOUS_GENERATION_OFFSET),
                b.getLong(PREVIOUS_END_OFFSET));
        if (!Arrays.equals(h, expected)) {
            throw new ArmDbCorruptException("redo log " + f.path() + " does not belong to shard " + shardId
                    + " of this collection: expected log version " + LOG_VERSION + ", database "
                    + meta.databaseIdHex() + ", slot size " + meta.slotSize() + ", found header "
                    + java.util.HexFormat.of().formatHex(h));
        }
        gen[i] = b.getLong(GENERATION_OFFSET);
        prevGen[i] = b.getLong(PREVIOUS_GENERATION_OFFSET);
        prevEnd[i] = b.getLong(PREVIOUS_END_OFFSET);
    }

    /** Replays the active generation (and the previous one first, if named); false if it could not be replayed. */
    private boolean replayNewest(ShardStorage[] files, int newest, long[] gen, long previousGen, long previousEnd)
            throws IOException {
        if (previousGen != 0) {
            int other = 1 - newest;
            if (gen[other] != previousGen) {
                LOG.warn(
                        "redo log {}: previous generation {} not found (other file holds {}); nothing replayed",
                        files[newest].path(),
                        previousGen,
                        gen[other]);
                return false;
            }
            long end = replay(files[other], previousGen, previousEnd);
            if (end < previousEnd) {
                // a record before the switch is missing: no record after it may be applied
                return false;
            }
        }
        replay(files[newest], gen[newest], Long.MAX_VALUE);
        return true;
    }

    /**
     * Replays the records of generation {@code g} in each half of the staging file {@code st}, from the half's first
     * byte up to the first record that is not one of {@code g}.
     */
    private void replayStaging(ShardStorage st, long g) throws IOException {
        long half = st.size() / 2;
        byte[] buf = new byte[recordSize];
        for (long start = 0; start < 2 * half; start += half) {
            for (long pos = start; pos + recordSize <= start + half; pos += recordSize) {
                ByteBuffer b = ByteBuffer.wrap(buf);
                st.read(b, pos);
                if (b.position() < recordSize || !applyRecord(buf, 0, g)) {
                    break;
                }
            }
        }
    }

    /** Replays the records of generation {@code g} from {@code f} up to {@code limit}; returns where they end. */
    private long replay(ShardStorage f, long g, long limit) throws IOException {
        long size = f.size();
        ByteBuffer b = ByteBuffer.allocate(READ_RECORDS * recordSize).order(ByteOrder.LITTLE_ENDIAN);
        long pos = RECORDS_OFFSET;
        while (pos + recordSize <= Math.min(size, limit)) {
            b.clear();
            f.read(b, pos);
            int n = b.position() / recordSize;
            for (int i = 0; i < n; i++, pos += recordSize) {
                if (pos + recordSize > limit || !applyRecord(b.array(), i * recordSize, g)) {
                    return pos;
                }
            }
            if (n == 0) {
                break;
            }
        }
        return pos;
    }

    /** Applies the record at {@code at} if it is one of generation {@code g}; false if it is not (the end). */
    private boolean applyRecord(byte[] buf, int at, long g) {
        ByteBuffer r = ByteBuffer.wrap(buf).order(ByteOrder.LITTLE_ENDIAN);
        if (r.getLong(at + RECORD_GENERATION_OFFSET) != g) {
            return false;
        }
        crc.reset();
        crc.update(buf, at, RECORD_CRC_OFFSET);
        crc.update(buf, at + RECORD_IMAGE_OFFSET, slotSize);
        if (r.getInt(at + RECORD_CRC_OFFSET) != (int) crc.getValue()) {
            return false;
        }
        int slot = r.getInt(at + RECORD_SLOT_OFFSET);
        long lsn = r.getLong(at + RECORD_LSN_OFFSET);
        if (slot < 0 || slot >= maxSlots || lsn != r.getLong(at + RECORD_IMAGE_OFFSET + LSN_OFFSET)) {
            return false;
        }
        while (slot >= file.capacity()) {
            file.grow();
        }
        MemorySegment seg = file.segment(slot);
        long off = file.offset(slot);
        MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, off, slotImage, 0, slotSize);
        int word = seg.get(INT_LE, off);
        boolean valid = word != 0 && !inProgress(word) && SlotLayout.imageCrcMatches(crc, slotImage, 0, slotSize);
        if (valid && seg.get(LONG_LE, off + LSN_OFFSET) >= lsn) {
            return true;
        }
        MemorySegment.copy(buf, at + RECORD_IMAGE_OFFSET, seg, ValueLayout.JAVA_BYTE, off, slotSize);
        file.stored();
        file.markDirty(slot);
        applied++;
        return true;
    }
}
