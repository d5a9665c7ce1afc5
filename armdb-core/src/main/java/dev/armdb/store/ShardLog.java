package dev.armdb.store;

import static dev.armdb.store.ShardLogLayout.*;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.concurrent.locks.ReentrantLock;
import java.util.zip.CRC32C;

/**
 * One shard's redo log: every slot image the shard stores is appended here (slot id, LSN, generation, CRC32C, the
 * whole image), so that making writes durable forces a few sequential KiB of log instead of one random page of the
 * slot file per written slot. The slot file is forced only by a {@linkplain #beginCheckpoint checkpoint}.
 *
 * <p><b>Two files, one generation each.</b> Records go to the active file; a checkpoint switches to the other file
 * under a new generation, whose header names the previous generation and where its records end, then forces the
 * log and, outside every writer lock, the slot file. Once that force completes, every record of the previous
 * generation is in the forced slot file, so the file holding it may be taken by the next switch. Recovery replays
 * the previous generation (if its records reach the end the header names) and then the active one (see {@link
 * ShardLogReplay}). A header is only ever written into a file whose records are no longer needed.
 *
 * <p><b>Buffering.</b> Records are built in a buffer and written to the active file when it fills or when the log
 * is forced. The two buffers are the halves of the staging file, memory-mapped shared: a record is in the page cache
 * as soon as it is appended, so a process crash loses no record, and the slot file's pages may be private to the
 * process (see {@link ShardFile}). Replay applies the staging file's records of the active generation after the log
 * files' (stale ones too: it applies a record only over an older or invalid slot, so an older record never takes a
 * slot back). The staging file is never forced: a power loss keeps only what forces of the log files made durable.
 * Design note: the records could be stored straight into mappings of the log files, but each force of a log file
 * then write-protects the pages just written, one TLB shoot-down each (measured through {@code serve} under SET -P
 * 16: a fifth of the group commit's time and about 1.3 us of CPU per SET); the staging file's few pages are only
 * written back now and then by the kernel. A force takes the buffer out under the monitor, leaves writers a second
 * one, and writes what it took outside the monitor, at the offsets reserved for it: writers never wait for that
 * write. Records a writer writes out meanwhile (its buffer full) go after that range; until the force's write lands
 * the file has zeros there, where replay stops, but nothing there was forced yet (see {@link #force}). A force
 * also extends the file with zeros a step ahead of its records, after its own force and outside the monitor (see
 * {@link #extend}): a force takes buffered records outside the monitor only into room the file already has.
 *
 * <p><b>Failures.</b> A failed write or force of a log file fail-stops the collection ({@link FailStop}).
 *
 * <p>Threading: {@link #append} is called by the shard's writer (under its write lock); {@link #force} by whoever
 * makes data durable (serialised here); the checkpoint methods by one checkpointing thread at a time (serialised
 * here). The buffers, the active file and the write position are guarded by this object's monitor, which writers hold
 * for one record's copy. Lock order: checkpoint lock, force lock, monitor, extension lock. Whatever moves the write
 * position back (a reset, a checkpoint's switch) holds the force lock, so no force's write is in flight then.
 */
final class ShardLog implements AutoCloseable {
    /** The checkpoint protocol's state. */
    enum State {
        /** The previous generation's records are in the forced slot file: a switch may take its file. */
        IDLE,
        /** Switched to a new generation; the previous one is needed until the slot file is forced. */
        SWITCHED
    }

    private static final int MAX_BUFFER = 256 << 10;
    /** The automatic checkpoint size's lower bound, also what sizes the buffer and extensions then. */
    static final long AUTO_CHECKPOINT_MIN = 4L << 20;
    /** The automatic checkpoint size's upper bound: a crash replays at most about twice it. */
    static final long AUTO_CHECKPOINT_MAX = 256L << 20;
    /** The automatic checkpoint size in slot-file sizes, within the two bounds above. */
    static final long AUTO_CHECKPOINT_FILE_MULTIPLE = 2;

    private static final int PAGE = 4096;
    /** Most bytes one extension of a log file writes. */
    private static final long MAX_EXTENSION = 1 << 20;
    /** Zeros that extensions write; never written into. */
    private static final byte[] ZERO_BYTES = new byte[64 << 10];

    private static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG_LE =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private final ShardStorage[] files;
    /** The staging file: the two buffers, mapped shared once the log is first {@link #reset}. */
    private final ShardStorage staging;
    /** Bytes of each buffer: a whole number of records. */
    private final int bufferBytes;

    private final DbMeta meta;
    private final int shardId;
    private final int slotSize;
    private final int recordSize;
    /** Bytes of records after which a checkpoint is due; 0: automatic (see {@link #checkpointSize}). */
    private final long checkpointBytes;

    private final FailStop failStop;
    /** Where writers append. Guarded by this. */
    private ByteBuffer buffer;
    /** The other buffer, empty; null while a force writes it out. Guarded by this. */
    private ByteBuffer spare;

    private final byte[] recordHeader = new byte[RECORD_HEADER_SIZE];
    private final CRC32C crc = new CRC32C();
    private final ReentrantLock forceLock = new ReentrantLock();
    private final ReentrantLock checkpointLock = new ReentrantLock();
    private final ByteBuffer zeros = ByteBuffer.wrap(ZERO_BYTES);
    private final long extensionBytes;
    /**
     * Bytes each file is known to hold (-1: not read yet), zeros past the records included. Guarded by {@link
     * #extendLock}.
     */
    private final long[] extent = {-1, -1};
    /** Guards {@link #extent} and the zeros written past it; taken inside the monitor, never the other way round. */
    private final ReentrantLock extendLock = new ReentrantLock();

    /** Guarded by this. */
    private int active;
    /** The active generation; 0 until the first {@link #reset}, while appends are dropped. Guarded by this. */
    private long generation;
    /** File offset where the buffer's first byte goes. Guarded by this. */
    private long writePosition;
    /** The previous file's tail was written but not forced since the switch. Guarded by this. */
    private boolean previousTailUnforced;

    /** Bytes of records in the active generation (written or buffered); read without the monitor. */
    private volatile long activeBytes;
    /** Records appended (or a header written) since the last force began. */
    private volatile boolean unforced;

    private volatile long lastCheckpointNanos = System.nanoTime();
    /** Guarded by {@link #checkpointLock}. */
    private State state = State.IDLE;

    /**
     * A log over {@code files} (the two log files) and {@code staging} (the staging file), which it closes. Appends
     * are dropped until the first {@link #reset}, which also sizes and maps the staging file (not before: until every
     * record replayed from it is in the forced slot file, its bytes must stay as they are).
     */
    ShardLog(
            ShardStorage[] files,
            ShardStorage staging,
            DbMeta meta,
            int shardId,
            long checkpointBytes,
            FailStop failStop) {
        this.files = files;
        this.staging = staging;
        this.meta = meta;
        this.shardId = shardId;
        this.slotSize = meta.slotSize();
        this.recordSize = recordSize(slotSize);
        this.checkpointBytes = checkpointBytes;
        this.failStop = failStop;
        long sizing = checkpointBytes == 0 ? AUTO_CHECKPOINT_MIN : checkpointBytes;
        long most = Math.min(Math.min(MAX_BUFFER, sizing / 2), staging.smallMappingLimit() / 2);
        this.bufferBytes = (int) Math.max(recordSize, most / recordSize * recordSize);
        // no room until the first reset maps the staging file: appends are dropped until then
        this.buffer = ByteBuffer.allocateDirect(0);
        this.spare = ByteBuffer.allocateDirect(0);
        this.extensionBytes = Math.max(PAGE, Math.min(MAX_EXTENSION, sizing / 4 / PAGE * PAGE));
    }

    /** The header of a log file of generation {@code gen} whose previous generation ends at {@code previousEnd}. */
    static byte[] encodeHeader(DbMeta meta, int shardId, long gen, long previousGen, long previousEnd) {
        ByteBuffer b = ByteBuffer.allocate(HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC_OFFSET, MAGIC);
        b.putInt(VERSION_OFFSET, LOG_VERSION);
        b.putInt(SHARD_ID_OFFSET, shardId);
        b.put(DATABASE_ID_OFFSET, meta.databaseId());
        b.putLong(GENERATION_OFFSET, gen);
        b.putLong(PREVIOUS_GENERATION_OFFSET, previousGen);
        b.putLong(PREVIOUS_END_OFFSET, previousEnd);
        b.putInt(SLOT_SIZE_OFFSET, meta.slotSize());
        CRC32C c = new CRC32C();
        c.update(b.array(), 0, HEADER_CRC_OFFSET);
        b.putInt(HEADER_CRC_OFFSET, (int) c.getValue());
        return b.array();
    }

    /**
     * Starts an empty log of generation {@code gen} in file {@code which}, forced: called once every record of both
     * files is in the forced slot file (at open after replay, at clean close, after a wipe). Buffered records are
     * dropped. Writer lock held or no writer running.
     *
     * @throws dev.armdb.ArmDbStorageFailedException if the header cannot be written or forced
     */
    void reset(int which, long gen) {
        checkpointLock.lock();
        forceLock.lock();
        try {
            synchronized (this) {
                if (buffer.capacity() == 0) {
                    mapStaging();
                }
                buffer.clear();
                ShardStorage f = files[which];
                try {
                    f.write(ByteBuffer.wrap(encodeHeader(meta, shardId, gen, 0, 0)), 0);
                    f.forceData();
                } catch (IOException e) {
                    throw failStop.failed(f.path(), "reset of the redo log", e);
                }
                active = which;
                generation = gen;
                writePosition = RECORDS_OFFSET;
                previousTailUnforced = false;
                activeBytes = 0;
                unforced = false;
            }
            state = State.IDLE;
            lastCheckpointNanos = System.nanoTime();
        } finally {
            forceLock.unlock();
            checkpointLock.unlock();
        }
    }

    /**
     * Sizes the staging file to two buffers, writing zeros over any part it did not hold (a store into a hole could
     * find the disk full and kill the process), and maps the two buffers over it. Holding the monitor.
     *
     * @throws dev.armdb.ArmDbStorageFailedException if the file cannot be sized or mapped
     */
    private void mapStaging() {
        long bytes = 2L * bufferBytes;
        try {
            long size = staging.size();
            if (size > bytes) {
                staging.truncate(bytes);
            }
            ByteBuffer zero = ByteBuffer.wrap(ZERO_BYTES);
            for (long at = Math.min(size, bytes); at < bytes; at += zero.limit()) {
                zero.clear().limit((int) Math.min(ZERO_BYTES.length, bytes - at));
                staging.write(zero, at);
            }
            MemorySegment m = staging.map(0, bytes);
            buffer = m.asSlice(0, bufferBytes).asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            spare = m.asSlice(bufferBytes, bufferBytes).asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException | UncheckedIOException e) {
            throw failStop.failed(staging.path(), "sizing", e);
        }
    }

    /** As {@link #reset(int, long)} into the file not active now, with the next generation. */
    void reset() {
        int other;
        long gen;
        synchronized (this) {
            other = 1 - active;
            gen = generation + 1;
        }
        reset(other, gen);
    }

    /**
     * Appends the image of {@code slot} ({@code slotSize} bytes of {@code image} at {@code offset}, LSN {@code lsn}).
     * Writer only, after the image is stored into the slot file and its chunk marked dirty (so a checkpoint that
     * sees this record also forces that store). Allocation-free.
     *
     * @throws dev.armdb.ArmDbStorageFailedException if writing out the full buffer fails
     */
    synchronized void append(int slot, long lsn, byte[] image, int offset) {
        if (generation == 0) {
            // not started: an open's own rewrites, which the open forces into the slot file before it starts the log
            return;
        }
        if (buffer.remaining() < recordSize) {
            writeBuffer();
        }
        LONG_LE.set(recordHeader, RECORD_GENERATION_OFFSET, generation);
        LONG_LE.set(recordHeader, RECORD_LSN_OFFSET, lsn);
        INT_LE.set(recordHeader, RECORD_SLOT_OFFSET, slot);
        crc.reset();
        crc.update(recordHeader, 0, RECORD_CRC_OFFSET);
        crc.update(image, offset, slotSize);
        INT_LE.set(recordHeader, RECORD_CRC_OFFSET, (int) crc.getValue());
        buffer.put(recordHeader, 0, RECORD_HEADER_SIZE);
        buffer.put(image, offset, slotSize);
        activeBytes += recordSize;
        unforced = true;
        staging.stored();
    }

    /** Writes the buffer to the active file. Holding the monitor. */
    private void writeBuffer() {
        if (buffer.position() == 0) {
            return;
        }
        buffer.flip();
        int n = buffer.remaining();
        ShardStorage f = files[active];
        try {
            extend(active, writePosition + n);
            f.write(buffer, writePosition);
        } catch (IOException e) {
            buffer.clear();
            throw failStop.failed(f.path(), "write", e);
        }
        buffer.clear();
        writePosition += n;
    }

    /**
     * Makes file {@code which} hold at least {@code end} bytes, writing zeros past its end (a step at a time), so that
     * the records written next overwrite bytes the file already holds. Holding the monitor (a writer whose buffer is
     * full), or the force lock but not the monitor ({@link #extendAhead}).
     *
     * <p>Design note: a force of a file whose size changed commits the file system's journal (fdatasync must make
     * the new size durable); one that only overwrote its bytes need not. Measured on ext4 in a virtual machine: 4 KiB
     * appended then fdatasync about 200-240 us, overwritten in place 110-150 us. Zeros, not a sparse extension
     * (truncate) or an unwritten one (fallocate): the first write into either changes metadata too. A record of
     * zeros has generation 0, which no log has, so replay stops there as at the end of the file. A failed extension
     * is no failure of the log (a disk with room for the records but not for a step ahead goes on taking them).
     */
    private void extend(int which, long end) throws IOException {
        extendLock.lock();
        try {
            ShardStorage f = files[which];
            if (extent[which] < 0) {
                extent[which] = f.size();
            }
            long at = extent[which];
            if (end <= at) {
                return;
            }
            long target = (end + extensionBytes + PAGE - 1) / PAGE * PAGE;
            try {
                while (at < target) {
                    zeros.clear().limit((int) Math.min(ZERO_BYTES.length, target - at));
                    f.write(zeros, at);
                    at += zeros.limit();
                    extent[which] = at;
                }
            } catch (IOException e) {
                // only a speed-up failed (a disk too full for a step ahead, say): the records' own write decides
                extent[which] = -1;
            }
        } finally {
            extendLock.unlock();
        }
    }

    /** True if file {@code which} holds at least {@code end} bytes. Writes nothing. */
    private boolean holds(int which, long end) {
        extendLock.lock();
        try {
            if (extent[which] < 0) {
                extent[which] = files[which].size();
            }
            return extent[which] >= end;
        } catch (IOException e) {
            return false;
        } finally {
            extendLock.unlock();
        }
    }

    /**
     * Extends the active file (zeros) so that it holds at least a full buffer past the write position, outside the
     * monitor: the next force then finds room for what it takes ({@link #holds}) and writers never wait for zeros.
     * Holding the force lock, so no switch or reset moves the active file meanwhile; a writer writing its full buffer
     * out waits for the extension lock only (then its records go over the zeros, never under them).
     *
     * <p>Design note: extensions used to be written under the monitor by the force that needed them, about once per
     * MiB of records; measured through {@code serve} at 50k writes/s with a follower, each took 0.1-3 ms, and the
     * leader's event loop or the follower's applier appending meanwhile stopped for as long (the replication lag's
     * tail).
     */
    private void extendAhead() {
        int which;
        long end;
        synchronized (this) {
            which = active;
            end = writePosition + buffer.capacity();
        }
        if (holds(which, end)) {
            return;
        }
        try {
            extend(which, end);
        } catch (IOException e) {
            // as in extend: only a speed-up failed; a force without room writes under the monitor
        }
    }

    /** Bytes of records in the active generation, written or buffered. Any thread. */
    long activeBytes() {
        return activeBytes;
    }

    /** True if records were appended since the last force began. */
    boolean hasUnforced() {
        return unforced;
    }

    /**
     * Makes every record appended before the call durable: writes the buffer, then forces the previous file's tail
     * (once after a switch) and the active file. Serialised; any thread.
     *
     * <p>The buffer is written outside the monitor, so writers go on appending (into the spare buffer) while the
     * file system takes the write. Design note: under load that write took milliseconds now and then (measured up to
     * 15 ms on ext4 in a virtual machine while the other shard's log was being forced), and with the monitor held the
     * shard's writer (a RESP event loop, a follower's applier) stopped for as long, which showed in the replication
     * lag's 99th percentile at 50k writes/s.
     *
     * @throws dev.armdb.ArmDbStorageFailedException if a write or force fails or the collection is fail-stopped
     */
    void force() {
        forceLock.lock();
        try {
            failStop.check();
            ShardStorage previous;
            ShardStorage current;
            ByteBuffer out;
            long at;
            synchronized (this) {
                unforced = false;
                out = buffer;
                at = writePosition;
                current = files[active];
                if (out.position() > 0 && holds(active, at + out.position())) {
                    // the range is reserved now, in a file already long enough for it: later records, and later
                    // extensions (zeros past the file's end), go after it
                    writePosition = at + out.position();
                    buffer = spare;
                    spare = null;
                } else {
                    // nothing buffered, or no room made ahead (a file's first force, a full disk): written here, as
                    // writers write
                    writeBuffer();
                    out = null;
                }
                previous = previousTailUnforced ? files[1 - active] : null;
                previousTailUnforced = false;
            }
            if (out != null) {
                writeTaken(out, current, at);
            }
            // the previous generation's tail first: a record of the new one never counts without all before it
            forceFile(previous);
            forceFile(current);
            // after the forces: whoever waits for this one does not wait for zeros too
            extendAhead();
        } finally {
            forceLock.unlock();
        }
    }

    /** Writes {@code out} (taken from the writers by a force) into {@code f} at {@code at}, then gives it back. */
    private void writeTaken(ByteBuffer out, ShardStorage f, long at) {
        try {
            out.flip();
            f.write(out, at);
        } catch (IOException e) {
            throw failStop.failed(f.path(), "write", e);
        } finally {
            out.clear();
            synchronized (this) {
                spare = out;
            }
        }
    }

    private void forceFile(ShardStorage f) {
        if (f == null) {
            return;
        }
        try {
            f.forceData();
        } catch (IOException e) {
            throw failStop.failed(f.path(), "force", e);
        }
    }

    /**
     * True if a checkpoint is due: the active generation holds {@link #checkpointSize} bytes of records, or records
     * older than {@code maxAgeNanos}. Any thread.
     */
    boolean checkpointDue(long nowNanos, long maxAgeNanos, long slotFileBytes) {
        long bytes = activeBytes;
        return bytes >= checkpointSize(slotFileBytes) || (bytes > 0 && nowNanos - lastCheckpointNanos >= maxAgeNanos);
    }

    /**
     * Bytes of records after which a checkpoint is due, for a slot file of {@code slotFileBytes}: the configured
     * size, or automatically {@link #AUTO_CHECKPOINT_FILE_MULTIPLE} times the slot file's size within {@link
     * #AUTO_CHECKPOINT_MIN} and {@link #AUTO_CHECKPOINT_MAX}.
     *
     * <p>Design note: chosen while slot files were mapped shared, when a checkpoint's force write-protected every
     * slot-file page written since the last one and the next write to each took a page fault: with a log the file's
     * size about one write in 23 faulted (redis-benchmark SET -P 16 over 1M keys through {@code serve}, 16-byte keys
     * and 32-byte values), and those faults took about a fifth of the server's CPU time; twice the file's size halved
     * them. With private pages (see {@link ShardFile}) a checkpoint writes back every chunk written since the last
     * one, with random writes nearly the whole file, which a larger size also makes rarer. The price is disk (two log
     * files of up to twice the slot file each) and a replay after a crash of up to about four times the slot file.
     */
    long checkpointSize(long slotFileBytes) {
        if (checkpointBytes != 0) {
            return checkpointBytes;
        }
        return Math.min(
                AUTO_CHECKPOINT_MAX, Math.max(AUTO_CHECKPOINT_MIN, slotFileBytes * AUTO_CHECKPOINT_FILE_MULTIPLE));
    }

    /** The checkpoint protocol's state. */
    State state() {
        checkpointLock.lock();
        try {
            return state;
        } finally {
            checkpointLock.unlock();
        }
    }

    /**
     * First half of a checkpoint: switches to the other file under the next generation, whose header records where
     * the previous generation's records end, and forces the log (the previous tail and the new header). Writers wait
     * only for the switch (a buffer write and a header write), never for a force. Returns false (doing nothing) if
     * a checkpoint is already half done.
     *
     * @throws dev.armdb.ArmDbStorageFailedException if a write or force fails or the collection is fail-stopped
     */
    boolean beginCheckpoint() {
        checkpointLock.lock();
        try {
            failStop.check();
            if (state != State.IDLE) {
                return false;
            }
            forceLock.lock();
            try {
                switchGeneration();
            } finally {
                forceLock.unlock();
            }
            lastCheckpointNanos = System.nanoTime();
            state = State.SWITCHED;
        } finally {
            checkpointLock.unlock();
        }
        force();
        return true;
    }

    /** Switches to the other file under the next generation. Holding the force lock: no force's write is in flight. */
    private synchronized void switchGeneration() {
        writeBuffer();
        int next = 1 - active;
        ShardStorage f = files[next];
        try {
            f.write(ByteBuffer.wrap(encodeHeader(meta, shardId, generation + 1, generation, writePosition)), 0);
        } catch (IOException e) {
            throw failStop.failed(f.path(), "write", e);
        }
        active = next;
        generation++;
        writePosition = RECORDS_OFFSET;
        previousTailUnforced = true;
        activeBytes = 0;
        unforced = true;
    }

    /**
     * Second half of a checkpoint: forces the slot file (every chunk dirty since its last force, which covers every
     * store whose record precedes the switch), after which the previous generation is no longer needed. No writer
     * lock is held. A no-op unless a checkpoint was begun.
     *
     * @throws dev.armdb.ArmDbStorageFailedException if the force fails or the collection is fail-stopped
     */
    void endCheckpoint(ShardFile file) {
        checkpointLock.lock();
        try {
            if (state != State.SWITCHED) {
                return;
            }
            file.force();
            state = State.IDLE;
        } finally {
            checkpointLock.unlock();
        }
    }

    /** A whole checkpoint: {@link #beginCheckpoint} then {@link #endCheckpoint}. */
    void checkpoint(ShardFile file) {
        checkpointLock.lock();
        try {
            endCheckpoint(file);
            if (beginCheckpoint()) {
                endCheckpoint(file);
            }
        } finally {
            checkpointLock.unlock();
        }
    }

    /**
     * Runs {@code r} with no checkpoint running (a wipe, which forces the slot file and resets the log). The
     * caller must not hold the shard's write lock while a checkpoint could wait for it; none does.
     */
    void exclusive(Runnable r) {
        checkpointLock.lock();
        try {
            r.run();
        } finally {
            checkpointLock.unlock();
        }
    }

    /** The active generation (tests). */
    synchronized long generation() {
        return generation;
    }

    /** Path of log file {@code which}, for messages. */
    Path path(int which) {
        return files[which].path();
    }

    /** Closes the log files and the staging file without writing anything. */
    @Override
    public void close() {
        try {
            files[0].close();
        } finally {
            try {
                files[1].close();
            } finally {
                staging.close();
            }
        }
    }
}
