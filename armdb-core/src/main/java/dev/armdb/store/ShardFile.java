package dev.armdb.store;

import static dev.armdb.store.ShardFileLayout.*;

import dev.armdb.ArmDbCorruptException;
import dev.armdb.ArmDbException;
import dev.armdb.ArmDbFullException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.zip.CRC32C;

/**
 * One shard's slot file, memory-mapped in chunks of a power-of-two number of slots. Owns its {@link ShardStorage}
 * (the file and its mappings); closing it unmaps everything.
 *
 * <p>The file grows by whole chunks written with zeros (never sparse, so a full disk fails the write that grows
 * the file, not a later store into a mapped hole). Slot {@code s} lives in chunk {@code s >>> chunkShift}. The one
 * exception is a bulk copy's window ({@link #beginSparseGrowth} to {@link #endSparseGrowth}): its growth maps new
 * chunks without writing them, because the copy's own writes through the file fill them next; holes are then only
 * past everything written (a write or a store further on first zero-fills the gap), and the window's end zero-fills
 * them, so the file is dense again before the copy is declared complete.
 *
 * <p>Each block of about a page of slots, and each chunk, has a "dirty since its last force" bit, set by the writer
 * after it stores into the block and independent of LSN order. A force clears a chunk's bit, then its blocks' bits,
 * before it forces (or writes back) the runs of dirty blocks, and puts back every bit it took if the force fails; any
 * failed force or growth is recorded in the collection's {@link FailStop}, after which every force throws: the kernel
 * may have dropped the pages a failed force did not write, so nothing after it may be claimed durable.
 *
 * <p><b>Private pages.</b> Opened with {@code privatePages} (a collection with a redo log), chunks are mapped
 * privately: stores stay in the process's own pages, a process crash loses them (the redo log holds each one, see
 * {@link ShardLog}), and a force writes every dirty block into the file and then forces the file once (see {@link
 * #writeBack}). {@link #writeSlots} writes through the file, and also copies into the mappings of the chunks stored
 * into through them: a page of a private mapping that the process never stored into shows the page cache, so later
 * writes through the file too (Linux's behaviour, which POSIX leaves unspecified; the simulated disk of the tests
 * models it). Shared mappings (no log: {@link dev.armdb.Durability#NONE NONE}) keep every store in the page cache.
 *
 * <p>Threading: {@link #segment(int)} and {@link #offset(int)} are lock-free and safe for any thread while the
 * file is open; {@link #grow()} and {@link #force()} serialise on this object.
 */
public final class ShardFile implements AutoCloseable {
    private static final int ZERO_BLOCK = 1 << 20;
    /** The write-back block's target size: a page, so that sparse writes write back little more than they wrote. */
    private static final int BLOCK_BYTES = 4096;

    private static final VarHandle DIRTY = MethodHandles.arrayElementVarHandle(long[].class);
    /** {@link #writtenEnd} of a file without holes. */
    private static final long DENSE = Long.MAX_VALUE;

    private final Path path;
    private final int shardId;
    private final int slotSize;
    private final int chunkShift;
    private final int chunkMask;
    private final long chunkBytes;
    private final int maxSlots;
    private final ShardStorage storage;
    private final FailStop failStop;
    private final boolean readOnly;
    /** Chunks are mapped privately and written back by {@link #force()} (see the class comment). */
    private final boolean privatePages;

    private final long[] dirtyChunks;
    /** log2 of the slots of a write-back block (about a page): what a force writes back or forces at least. */
    private final int blockShift;
    /**
     * Per mapped chunk, its "dirty since its last force" bits, one per block. Replaced whole (longer) before each
     * growth publishes its chunk, the per-chunk arrays shared by every copy, so a writer holding an older copy sets
     * the same bits.
     */
    private volatile long[][] dirtyBlocks = new long[0][];
    /** Private pages: slots were written through the file since the last force. */
    private volatile boolean writtenThroughFile;
    /**
     * Per chunk, "stored into through its mapping since it was mapped" (so some of its pages may be the process's own
     * copies, which a write through the file does not reach). Set by {@link #markDirty} and by a growth that takes a
     * private chunk's write faults, never cleared; every setter ORs atomically, because a background growth sets its
     * bit beside the writer's. Read by the writer.
     */
    private final long[] touchedChunks;

    private volatile MemorySegment[] chunks;
    private volatile int capacitySlots;
    /**
     * During a bulk copy's sparse growth, the byte up to which every byte of the file was written (data or zeros);
     * past it the file may hold holes. {@link #DENSE} outside the window. Guarded by this object's monitor.
     */
    private long writtenEnd = DENSE;

    private ShardFile(
            int shardId,
            int slotSize,
            int chunkShift,
            int maxSlots,
            ShardStorage storage,
            FailStop failStop,
            boolean readOnly,
            boolean privatePages) {
        this.path = storage.path();
        this.shardId = shardId;
        this.slotSize = slotSize;
        this.chunkShift = chunkShift;
        this.chunkMask = (1 << chunkShift) - 1;
        this.chunkBytes = (long) slotSize << chunkShift;
        this.maxSlots = maxSlots;
        this.storage = storage;
        this.failStop = failStop;
        this.readOnly = readOnly;
        this.privatePages = privatePages && !readOnly;
        this.chunks = new MemorySegment[0];
        int maxChunks = ((maxSlots - 1) >>> chunkShift) + 1;
        this.dirtyChunks = new long[(maxChunks + 63) >>> 6];
        this.touchedChunks = new long[dirtyChunks.length];
        int perPage = 63 - Long.numberOfLeadingZeros(Math.max(1, BLOCK_BYTES / slotSize));
        this.blockShift = Math.min(chunkShift, perPage);
    }

    /** The chunk shift giving chunks of about {@code growthStepBytes} (at least 64 slots). */
    public static int chunkShiftFor(long growthStepBytes, int slotSize) {
        long slots = Math.max(64, growthStepBytes / slotSize);
        return 63 - Long.numberOfLeadingZeros(slots);
    }

    /**
     * As {@link #open(Path, DbMeta, int, int, int, boolean, ShardStorage.Opener, FailStop, boolean)} with shared
     * mappings.
     */
    public static ShardFile open(
            Path dir,
            DbMeta meta,
            int shardId,
            int chunkShift,
            int maxSlots,
            boolean readOnly,
            ShardStorage.Opener opener,
            FailStop failStop) {
        return open(dir, meta, shardId, chunkShift, maxSlots, readOnly, opener, failStop, false);
    }

    /**
     * Opens (creating it with its header if absent) the file of {@code shardId} in {@code dir} and maps every
     * whole chunk it holds; creates the first chunk of a new file.
     *
     * @param opener the file layer (real files, or a simulation in tests)
     * @param failStop the collection's fail-stop state, set by a failed force or growth
     * @param privatePages map chunks privately (only with a redo log that holds every store a process crash must
     *     keep; see the class comment); ignored when {@code readOnly}
     * @throws ArmDbCorruptException if the header does not match the collection
     */
    public static ShardFile open(
            Path dir,
            DbMeta meta,
            int shardId,
            int chunkShift,
            int maxSlots,
            boolean readOnly,
            ShardStorage.Opener opener,
            FailStop failStop,
            boolean privatePages) {
        Path path = dir.resolve(fileName(shardId));
        ShardStorage st = null;
        try {
            st = opener.open(path, readOnly);
            if (st.size() == 0) {
                if (readOnly) {
                    throw new ArmDbCorruptException("shard file " + path + " is missing");
                }
                writeHeader(st, meta, shardId);
            } else {
                checkHeader(st, meta, shardId, path);
            }
            ShardFile f =
                    new ShardFile(shardId, meta.slotSize(), chunkShift, maxSlots, st, failStop, readOnly, privatePages);
            f.mapExisting();
            if (f.capacity() == 0 && !readOnly) {
                f.grow();
            }
            return f;
        } catch (NoSuchFileException e) {
            closeQuietly(st);
            throw new ArmDbCorruptException("shard file " + path + " is missing");
        } catch (IOException e) {
            closeQuietly(st);
            throw new ArmDbException("cannot open shard file " + path + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(st);
            throw e;
        }
    }

    private static void closeQuietly(ShardStorage st) {
        if (st != null) {
            st.close();
        }
    }

    static byte[] encodeHeader(DbMeta meta, int shardId) {
        ByteBuffer b = ByteBuffer.allocate(HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC_OFFSET, MAGIC);
        b.putInt(FORMAT_VERSION_OFFSET, DbMetaLayout.FORMAT_VERSION);
        b.putInt(SHARD_ID_OFFSET, shardId);
        b.put(DATABASE_ID_OFFSET, meta.databaseId());
        b.putInt(SLOT_SIZE_OFFSET, meta.slotSize());
        b.putInt(KEY_SIZE_OFFSET, meta.keySize());
        b.putInt(VALUE_SIZE_OFFSET, meta.valueSize());
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, CRC_OFFSET);
        b.putInt(CRC_OFFSET, (int) crc.getValue());
        return b.array();
    }

    private static void writeHeader(ShardStorage st, DbMeta meta, int shardId) throws IOException {
        st.write(ByteBuffer.wrap(encodeHeader(meta, shardId)), 0);
        st.forceFile();
    }

    private static void checkHeader(ShardStorage st, DbMeta meta, int shardId, Path path) throws IOException {
        if (st.size() < HEADER_SIZE) {
            throw new ArmDbCorruptException("shard file " + path + " is truncated: expected at least " + HEADER_SIZE
                    + " bytes, found " + st.size());
        }
        ByteBuffer b = ByteBuffer.allocate(HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        st.read(b, 0);
        byte[] expected = encodeHeader(meta, shardId);
        if (!Arrays.equals(b.array(), expected)) {
            throw new ArmDbCorruptException(
                    "shard file " + path + " does not belong to this collection: expected header "
                            + HexFormat.of().formatHex(expected) + ", found "
                            + HexFormat.of().formatHex(b.array()));
        }
    }

    private void mapExisting() throws IOException {
        long size = storage.size();
        long wholeChunks = (size - HEADER_SIZE) / chunkBytes;
        long tail = size - HEADER_SIZE - wholeChunks * chunkBytes;
        long tailSlots = tail / slotSize;
        boolean mapTail = readOnly && tailSlots > 0;
        MemorySegment[] segs = new MemorySegment[(int) wholeChunks + (mapTail ? 1 : 0)];
        for (int c = 0; c < wholeChunks; c++) {
            segs[c] = mapChunk(c, chunkBytes);
        }
        if (mapTail) {
            // read-only (verification) of a file grown in other steps: map the last, partial chunk as it is
            segs[(int) wholeChunks] = mapChunk((int) wholeChunks, tailSlots * slotSize);
        }
        dirtyBlocks = blockBitsFor(segs.length, new long[0][]);
        chunks = segs;
        capacitySlots = (int) ((wholeChunks << chunkShift) + (mapTail ? tailSlots : 0));
        if (tail > 0 && !readOnly) {
            // a partial chunk (an interrupted growth, or another growth step): complete it so it can be mapped
            zeroFill(size, HEADER_SIZE + (wholeChunks + 1) * chunkBytes - size);
            growMapping(false, true);
        }
    }

    private MemorySegment mapChunk(int c, long bytes) throws IOException {
        long at = chunkPosition(c);
        return privatePages ? storage.mapPrivate(at, bytes) : storage.map(at, bytes);
    }

    private long chunkPosition(int c) {
        return HEADER_SIZE + c * chunkBytes;
    }

    /** True if chunks are mapped privately: stores reach the file only when {@link #force()} writes them back. */
    public boolean privatePages() {
        return privatePages;
    }

    /** Slots the mapped chunks hold. Any thread. */
    public int capacity() {
        return capacitySlots;
    }

    /** Bytes of the file. Any thread. */
    public long fileBytes() {
        return HEADER_SIZE + (long) capacitySlots * slotSize;
    }

    /** The mapping holding {@code slot}. Any thread. */
    public MemorySegment segment(int slot) {
        return chunks[slot >>> chunkShift];
    }

    /** The offset of {@code slot} inside {@link #segment(int)}. */
    public long offset(int slot) {
        return (long) (slot & chunkMask) * slotSize;
    }

    /** Every mapped chunk, in order. */
    public MemorySegment[] chunks() {
        return chunks;
    }

    /** Slots per chunk. */
    public int slotsPerChunk() {
        return 1 << chunkShift;
    }

    /** {@code old}'s per-chunk bit arrays, and fresh ones for the chunks up to {@code chunks}. */
    private long[][] blockBitsFor(int chunks, long[][] old) {
        long[][] next = Arrays.copyOf(old, chunks);
        int words = ((1 << (chunkShift - blockShift)) + 63) >>> 6;
        for (int c = old.length; c < chunks; c++) {
            next[c] = new long[words];
        }
        return next;
    }

    /**
     * Notes that {@code slot}'s block (and so its chunk) holds unforced changes: the block's bit first, then the
     * chunk's, which a force clears before it takes the block bits. Writer only: plain read-modify-writes, which the
     * forcer's atomic read-and-clear can only make spuriously dirty, never lose.
     */
    public void markDirty(int slot) {
        int c = slot >>> chunkShift;
        int b = (slot & chunkMask) >>> blockShift;
        dirtyBlocks[c][b >>> 6] |= 1L << b;
        dirtyChunks[c >>> 6] |= 1L << c;
        markTouched(c);
    }

    /** Sets chunk {@code c}'s touched bit; an atomic OR, and only the first time (the writer's path reads it). */
    private void markTouched(int c) {
        long bit = 1L << c;
        if ((touchedChunks[c >>> 6] & bit) == 0) {
            DIRTY.getAndBitwiseOr(touchedChunks, c >>> 6, bit);
        }
    }

    /** Notes a completed store into a mapping (a crash-state boundary for the simulated file layer). Writer only. */
    public void stored() {
        storage.stored();
    }

    /**
     * Writes the whole slot images {@code images} holds from its position to its limit, back to back, into the slots
     * from {@code first} on, through the file rather than the mapping, grows the mapping to cover them and marks their
     * chunks dirty. The page cache is shared, so the mapping sees them; unlike stores into the mapping, the write takes
     * no fault per page (on ext4 a page's first store after each writeback runs the file system's page-fault handler).
     * The slots may reach past the capacity: the write itself extends the file (with data, so it stays without holes),
     * and the growth that follows zero-fills only the rest of the last chunk, or, in a sparse-growth window (see the
     * class comment), leaves it to the next writes; a write that starts past what was written zero-fills the gap. For a
     * bulk copy into empty slots that no reader can see yet: the write is not a seqlock publication. Writer only;
     * serialised with {@link #grow} (so a growth cannot zero-fill the range this write extends the file by, read as
     * unwritten). With private pages, slots in chunks already stored into through their mappings also get the images
     * copied there (a page the process has its own copy of would not see the write), and the next force forces the
     * file. Design note: copying every image into the mappings instead (a page fault, a page of memory and a copy per
     * page) made a full sync of a million slots into a fresh follower take half as long again; through the file, the
     * page cache has the copy as it goes.
     *
     * @throws IllegalArgumentException if {@code first} is past the capacity (a hole would be left) or a slot is past
     *     the shard's slot limit
     * @throws ArmDbFullException if the growth after the write finds the disk full
     * @throws dev.armdb.ArmDbStorageFailedException if the write fails, a full disk included (the collection is then
     *     fail-stopped), or the collection is fail-stopped
     */
    synchronized void writeSlots(int first, ByteBuffer images) {
        int count = images.remaining() / slotSize;
        if (first < 0 || count < 0 || first > capacity() || (long) first + count > maxSlots) {
            throw new IllegalArgumentException("slots " + first + ".." + ((long) first + count - 1) + " must start"
                    + " within the capacity of shard " + shardId + ", " + capacity()
                    + " slots, and end within its limit, "
                    + maxSlots + " slots");
        }
        failStop.check();
        if (privatePages) {
            copyIntoTouchedChunks(first, Math.min(count, capacity() - first), images);
        }
        long start = HEADER_SIZE + (long) first * slotSize;
        try {
            fillHolesBefore(start);
            storage.write(images, start);
        } catch (IOException | UncheckedIOException e) {
            throw failStop.failed(path, "write", e);
        }
        if (writtenEnd != DENSE) {
            writtenEnd = Math.max(writtenEnd, start + (long) count * slotSize);
        }
        while (first + count > capacity()) {
            grow(false);
        }
        if (privatePages) {
            // the file holds what the mappings hold (chunks mapped after the write show it): it only needs forcing
            writtenThroughFile = true;
        } else {
            markDirty(first, count);
        }
    }

    /** Marks dirty every block of the {@code count} slots from {@code first} on. */
    private void markDirty(int first, int count) {
        for (int slot = first; slot < first + count; slot += 1 << blockShift) {
            markDirty(slot);
        }
        markDirty(first + count - 1);
    }

    /**
     * Copies the first {@code count} images of {@code images} (not moved) into the mapped slots from {@code first} on
     * whose chunk was stored into through its mapping: some of its pages may be the process's own copies, which the
     * write through the file does not reach. The other chunks' mappings show the page cache, which that write fills.
     */
    private void copyIntoTouchedChunks(int first, int count, ByteBuffer images) {
        MemorySegment src = MemorySegment.ofBuffer(images).asSlice(0, (long) count * slotSize);
        long done = 0;
        int slot = first;
        while (done < src.byteSize()) {
            int c = slot >>> chunkShift;
            MemorySegment chunk = segment(slot);
            long at = offset(slot);
            long n = Math.min(chunk.byteSize() - at, src.byteSize() - done);
            if ((touchedChunks[c >>> 6] & (1L << c)) != 0) {
                MemorySegment.copy(src, done, chunk, at, n);
            }
            done += n;
            slot += (int) (n / slotSize);
        }
    }

    /**
     * Adds one zero-filled chunk and maps it, taking the write fault of each of its pages here (see {@link
     * #grow(boolean)}).
     *
     * @throws ArmDbFullException if the shard reached its slot limit or the disk is full
     * @throws dev.armdb.ArmDbStorageFailedException if the collection is fail-stopped
     */
    public void grow() {
        grow(true);
    }

    /**
     * Adds one zero-filled chunk and maps it; with {@code prefault}, takes the write fault of each of its pages here
     * (a background grower does, so that a writer does not), else leaves them to the first stores (a bulk copy
     * writes through the file and would only pay for them twice). A failed write (a full disk) fail-stops the
     * collection.
     *
     * @throws ArmDbFullException if the shard reached its slot limit or the disk is full
     * @throws dev.armdb.ArmDbStorageFailedException if the collection is fail-stopped
     */
    public synchronized void grow(boolean prefault) {
        int cap = capacity();
        if (cap >= maxSlots) {
            throw new ArmDbFullException(
                    "shard " + shardId + " is full: " + cap + " slots, limit " + maxSlots + " slots per shard");
        }
        failStop.check();
        long end = fileBytes();
        boolean sparse = writtenEnd != DENSE;
        try {
            long have = Math.max(end, storage.size());
            if (have < end + chunkBytes && !sparse) {
                zeroFill(have, end + chunkBytes - have);
            }
            // sparse: mapping past the end extends the file without writing it (see the class comment)
            growMapping(have == end, prefault && !sparse);
        } catch (IOException | UncheckedIOException e) {
            try {
                storage.truncate(end);
            } catch (IOException ignored) {
                // keep the first error; a partial chunk is completed on the next open
            }
            ArmDbFullException full = new ArmDbFullException(
                    "cannot grow shard file " + path + " by " + chunkBytes + " bytes: " + e.getMessage(), e);
            failStop.failed(path, "growth", full);
            throw full;
        }
    }

    /**
     * Maps the next chunk and publishes it; {@code zeroed}: this growth just wrote every byte of it as zero;
     * {@code prefault}: take its pages' write faults now.
     */
    private void growMapping(boolean zeroed, boolean prefault) throws IOException {
        MemorySegment[] old = chunks;
        MemorySegment[] next = Arrays.copyOf(old, old.length + 1);
        next[old.length] = mapChunk(old.length, chunkBytes);
        if (prefault) {
            prefault(old.length, next[old.length], zeroed);
        }
        // volatile writes: the new mapping and its dirty bits are complete before a reader or writer can reach it
        dirtyBlocks = blockBitsFor(next.length, dirtyBlocks);
        chunks = next;
        capacitySlots = next.length << chunkShift;
    }

    /**
     * Takes the write fault of every page of new chunk {@code c} here (a background grower, usually) rather than on
     * the writer's path, keeping every byte's value: a chunk known to be all zeros is filled with zeros (one write
     * fault per page), any other is copied onto itself. One bulk operation rather than a store per page: a per-page
     * loop runs interpreted in a fresh JVM, where each access costs microseconds. Safe only before the chunk is
     * published, while no other thread can reach it.
     *
     * <p>Design note: with private pages this matters most. A page that a read reaches first is mapped read-only onto
     * the page cache, so the first store after it copies the page and must take the old mapping back from every core
     * the process runs on (a TLB shoot-down, an interrupt per core, slow on virtual machines); a page whose first touch
     * is a store is copied with no old mapping to take back. Measured through {@code serve} under SET -P 16 while the
     * slot files grew (2 cores, one follower process), those faults took about 8% of the follower's applier and 4%
     * of the leader's event loop, and the writers' faults per write halved once growth took them. The pages become
     * the process's own, so the chunk counts as stored into (writes through the file then also copy into it, see
     * {@link #writeSlots}); its memory is what the writer's stores would have taken anyway, at most one chunk (the
     * growth step, 4 MiB by default) per shard ahead of them.
     */
    private void prefault(int c, MemorySegment chunk, boolean zeroed) {
        if (readOnly) {
            return;
        }
        if (privatePages) {
            markTouched(c);
        }
        if (zeroed) {
            chunk.fill((byte) 0);
        } else {
            MemorySegment.copy(chunk, 0, chunk, 0, chunk.byteSize());
        }
    }

    /**
     * Opens a bulk copy's sparse-growth window (see the class comment): from now on a growth maps its chunk without
     * writing it, and the file counts as written only up to its header, since a copy interrupted earlier (a crash)
     * may have left holes anywhere past that. For a bulk copy into an empty shard, whose writes through the file
     * ({@link #writeSlots}) start at slot 0. Writer only.
     */
    synchronized void beginSparseGrowth() {
        writtenEnd = HEADER_SIZE;
    }

    /**
     * Closes the sparse-growth window: zero-fills the file from the end of what was written to its end, so it holds
     * no hole again. A no-op outside the window. Writer only.
     *
     * @throws ArmDbFullException if the disk is full (the collection is then fail-stopped)
     */
    synchronized void endSparseGrowth() {
        if (writtenEnd == DENSE) {
            return;
        }
        try {
            fillHolesBefore(fileBytes());
        } catch (IOException | UncheckedIOException e) {
            ArmDbFullException full = new ArmDbFullException(
                    "cannot fill shard file " + path + " up to " + fileBytes() + " bytes: " + e.getMessage(), e);
            failStop.failed(path, "growth", full);
            throw full;
        } finally {
            writtenEnd = DENSE;
        }
    }

    /**
     * Writes zeros over every slot of the file, from its header to its end, through positional writes, so that it
     * holds no hole whatever an interrupted copy left; the slots' data is lost. Writer only.
     *
     * @throws ArmDbFullException if the disk is full (the collection is then fail-stopped)
     */
    synchronized void fillWithZeros() {
        writtenEnd = HEADER_SIZE;
        endSparseGrowth();
    }

    /**
     * Zero-fills the file from the end of what was written up to the end of {@code slot}, if the sparse-growth
     * window is open, so that a store into the slot's mapping lands in written pages (a store into a hole could
     * fault on a full disk). Writer only.
     *
     * @throws dev.armdb.ArmDbStorageFailedException if the write fails (the collection is then fail-stopped)
     */
    synchronized void fillHolesThrough(int slot) {
        try {
            fillHolesBefore(HEADER_SIZE + ((long) slot + 1) * slotSize);
        } catch (IOException | UncheckedIOException e) {
            throw failStop.failed(path, "write", e);
        }
    }

    /** Inside the sparse-growth window, zero-fills from the end of what was written up to {@code position}. */
    private void fillHolesBefore(long position) throws IOException {
        if (writtenEnd < position) {
            zeroFill(writtenEnd, position - writtenEnd);
            writtenEnd = position;
        }
    }

    private void zeroFill(long from, long length) throws IOException {
        ByteBuffer zeros = ByteBuffer.allocateDirect((int) Math.min(ZERO_BLOCK, length));
        long pos = from;
        long end = from + length;
        while (pos < end) {
            zeros.clear().limit((int) Math.min(zeros.capacity(), end - pos));
            int n = zeros.remaining();
            storage.write(zeros, pos);
            pos += n;
        }
        // No force here: forcing would write back every dirty page of the file at each growth (and make every
        // mapped page fault again). The new length is persisted by the first force of a chunk in the new region
        // (msync has fdatasync semantics, which include the file size), which is before any slot there is durable;
        // a crash before that leaves a short file whose partial chunk the next open completes.
    }

    /**
     * Forces every chunk written since the last force. Serialised; called by whoever makes data durable.
     *
     * @throws dev.armdb.ArmDbStorageFailedException if this force fails or the collection is already fail-stopped
     */
    public synchronized void force() {
        failStop.check();
        writeBack(false);
    }

    /**
     * Takes every dirty chunk's bits and writes back its dirty blocks, in runs: into the file (private pages, then one
     * force of the file if anything was written or {@code forceFileAlways}) or by forcing the mapping's range (shared
     * pages). Only chunks mapped when the force began: a chunk mapped since (growth runs beside a force) keeps its
     * bit for the force that can see it, so a SYNC writer behind this force still forces it. Bits are cleared before
     * the writes (a store made meanwhile sets its bit again); if a write or force fails, every bit taken is put back
     * and the collection fail-stops.
     *
     * <p>Design note: a force of pages mapped shared makes the kernel write-protect them, so the next store into each
     * takes a page fault (on ext4, the file system's page-fault handler), and on two cores it also waits for the
     * force's TLB shoot-downs: measured through {@code serve}, about 8 us of CPU per SET instead of 3 while a
     * checkpoint ran. Private pages are the process's own memory, which no force touches; the checkpoint copies them
     * into the page cache with one write per run of dirty blocks. The writer's store into a slot races with that copy,
     * which may take a torn image: the store's redo-log record follows the checkpoint's switch, so replay repairs it.
     * Blocks of about a page keep the write-back of sparse writes close to what they wrote (a 4 MiB chunk per write
     * would multiply it by a thousand).
     */
    private void writeBack(boolean forceFileAlways) {
        MemorySegment[] segs = chunks;
        long[][] blocks = dirtyBlocks;
        int[] taken = new int[segs.length];
        int n = 0;
        for (int w = 0; w < dirtyChunks.length && (w << 6) < segs.length; w++) {
            long mask = chunkMask(segs.length, w);
            long bits = (long) DIRTY.getAndBitwiseAnd(dirtyChunks, w, ~mask) & mask;
            while (bits != 0) {
                taken[n++] = (w << 6) + Long.numberOfTrailingZeros(bits);
                bits &= bits - 1;
            }
        }
        long[][] takenBlocks = new long[n][];
        try {
            for (int i = 0; i < n; i++) {
                int c = taken[i];
                takenBlocks[i] = takeBits(blocks[c]);
                writeBackRuns(c, segs[c], takenBlocks[i]);
            }
            if (privatePages && (n > 0 || forceFileAlways || writtenThroughFile)) {
                writtenThroughFile = false;
                storage.forceData();
            }
        } catch (IOException | UncheckedIOException e) {
            writtenThroughFile = privatePages;
            for (int i = 0; i < n; i++) {
                int c = taken[i];
                if (takenBlocks[i] != null) {
                    for (int w = 0; w < takenBlocks[i].length; w++) {
                        DIRTY.getAndBitwiseOr(blocks[c], w, takenBlocks[i][w]);
                    }
                }
                DIRTY.getAndBitwiseOr(dirtyChunks, c >>> 6, 1L << c);
            }
            throw failStop.failed(
                    path, "force", e instanceof UncheckedIOException u && u.getCause() != null ? u.getCause() : e);
        }
    }

    /** Reads and clears every word of {@code bits}, atomically each; returns what it read. */
    private static long[] takeBits(long[] bits) {
        long[] out = new long[bits.length];
        for (int w = 0; w < bits.length; w++) {
            out[w] = (long) DIRTY.getAndSet(bits, w, 0L);
        }
        return out;
    }

    /** Writes back (private) or forces (shared) each run of the blocks {@code bits} names in chunk {@code c}. */
    private void writeBackRuns(int c, MemorySegment chunk, long[] bits) throws IOException {
        java.util.BitSet set = java.util.BitSet.valueOf(bits);
        long blockBytes = (long) slotSize << blockShift;
        for (int b = set.nextSetBit(0); b >= 0; b = set.nextSetBit(b)) {
            int end = set.nextClearBit(b);
            long from = b * blockBytes;
            MemorySegment run = chunk.asSlice(from, Math.min((end - b) * blockBytes, chunk.byteSize() - from));
            if (privatePages) {
                storage.write(run.asByteBuffer(), chunkPosition(c) + from);
            } else {
                storage.force(run);
            }
            b = end;
        }
    }

    /** The bits of word {@code w} that name one of the first {@code chunks} chunks. */
    private static long chunkMask(int chunks, int w) {
        int inWord = chunks - (w << 6);
        return inWord >= 64 ? -1L : (1L << inWord) - 1;
    }

    /** Chunks marked written since their last force (tests). Any thread. */
    int dirtyChunkCount() {
        int mapped = chunks.length;
        int n = 0;
        for (int w = 0; w < dirtyChunks.length && (w << 6) < mapped; w++) {
            n += Long.bitCount((long) DIRTY.getVolatile(dirtyChunks, w) & chunkMask(mapped, w));
        }
        return n;
    }

    /** True if some chunk was written since its last force (whatever the LSNs written). */
    public boolean isDirty() {
        int mapped = chunks.length;
        for (int w = 0; w < dirtyChunks.length && (w << 6) < mapped; w++) {
            if ((long) DIRTY.getVolatile(dirtyChunks, w) != 0) {
                return true;
            }
        }
        return writtenThroughFile;
    }

    /**
     * Forces every chunk, dirty or not (at open: what a process that died left in the page cache).
     *
     * @throws dev.armdb.ArmDbStorageFailedException if a force fails or the collection is already fail-stopped
     */
    public synchronized void forceAll() {
        failStop.check();
        if (privatePages) {
            // a private mapping holds only this process's stores: the file's own page cache is what to force
            writeBack(true);
            return;
        }
        for (MemorySegment s : chunks) {
            try {
                storage.force(s);
            } catch (UncheckedIOException e) {
                throw failStop.failed(path, "force", e.getCause() != null ? e.getCause() : e);
            }
        }
    }

    /** The file's path. */
    public Path path() {
        return path;
    }

    /** Unmaps every chunk and closes the file. Callers make sure no thread still reads it. */
    @Override
    public synchronized void close() {
        storage.close();
    }
}
