package dev.armdb.store;

import static dev.armdb.store.SlotLayout.*;

import dev.armdb.ArmDbClosedException;
import dev.armdb.ArmDbFullException;
import dev.armdb.ArmDbReadOnlyException;
import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.changes.ChangeFeed;
import dev.armdb.changes.ShardView;
import dev.armdb.index.HashIndex;
import dev.armdb.index.KeyHash;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One shard: a slot file, its hash index, its change feed, and the rules that keep them crash-safe. The shard
 * coordinates; the protocols live in its parts:
 *
 * <ul>
 *   <li>{@link UserWriter}: user writes, copy-on-write (a new value or tombstone goes to a free slot; the old slot is
 *       retired), with the {@link SlotAllocator}, which releases retired slots in the order durability requires;
 *   <li>{@link ReplicaApplier}: a follower's writes, images shipped by a leader applied in any order, and the bulk
 *       load of a first copy;
 *   <li>{@link SlotWriter} and {@link SlotReader}: the two halves of the slot seqlock (each write protocol has its
 *       own writer, so they share no scratch buffer);
 *   <li>{@link ShardSync}: forces, the durable LSN, force marks and checkpoints of the redo log;
 *   <li>{@link ShardFile}: mappings, growth and dirty chunks.
 * </ul>
 *
 * <p>The shard itself owns the writer lock, the last LSN and the high-water mark (both published with release
 * semantics for lock-free readers), the index, the change feed, the key listener, the count of DELETED slots and the
 * lifecycle (open and recovery, promotion, wipe, close). A user write takes the next LSN and is published to the
 * {@link ChangeFeed}; a replica's images keep the leader's LSNs and publish nothing.
 *
 * <p><b>Writes</b> of either protocol are serialised by the writer lock, which only this class takes. <b>Reads</b>
 * take no lock: they find the slot through the index and copy it with the slot seqlock, retrying if a writer touched
 * it meanwhile; after a few retries they read under the writer lock, so progress is guaranteed. Hot paths ({@code
 * get} into a caller's buffer, {@code put}, {@code delete}) allocate nothing.
 *
 * <p>A failed force or growth fail-stops the collection ({@link FailStop}): every later write throws {@link
 * dev.armdb.ArmDbStorageFailedException}, reads keep working.
 *
 * <p>Threading: any thread may call any public method; writes and the replica methods take the writer lock, reads
 * do not, forces run under {@link ShardSync}'s own lock.
 */
public final class Shard implements ShardView {
    private static final Logger LOG = LoggerFactory.getLogger(Shard.class);
    private static final VarHandle LAST_LSN;
    private static final VarHandle HIGH_WATER;
    private static final int LOCK_FREE_ATTEMPTS = 64;
    /**
     * Steps of settled retirements {@link #drainIfPending} takes per hold of the writer lock. A FREE mark writes an
     * old slot, which with shared mappings was usually on a page the last checkpoint write-protected (measured then);
     * under load such holds of 64 steps still made
     * the writer wait 0.3-3 ms now and then, of 16 somewhat less often (same runs, lag bench).
     */
    private static final int DRAIN_CHUNK = 16;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            LAST_LSN = l.findVarHandle(Shard.class, "lastLsn", long.class);
            HIGH_WATER = l.findVarHandle(Shard.class, "highWater", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final int id;
    private final int keySize;
    private final int valueSize;
    private final int slotSize;
    private final Durability durability;
    private final int maxSlots;
    private final ShardFile file;
    /** The redo log; null in {@link Durability#NONE}. */
    private final ShardLog log;

    private final FailStop failStop;
    private volatile HashIndex index;
    private volatile ChangeFeed feed;
    private final ReentrantLock writeLock = new ReentrantLock();
    private final SlotReader reader;
    private final ShardSync sync;
    private final ReplicaApplier applier;
    private final UserWriter writes;
    private final int corruptAtOpen;
    private final int[] corruptSlotsAtOpen;
    private final int incompleteAtOpen;
    private final int changeFeedCapacity;
    private final Runnable growthHint;
    private KeyListener listener;

    @SuppressWarnings("unused") // accessed through LAST_LSN
    private long lastLsn;

    @SuppressWarnings("unused") // accessed through HIGH_WATER
    private int highWater;

    private volatile boolean closed;
    /**
     * DELETED slots in the file, for stats. Both write protocols change it: user deletes write and reuse tombstones,
     * replica apply copies images over one another and recounts after a bulk load. Sharing one count is safe: every
     * change holds the writer lock, so the two never interleave, and it counts a fact of the file both change.
     */
    private int deletedSlots;
    /** User writes fail while true (the collection is a replica); read and written under the write lock only. */
    private boolean userWritesRefused;

    private Shard(
            int id,
            DbMeta meta,
            FixedConfig cfg,
            ShardFile file,
            FailStop failStop,
            ShardRecovery rec,
            ShardLogReplay.Opened logged,
            Runnable growthHint,
            boolean replica) {
        this.id = id;
        this.keySize = meta.keySize();
        this.valueSize = meta.valueSize();
        this.slotSize = meta.slotSize();
        this.durability = cfg.durability();
        this.maxSlots = cfg.maxSlotsPerShard();
        this.file = file;
        this.failStop = failStop;
        this.index = rec.index;
        boolean logging = logged != null && durability != Durability.NONE;
        this.log = logging ? logged.log() : null;
        this.reader = new SlotReader(file, keySize, valueSize, slotSize);
        this.sync = new ShardSync(file, log, this::lastLsn);
        this.applier = new ReplicaApplier(
                this,
                file,
                new SlotWriter(file, keySize, valueSize, slotSize, log),
                reader,
                keySize,
                valueSize,
                slotSize,
                maxSlots,
                replica ? rec.indexedTombstones : 0);
        this.writes = new UserWriter(
                this,
                new SlotWriter(file, keySize, valueSize, slotSize, log),
                reader,
                sync,
                valueSize,
                durability == Durability.NONE);
        this.growthHint = growthHint;
        this.corruptAtOpen = rec.corrupt.length;
        this.corruptSlotsAtOpen = rec.corrupt;
        this.incompleteAtOpen = rec.incomplete;
        this.deletedSlots = rec.deletedSlots;
        HIGH_WATER.setRelease(this, rec.highWater);
        LAST_LSN.setRelease(this, rec.maxLsn);
        this.userWritesRefused = replica;
        if (replica) {
            // a replica keeps the leader's slots and LSNs as they are (see ShardRecovery's replica rules), but what a
            // dead process left in the page cache is durable before this shard claims any LSN durable
            file.forceAll();
        } else {
            settleRecovery(rec);
        }
        if (logged != null) {
            // every replayed record is in the slot file just forced: start an empty log, with a generation above
            // any a record of the dead process may carry (at most one above the newest header)
            logged.log().reset(1 - logged.newestFile(), logged.maxGeneration() + 2);
            if (!logging) {
                logged.log().close();
            }
        }
        sync.durableLsn(lastLsn());
        this.changeFeedCapacity = cfg.changeFeedCapacity();
        this.feed = new ChangeFeed(changeFeedCapacity, lastLsn());
    }

    /**
     * Opens shard {@code id} of the collection in {@code dir}, creating its file if needed, and recovers it.
     *
     * @param growthHint run (on the writer's thread) when the file is close to full, to grow it in the background
     * @param replica recover with replica rules (the collection is a follower's)
     * @param opener the file layer (real files, or a simulation in tests)
     * @param failStop the collection's fail-stop state
     */
    static Shard open(
            Path dir,
            DbMeta meta,
            FixedConfig cfg,
            int id,
            Runnable growthHint,
            boolean replica,
            ShardStorage.Opener opener,
            FailStop failStop) {
        int shift = ShardFile.chunkShiftFor(cfg.growthStepBytes(), meta.slotSize());
        // private pages only where the redo log holds every store a process crash must keep (see ShardFile)
        boolean privatePages = cfg.durability() != Durability.NONE && cfg.privateSlotPages();
        ShardFile file =
                ShardFile.open(dir, meta, id, shift, cfg.maxSlotsPerShard(), false, opener, failStop, privatePages);
        ShardLogReplay.Opened logged = null;
        try {
            logged = ShardLogReplay.open(
                    dir,
                    meta,
                    id,
                    file,
                    cfg.maxSlotsPerShard(),
                    cfg.logCheckpointBytes(),
                    cfg.durability() != Durability.NONE,
                    opener,
                    failStop);
            ShardRecovery rec = ShardRecovery.scan(file, meta.keySize(), meta.slotSize(), replica);
            Shard shard = new Shard(id, meta, cfg, file, failStop, rec, logged, growthHint, replica);
            rec.log(LOG, id);
            return shard;
        } catch (RuntimeException | Error e) {
            if (logged != null) {
                logged.log().close();
            }
            file.close();
            throw e;
        }
    }

    private void settleRecovery(ShardRecovery rec) {
        settleRecovery(rec, rec.maxLsn);
    }

    private void settleRecovery(ShardRecovery rec, long lastLsn) {
        LAST_LSN.setRelease(this, writes.releaseLosers(rec.losers, lastLsn));
        // releases of superseded slots must be durable before tombstones that hid them become reusable
        file.forceAll();
        writes.seed(rec.reusable, rec.losers);
    }

    /**
     * Sets the listener told of keys entering and leaving and of changed values, and hands every key live now, with
     * its slot, to {@code existing} (fresh arrays), atomically with respect to writers.
     */
    public void attachKeyListener(KeyListener l, java.util.function.ObjIntConsumer<byte[]> existing) {
        lockWriter();
        try {
            checkOpen();
            index.forEachSlot(slot -> existing.accept(reader.keyAt(slot), slot));
            this.listener = l;
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * Copies the value in {@code slot} into {@code out} at {@code offset}, without the writer lock: for an index built
     * from the slots {@link #attachKeyListener} handed out while no writer can run yet (a collection being opened).
     */
    public void copyValueWhileNoWriterRuns(int slot, byte[] out, int offset) {
        checkOpen();
        reader.copyValue(slot, out, offset);
    }

    /** The hash index (for building other indexes at open, and for the write protocols). */
    HashIndex index() {
        return index;
    }

    /** The reader's half of this shard's slot seqlock (tests of the read protocol). Any thread. */
    SlotReader reader() {
        return reader;
    }

    /** The key listener, or null. Writer lock held. */
    KeyListener listener() {
        return listener;
    }

    /** Adds {@code delta} to the count of DELETED slots. Writer lock held. */
    void addDeletedSlots(int delta) {
        deletedSlots += delta;
    }

    /** Sets the count of DELETED slots (a recount). Writer lock held. */
    void setDeletedSlots(int count) {
        deletedSlots = count;
    }

    /**
     * Raises the high-water mark past {@code slot} and the last LSN to {@code lsn} where they are lower: a replica's
     * images arrive in any slot and LSN order. Writer lock held.
     */
    void applied(int slot, long lsn) {
        if (slot >= slotCount()) {
            HIGH_WATER.setRelease(this, slot + 1);
        }
        if (lsn > lastLsn()) {
            LAST_LSN.setRelease(this, lsn);
        }
    }

    // ---------------------------------------------------------------- writes

    /**
     * Takes the writer lock. Tries for a short while first: writers hold it for a few hundred nanoseconds, and a
     * {@link ReentrantLock#lock()} that has to queue allocates a node, which the allocation-free write path must not.
     */
    private void lockWriter() {
        for (int spin = 0; spin < 64; spin++) {
            if (writeLock.tryLock()) {
                return;
            }
            Thread.onSpinWait();
        }
        writeLock.lock();
    }

    /** Stores {@code value} under {@code key}; returns the LSN of the write. */
    public long put(byte[] key, long hash, byte[] value) {
        long lsn;
        lockWriter();
        try {
            beforeMutation();
            HashIndex idx = index;
            lsn = writes.writeValue(idx, key, hash, value, idx.find(hash, key));
        } finally {
            writeLock.unlock();
        }
        afterMutation(lsn);
        return lsn;
    }

    /** Stores {@code value} only if {@code key} is absent; returns the LSN, or 0 if the key was present. */
    public long putIfAbsent(byte[] key, long hash, byte[] value) {
        long lsn;
        lockWriter();
        try {
            beforeMutation();
            HashIndex idx = index;
            if (idx.find(hash, key) >= 0) {
                return 0;
            }
            lsn = writes.writeValue(idx, key, hash, value, -1);
        } finally {
            writeLock.unlock();
        }
        afterMutation(lsn);
        return lsn;
    }

    /** Replaces the value only if it equals {@code expected}; returns the LSN, or 0 if not replaced. */
    public long compareAndSet(byte[] key, long hash, byte[] expected, byte[] update) {
        long lsn;
        lockWriter();
        try {
            beforeMutation();
            HashIndex idx = index;
            int slot = idx.find(hash, key);
            if (slot < 0 || !reader.valueEquals(slot, expected)) {
                return 0;
            }
            lsn = writes.writeValue(idx, key, hash, update, slot);
        } finally {
            writeLock.unlock();
        }
        afterMutation(lsn);
        return lsn;
    }

    /**
     * Deletes {@code key}; returns the LSN of the tombstone, or 0 if the key was absent. The tombstone is written
     * copy-on-write into a free slot, like a new value (see {@link UserWriter#delete}).
     */
    public long delete(byte[] key, long hash) {
        long lsn;
        lockWriter();
        try {
            beforeMutation();
            HashIndex idx = index;
            int slot = idx.find(hash, key);
            if (slot < 0) {
                return 0;
            }
            lsn = writes.delete(idx, key, hash, slot);
        } finally {
            writeLock.unlock();
        }
        afterMutation(lsn);
        return lsn;
    }

    private void checkOpen() {
        if (closed) {
            throw new ArmDbClosedException("shard " + id + " of " + file.path().getParent() + " is closed");
        }
    }

    private void beforeMutation() {
        checkOpen();
        failStop.check();
        if (userWritesRefused) {
            throw new ArmDbReadOnlyException("shard " + id + " is part of a read-only replica; writes are refused"
                    + " until the collection is promoted");
        }
        if (writes.pending() > 0) {
            writes.drainPending();
        }
    }

    private void afterMutation(long lsn) {
        if (durability == Durability.SYNC) {
            syncTo(lsn);
        }
    }

    /** Publishes a change of {@code slot} at {@code lsn}: dirty mark, last LSN, change feed. Writer lock held. */
    void publish(long lsn, int slot) {
        file.markDirty(slot);
        // release: the slot image and dirty mark are visible before the LSN that covers them
        LAST_LSN.setRelease(this, lsn);
        feed.publish(lsn, slot);
    }

    /**
     * Takes the slot at the high-water mark for a new image, growing the file if the mark reached its end, and hints
     * at a background growth when the file is close to full. Writer lock held.
     *
     * @throws ArmDbFullException if the shard already holds its most slots
     */
    int claimFreshSlot() {
        int hw = (int) HIGH_WATER.get(this);
        if (hw >= maxSlots) {
            throw new ArmDbFullException("shard " + id + " of " + file.path().getParent() + " is full: " + hw
                    + " slots in use, limit " + maxSlots + " slots per shard");
        }
        if (hw >= file.capacity()) {
            file.grow();
        }
        // release: readers scanning up to the high-water mark see the mapping that holds it
        HIGH_WATER.setRelease(this, hw + 1);
        if (file.capacity() - hw < file.slotsPerChunk() / 4 && growthHint != null) {
            growthHint.run();
        }
        return hw;
    }

    /** True if no slot is left past the high-water mark. Writer lock held. */
    boolean atSlotLimit() {
        return (int) HIGH_WATER.get(this) >= maxSlots;
    }

    // ---------------------------------------------------------------- replication (follower side)

    /**
     * Applies a slot image shipped by a leader ({@link #slotSize()} bytes at {@code offset}, header included) to
     * {@code slot}, if its LSN is newer than the local slot's. Idempotent, and correct in any order of images:
     * the index maps each key to its newest known slot, LIVE or DELETED, so a tombstone applied before an older
     * live copy of its key (images are current images, read out of LSN order) still hides that copy. Reads treat
     * a key indexed at a tombstone as absent. Never publishes to the change feed (a follower's LSNs are the
     * leader's, not contiguous). Called by the replication applier only.
     *
     * @return true if applied, false if the local slot was already as new
     * @throws IllegalArgumentException if the slot id is out of range or the image fails its CRC
     */
    public boolean applyImage(int slot, byte[] image, int offset) {
        applier.checkImage(slot, image, offset, true);
        lockWriter();
        try {
            checkOpen();
            failStop.check();
            return applier.applyImage(slot, image, offset);
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * Applies {@code count} shipped images at once, as {@link #applyImage} does one by one, under one lock. Entry
     * {@code i} starts at {@code offset + i * stride}: a little-endian int slot id, then the image. Every entry is
     * checked before any is applied, so a bad batch changes nothing. While a {@linkplain #beginBulkLoad bulk load}
     * runs, images are copied into their slots without touching the index. Called by the replication applier only.
     *
     * @param crcVerified true if the caller already checked every image's CRC (the check is then skipped)
     * @return number of images applied (older ones are skipped)
     * @throws IllegalArgumentException if a slot id is out of range or an image is not a finished, valid slot
     */
    public int applyImages(byte[] buf, int offset, int count, int stride, boolean crcVerified) {
        applier.checkImages(buf, offset, count, stride, !crcVerified);
        lockWriter();
        try {
            checkOpen();
            failStop.check();
            return applier.applyImages(buf, offset, count, stride);
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * Starts a bulk load into this empty replica shard (a first catch-up): {@link #applyImages} then copies
     * images straight into their slots, and {@link #finishBulkLoad} builds the index once. Until then readers see
     * the shard as empty, and the group commit leaves it unforced: the caller must have marked the copy incomplete,
     * durably, so that a crash before the first force after {@link #finishBulkLoad} empties the shard. Called by the
     * replication applier only.
     *
     * @throws IllegalStateException if the shard holds any slot
     */
    public void beginBulkLoad() {
        beginBulkLoad(0);
    }

    /**
     * As {@link #beginBulkLoad()}, told how many slots the leader said it holds: the copy's key notes are sized for
     * them up front (at most {@value ReplicaApplier#MAX_PRESIZED_NOTES}; the hint comes from a peer), rather than
     * grown and copied as they fill.
     */
    public void beginBulkLoad(int expectedSlots) {
        lockWriter();
        try {
            checkOpen();
            failStop.check();
            applier.beginBulkLoad(expectedSlots);
        } finally {
            writeLock.unlock();
        }
    }

    /** True between {@link #beginBulkLoad} and {@link #finishBulkLoad}. */
    public boolean isBulkLoading() {
        return applier.isBulkLoading();
    }

    /**
     * Ends a bulk load: indexes every key at its newest slot, live or tombstone (replica rules, as {@link
     * #applyImage}), counts tombstones, and tells the key listener of every live key. Called by the replication
     * applier only; a no-op if no bulk load runs.
     */
    public void finishBulkLoad() {
        lockWriter();
        try {
            checkOpen();
            failStop.check();
            applier.finishBulkLoad();
        } finally {
            writeLock.unlock();
        }
    }

    /** True if this open's recovery found torn (in-progress) or corrupt slots: a crash cut a write short. */
    public boolean damagedAtOpen() {
        return corruptAtOpen > 0 || incompleteAtOpen > 0;
    }

    /**
     * Refuses (true) or allows (false) user writes. Taken under the write lock, so once it returns no user write
     * that saw the old setting is still running: a collection turned into a replica has no user write landing after
     * its replication starts changing the shard. Any thread.
     */
    public void refuseUserWrites(boolean refuse) {
        lockWriter();
        try {
            userWritesRefused = refuse;
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * Turns a replica shard into a writable one: rebuilds index, free list and counters from the slots exactly as
     * an open does (resolving duplicate keys by LSN, releasing superseded slots), and restarts the change feed
     * after the last applied LSN, so new writes continue the LSN sequence.
     */
    public void promote() {
        lockWriter();
        try {
            checkOpen();
            failStop.check();
            ShardRecovery rec = ShardRecovery.scan(file, keySize, slotSize);
            applier.reset();
            writes.clear();
            deletedSlots = rec.deletedSlots;
            HIGH_WATER.setRelease(this, rec.highWater);
            LAST_LSN.setRelease(this, Math.max(rec.maxLsn, lastLsn()));
            index = rec.index;
            settleRecovery(rec, lastLsn());
            sync.durableLsn(lastLsn());
            feed = new ChangeFeed(changeFeedCapacity, lastLsn());
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * Empties a shard whose copy from a leader a dead process left incomplete, as {@link #wipe} does, after writing
     * zeros over its whole slot file through positional writes: such a copy may have left holes in the file (see
     * {@link ShardFile#beginSparseGrowth}), and the wipe's stores through the mapping must land in written pages, not
     * holes (a store into a hole on a full disk would fault). Called by the store's open only.
     *
     * @throws ArmDbFullException if the disk is full (the collection is then fail-stopped)
     */
    void wipeCutShortCopy() {
        lockWriter();
        try {
            file.fillWithZeros();
        } finally {
            writeLock.unlock();
        }
        wipe();
    }

    /**
     * Empties the shard for a full resync from a leader: every slot zeroed, index and counters reset, LSN back to
     * 0. Called by the replication applier only, on a replica.
     */
    public void wipe() {
        lockWriter();
        try {
            checkOpen();
            failStop.check();
            applier.wipe(slotCount());
            writes.clear();
            deletedSlots = 0;
            HIGH_WATER.setRelease(this, 0);
            LAST_LSN.setRelease(this, 0L);
            sync.durableLsn(0);
        } finally {
            writeLock.unlock();
        }
        syncTo(0);
        // the zeroed slots are not logged: force them, then drop every record written before the wipe
        if (!sync.forceSlotsAndEmptyLog()) {
            file.force();
        }
    }

    // ---------------------------------------------------------------- reads

    /** Copies the value of {@code key} into {@code out}; false if absent. Lock-free, allocation-free. */
    public boolean get(byte[] key, long hash, byte[] out) {
        for (int attempt = 0; attempt < LOCK_FREE_ATTEMPTS; attempt++) {
            int slot = index.find(hash, key);
            if (slot < 0) {
                return false;
            }
            int read = readFound(slot, key, hash, out);
            if (read != SlotReader.RETRY) {
                return read == SlotReader.FOUND;
            }
        }
        return getLocked(key, hash, out);
    }

    /**
     * The second step of a lock-free {@link #get}, after the index named {@code slot} for {@code key}: {@link
     * SlotReader#FOUND} with the value in {@code out}, {@link SlotReader#ABSENT}, or {@link SlotReader#RETRY} (the
     * slot changed under the read, or the index no longer points there). Any thread; tests run it between a writer's
     * steps.
     */
    int readFound(int slot, byte[] key, long hash, byte[] out) {
        int read = reader.readValue(slot, key, out);
        return read != SlotReader.RETRY && stillIndexed(hash, key, slot) ? read : SlotReader.RETRY;
    }

    /**
     * True if the index still points {@code key} at {@code slot}, which a lock-free read just found holding it. A slot
     * found through the index may be freed and reused for a newer write of the same key before the reader reads it;
     * that write is not indexed yet (its put has not returned), and a reader that returned it could then return the
     * older, indexed value on its next call (reads going back in time). Checked after the slot's own re-check: a slot
     * the index points at again held what was read at some moment of the call.
     */
    private boolean stillIndexed(long hash, byte[] key, int slot) {
        // the slot's reads complete before the index is read again
        VarHandle.loadLoadFence();
        return index.find(hash, key) == slot;
    }

    private boolean getLocked(byte[] key, long hash, byte[] out) {
        lockWriter();
        try {
            checkOpen();
            int slot = index.find(hash, key);
            if (slot < 0 || reader.statusAt(slot) != LIVE) {
                return false;
            }
            reader.copyValue(slot, out);
            return true;
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * Copies into {@code out} the value of the key at {@code keys[keyOffset ..]} if {@code slot} is where the index
     * points that key; false if it is not (the key moved, was deleted, or the slot is being rewritten), and the
     * caller then looks the key up. For ordered scans holding a slot hint per key: no hash probe. Lock-free,
     * allocation-free, never blocks. A true answer is as current as {@link #get}'s: the value was the key's value at
     * some moment during the call (see {@link HashIndex#holdsSlot}).
     */
    public boolean getAt(int slot, byte[] keys, int keyOffset, byte[] out) {
        if (slot < 0 || slot >= slotCount()) {
            return false;
        }
        return reader.readIfIndexed(index, slot, keys, keyOffset, out);
    }

    /**
     * Loads {@code slot}'s state word and returns it, or 0 past the high-water mark: for a scan that knows which
     * slots it reads next, so their cache misses overlap instead of coming one after another. Reads nothing a
     * caller may rely on. Any thread.
     */
    public int touch(int slot) {
        if (slot < 0 || slot >= slotCount()) {
            return 0;
        }
        return reader.stateWordAt(slot);
    }

    /** True if {@code key} is present. Lock-free, allocation-free. */
    public boolean containsKey(byte[] key, long hash) {
        for (int attempt = 0; attempt < LOCK_FREE_ATTEMPTS; attempt++) {
            int slot = index.find(hash, key);
            if (slot < 0) {
                return false;
            }
            int probe = reader.probe(slot, key);
            if (probe != SlotReader.RETRY && stillIndexed(hash, key, slot)) {
                return probe == SlotReader.FOUND;
            }
        }
        lockWriter();
        try {
            checkOpen();
            int slot = index.find(hash, key);
            return slot >= 0 && reader.statusAt(slot) == LIVE;
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * Copies the key of every live entry of the index whose tag lies in {@code [fromTag, boundary)} into a new array
     * for {@code keys}, and returns that boundary (see {@link HashIndex#scanTags}: {@link HashIndex#TAG_END} when the
     * shard is done). Takes the writer lock for one short walk of the index, so no update moves a key past the
     * walk; readers are not blocked. Any thread.
     */
    public long scanKeys(long fromTag, int atLeast, java.util.function.Consumer<byte[]> keys) {
        lockWriter();
        try {
            checkOpen();
            return index.scanTags(fromTag, atLeast, slot -> {
                // a replica's index may keep tombstones: only live slots are keys
                if (reader.statusAt(slot) == LIVE) {
                    keys.accept(reader.keyAt(slot));
                }
            });
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * Takes this shard's writer lock for a transaction: the calling thread's writes to this shard (the lock is
     * reentrant) run with no other writer interleaved until {@link #unlockForTransaction}. Callers locking several
     * shards take them in ascending shard order (see {@link Store#lockShardsForTransaction}).
     */
    public void lockForTransaction() {
        lockWriter();
    }

    /** Releases the lock {@link #lockForTransaction} took. Same thread only. */
    public void unlockForTransaction() {
        writeLock.unlock();
    }

    @Override
    public long readSlotImage(int slot, byte[] out, int offset) {
        long lsn = reader.readImage(slot, out, offset);
        if (lsn != SlotReader.UNSTABLE) {
            return lsn;
        }
        lockWriter();
        try {
            checkOpen();
            reader.copyImage(slot, out, offset);
        } finally {
            writeLock.unlock();
        }
        return reader.imageLsn(out, offset);
    }

    @Override
    public long touchSlots(int[] slots, int count) {
        return reader.touch(slots, count);
    }

    @Override
    public boolean isSuperseded(int slot, byte[] image, int offset) {
        if (status(image[offset + STATE_OFFSET]) != LIVE) {
            return false;
        }
        long h = KeyHash.hash(image, offset + KEY_OFFSET, keySize);
        return !index.containsSlot(h, slot);
    }

    /** The slot the index points {@code key} at (the key's current value), or -1. Lock-free. */
    public int currentSlotOf(byte[] key) {
        return index.find(KeyHash.hash(key), key);
    }

    // ---------------------------------------------------------------- durability

    /**
     * Makes every mutation up to {@code lsn} durable: forces dirty chunks unless an earlier force already covered
     * it; concurrent callers share one force. For a user's writes only, whose LSNs grow in write order.
     *
     * @throws dev.armdb.ArmDbStorageFailedException if the force fails or the collection is fail-stopped (also for
     *     a caller that waited behind a force that failed)
     */
    public void syncTo(long lsn) {
        if (sync.forceTo(lsn)) {
            drainIfPending();
        }
    }

    /**
     * Settles the retirements a force has made safe while no writer needs the lock: {@link #DRAIN_CHUNK} steps per
     * hold, and none once a writer waits, so a writer waits for one chunk at most (writers settle a few on each write
     * themselves, see {@link UserWriter#DRAIN_PER_WRITE}).
     */
    private void drainIfPending() {
        boolean more = writes.pending() > 0;
        // a waiting writer is not barged past: the lock is not fair, and this thread would win it back every time
        while (more && !writeLock.hasQueuedThreads() && writeLock.tryLock()) {
            try {
                more = !closed && writes.drainSome(DRAIN_CHUNK);
            } finally {
                writeLock.unlock();
            }
        }
    }

    /**
     * Forces every chunk written since its last force, whatever the LSNs written there: a replica applies images
     * out of LSN order, so an LSN already durable says nothing about a slot applied after it.
     *
     * @throws dev.armdb.ArmDbStorageFailedException if the force fails or the collection is fail-stopped
     */
    public void forceApplied() {
        sync.forceNow();
    }

    /**
     * As {@link #forceApplied}, and forces the slot file too: a first copy's bulk-loaded images are stored without a
     * redo-log record (the copy is marked incomplete until this force), so only the slot file holds them. Called
     * before a copy's incomplete mark is removed.
     *
     * @throws dev.armdb.ArmDbStorageFailedException if the force fails or the collection is fail-stopped
     */
    public void forceCopied() {
        sync.forceNow(true);
    }

    /**
     * A mark for {@link #forcedSince}: every store the calling thread made to this shard before the call (applied
     * images included, whatever their LSNs) is durable once a force begun after the call has completed, whoever ran
     * it (the group commit, {@link #forceApplied}, {@link #syncTo}). Any thread; allocation-free.
     */
    public long forceMark() {
        return sync.forceMark();
    }

    /** True if a force begun after {@code mark} (from {@link #forceMark}) has completed. Any thread. */
    public boolean forcedSince(long mark) {
        return sync.forcedSince(mark);
    }

    /**
     * Forces everything written so far (background group commit). No-op when nothing is new, and during a bulk
     * load: a first copy is marked incomplete until its first consistent point (a crash before then empties the
     * shard), so forcing it earlier buys nothing and would write its pages back again and again while they fill.
     */
    void forceIfDirty() {
        if (applier.isBulkLoading()) {
            return;
        }
        if (sync.needsForce(writes.pending())) {
            sync.forceNow();
            drainIfPending();
        }
    }

    /**
     * True if the redo log has grown past its checkpoint size or holds records older than {@code maxAgeNanos}. Any
     * thread.
     */
    boolean checkpointDue(long nowNanos, long maxAgeNanos) {
        return !closed && sync.checkpointDue(nowNanos, maxAgeNanos);
    }

    /** Bytes of records in the redo log's active generation, written or buffered; 0 without a log. Any thread. */
    long loggedBytes() {
        return sync.loggedBytes();
    }

    /**
     * Checkpoints: switches the redo log to a new generation, then forces the slot file, after which the log's
     * previous generation is no longer needed (see {@link ShardLog}). Writers wait only for the switch. A no-op
     * without a log. Any thread but a writer of this shard.
     *
     * @throws dev.armdb.ArmDbStorageFailedException if a force fails or the collection is fail-stopped
     */
    void checkpoint() {
        sync.checkpoint();
    }

    /** The first half of {@link #checkpoint()} (tests run writes between the halves). */
    boolean beginCheckpoint() {
        return sync.beginCheckpoint();
    }

    /** The second half of {@link #checkpoint()}. */
    void endCheckpoint() {
        sync.endCheckpoint();
    }

    /** Forces everything and settles all retirements (two rounds: release marks need their own force). */
    public void flush() {
        for (int round = 0; round < 3; round++) {
            syncTo(lastLsn());
            lockWriter();
            try {
                checkOpen();
                writes.drainPending();
            } finally {
                writeLock.unlock();
            }
        }
        syncTo(lastLsn());
    }

    /**
     * Grows the file ahead of the writer if it is nearly full. Any thread. Not during a bulk load: its writes extend
     * the file themselves, and zeros written ahead of them would be written twice.
     */
    void growIfNeeded() {
        if (closed || applier.isBulkLoading()) {
            return;
        }
        int hw = slotCount();
        if (file.capacity() - hw < file.slotsPerChunk() / 4 && file.capacity() < maxSlots) {
            try {
                file.grow();
            } catch (ArmDbFullException e) {
                LOG.warn("shard {}: background growth failed: {}", id, e.getMessage());
            }
        }
    }

    /** Flushes and closes the shard; later calls fail with {@link ArmDbClosedException}. */
    void close() {
        if (closed) {
            return;
        }
        try {
            flush();
            // a clean close leaves an empty log: the slot file alone holds everything
            sync.forceSlotsAndEmptyLog();
        } finally {
            lockWriter();
            try {
                closed = true;
                closeFiles();
            } finally {
                writeLock.unlock();
            }
        }
    }

    /** Closes without flushing or settling, as a crash would leave the files (page cache kept). */
    void abandon() {
        lockWriter();
        try {
            closed = true;
            closeFiles();
        } finally {
            writeLock.unlock();
        }
    }

    private void closeFiles() {
        try {
            if (log != null) {
                log.close();
            }
        } finally {
            file.close();
        }
    }

    // ---------------------------------------------------------------- views

    @Override
    public int shardId() {
        return id;
    }

    @Override
    public int slotSize() {
        return slotSize;
    }

    @Override
    public int slotCount() {
        return (int) HIGH_WATER.getAcquire(this);
    }

    @Override
    public long lastLsn() {
        return (long) LAST_LSN.getAcquire(this);
    }

    @Override
    public ChangeFeed feed() {
        return feed;
    }

    /** True once closed. */
    boolean isClosed() {
        return closed;
    }

    /** Live keys in this shard; may be a moment stale while writes run. Allocation-free. */
    public long liveKeys() {
        return index.size() - applier.indexedTombstones();
    }

    /** A snapshot of this shard's counters; may be a moment stale while writes run. */
    public ShardStatsSnapshot stats() {
        int hw = slotCount();
        int capacity = file.capacity();
        return new ShardStatsSnapshot(
                id,
                liveKeys(),
                writes.freeCount() + (capacity - hw),
                deletedSlots,
                writes.pending(),
                corruptAtOpen,
                corruptSlotsAtOpen.clone(),
                incompleteAtOpen,
                lastLsn(),
                sync.durableLsn(),
                capacity,
                file.fileBytes(),
                index.memoryBytes());
    }

    /** Raw counters of one shard, as the engine sees them. Immutable. */
    public record ShardStatsSnapshot(
            int shard,
            long live,
            long free,
            long deleted,
            long pending,
            long corrupt,
            int[] corruptSlots,
            long incomplete,
            long maxLsn,
            long durableLsn,
            long capacity,
            long fileBytes,
            long indexBytes) {}
}
