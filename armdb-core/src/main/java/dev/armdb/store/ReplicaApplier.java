package dev.armdb.store;

import static dev.armdb.store.SlotLayout.*;

import dev.armdb.index.HashIndex;
import dev.armdb.index.KeyHash;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The replica write protocol of one shard: applies slot images a leader shipped, one at a time or in batches, and
 * the bulk load of a first copy. Images keep the leader's slots and LSNs and arrive in any LSN order (current images
 * of a scan, then the feed), so an image is applied only if it is newer than the slot's own, and the index maps each
 * key to its newest known slot, LIVE or DELETED: a tombstone applied before an older live copy of its key still hides
 * that copy. A replica never publishes to the change feed (its LSNs are the leader's, not contiguous). The {@link
 * Shard} takes the writer lock and checks that it is open and not fail-stopped; the replication module reaches this
 * protocol only through the shard's narrow replica methods ({@link Shard#applyImages}, {@link Shard#beginBulkLoad},
 * {@link Shard#finishBulkLoad}, {@link Shard#wipe}).
 *
 * <p>Owns: its own {@link SlotWriter} (scratch buffer and checksum, apart from the user writes' one, so neither
 * protocol can see the other's half-built image), the bulk-load flag, and the count of tombstones the index holds
 * (replica rules index tombstones; user writes never do). Changes through the shard: the index, the key listener's
 * view, the high-water mark, the last LSN and the shard's count of DELETED slots (see {@link Shard}).
 *
 * <p>Threading: {@link #checkImage} and {@link #checkImages} are stateless (any thread, before the lock is taken);
 * {@link #isBulkLoading} and {@link #indexedTombstones} may be read by any thread as a hint; everything else runs on
 * a thread holding the shard's writer lock.
 */
final class ReplicaApplier {
    private static final VarHandle INT_LE_ARRAY =
            MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG_LE_ARRAY =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final byte[] EMPTY_RUN = new byte[0];
    /**
     * Entries {@link #applyImages} warms the cache for at a time (see {@link #warm}): enough misses in flight to
     * overlap, few enough that the first entry's lines are still cached when it is applied.
     */
    private static final int WARM_AHEAD = 16;
    /** Most key notes a bulk load allocates up front (8 MiB): the expected count comes from a peer. */
    static final int MAX_PRESIZED_NOTES = 1 << 20;

    private final Shard shard;
    private final ShardFile file;
    private final SlotWriter writer;
    private final SlotReader reader;
    private final int keySize;
    private final int slotSize;
    private final int maxSlots;

    /** Where {@link #warm} leaves what it loaded; never read. */
    private long warmSink;

    private volatile boolean bulkLoading;
    private int indexedTombstones;
    /** Where the key listener is handed a value read from a slot. */
    private final byte[] listenerValue;
    /**
     * A bulk load's staging for runs of consecutive slots (see {@link #copyRun}); empty outside one. Design note: a
     * heap array filled by {@code System.arraycopy}, whose whole run the file write then copies to native memory in
     * one call, instead of a direct buffer filled image by image through {@code ByteBuffer.put}. In a full sync of a
     * million slots into a fresh follower process the follower's CPU time fell by about a twelfth: the JIT compiles
     * far less for it (the buffer's bulk put and its memory-access checks were among the largest compilations of the
     * copy), and the JIT takes nearly half of a cold process's CPU time in such a copy.
     */
    private byte[] run = EMPTY_RUN;
    /** {@link #run} as the buffer the file write takes. */
    private ByteBuffer runBuffer = ByteBuffer.wrap(EMPTY_RUN);
    /** A bulk load's index entries of the keys copied so far (see {@link #note}), the first {@link #keyedCount}. */
    private long[] keyed = new long[0];
    /** Entries in {@link #keyed}; -1 once they were given up (see {@link #copyBulkRuns}). */
    private int keyedCount;
    /** A bulk load's DELETED slots copied, current or superseded (while {@link #keyed} is kept). */
    private int bulkDeletedSlots;

    /**
     * The replica protocol of {@code shard}, writing {@code file}'s slots through {@code writer} (its own) and reading
     * them through {@code reader}; {@code indexedTombstones} is what recovery found in the index.
     */
    ReplicaApplier(
            Shard shard,
            ShardFile file,
            SlotWriter writer,
            SlotReader reader,
            int keySize,
            int valueSize,
            int slotSize,
            int maxSlots,
            int indexedTombstones) {
        this.shard = shard;
        this.file = file;
        this.writer = writer;
        this.reader = reader;
        this.keySize = keySize;
        this.slotSize = slotSize;
        this.maxSlots = maxSlots;
        this.listenerValue = new byte[valueSize];
        this.indexedTombstones = indexedTombstones;
    }

    /**
     * Checks {@code count} entries of a batch (see {@link Shard#applyImages}) before any is applied.
     *
     * @throws IllegalArgumentException if a slot id is out of range or an image is not a finished, valid slot
     */
    void checkImages(byte[] buf, int offset, int count, int stride, boolean checkCrc) {
        for (int i = 0, at = offset; i < count; i++, at += stride) {
            checkImage((int) INT_LE_ARRAY.get(buf, at), buf, at + Integer.BYTES, checkCrc);
        }
    }

    /**
     * Checks that {@code slot} is in range and the image at {@code offset} is a finished slot (and, if {@code
     * checkCrc}, that it matches its CRC).
     *
     * @throws IllegalArgumentException if not
     */
    void checkImage(int slot, byte[] image, int offset, boolean checkCrc) {
        if (slot < 0 || slot >= maxSlots) {
            throw new IllegalArgumentException(
                    "slot id must be in 0.." + (maxSlots - 1) + " for shard " + shard.shardId() + ", got " + slot);
        }
        if (checkCrc && !SlotLayout.imageCrcMatches(image, offset, slotSize)) {
            throw new IllegalArgumentException(
                    "slot image for shard " + shard.shardId() + " slot " + slot + " fails its CRC");
        }
        int word = (int) INT_LE_ARRAY.get(image, offset + STATE_OFFSET);
        long lsn = (long) LONG_LE_ARRAY.get(image, offset + LSN_OFFSET);
        if (inProgress(word) || status(word) < LIVE || status(word) > FREE || lsn <= 0) {
            throw new IllegalArgumentException("slot image for shard " + shard.shardId() + " slot " + slot
                    + " is not a finished slot: status " + statusName(status(word)) + ", version " + version(word)
                    + ", LSN " + lsn);
        }
    }

    /**
     * Applies {@code count} checked entries of a batch, {@value #WARM_AHEAD} at a time, each group's cache lines
     * loaded first (see {@link #warm}); returns how many were newer than their slots.
     */
    int applyImages(byte[] buf, int offset, int count, int stride) {
        if (bulkLoading) {
            return copyBulkRuns(buf, offset, count, stride);
        }
        int applied = 0;
        for (int first = 0; first < count; first += WARM_AHEAD) {
            int n = Math.min(WARM_AHEAD, count - first);
            int at = offset + first * stride;
            warm(buf, at, n, stride);
            for (int i = 0; i < n; i++, at += stride) {
                if (applyChecked((int) INT_LE_ARRAY.get(buf, at), buf, at + Integer.BYTES)) {
                    applied++;
                }
            }
        }
        return applied;
    }

    /**
     * Loads the cache lines that applying {@code n} entries will touch, before any is applied: each destination slot,
     * the index entries of the keys coming and going, and the slot each incoming key is indexed at now. Applying one
     * image takes these misses one after another, each waiting for the last; loaded here, they do not depend on each
     * other across entries, so the core overlaps them. Reads only, and only slots inside the file; the loads land in
     * {@link #warmSink} so that the compiler keeps them.
     *
     * <p>Design note: measured through {@code serve} under SET -P 16 with one follower process (2 cores, a million
     * keys, 64-byte slots), the follower's CPU per write fell from about 1.6 to 1.1 us; most of what it saved was the
     * wait for the slot a key is indexed at, read for the key comparison.
     */
    private void warm(byte[] buf, int at, int n, int stride) {
        HashIndex index = shard.index();
        int capacity = file.capacity();
        long sink = 0;
        for (int i = 0, e = at; i < n; i++, e += stride) {
            int slot = (int) INT_LE_ARRAY.get(buf, e);
            if (slot >= 0 && slot < capacity) {
                sink += file.segment(slot).get(INT_LE, file.offset(slot));
            }
            if (keyed(buf, e)) {
                sink += index.homeEntry(KeyHash.hash(buf, e + Integer.BYTES + KEY_OFFSET, keySize));
            }
        }
        for (int i = 0, e = at; i < n; i++, e += stride) {
            if (keyed(buf, e)) {
                int guess = index.guessSlot(KeyHash.hash(buf, e + Integer.BYTES + KEY_OFFSET, keySize));
                if (guess >= 0 && guess < capacity) {
                    sink += file.segment(guess).get(LONG_LE, file.offset(guess) + LSN_OFFSET);
                }
            }
            int slot = (int) INT_LE_ARRAY.get(buf, e);
            if (slot >= 0 && slot < capacity) {
                MemorySegment seg = file.segment(slot);
                long off = file.offset(slot);
                int old = status(seg.get(INT_LE, off));
                if ((old == LIVE || old == DELETED) && index.holdsSlot(slot)) {
                    sink += index.homeEntry(KeyHash.hash(seg, off + KEY_OFFSET, keySize));
                }
            }
        }
        warmSink += sink;
    }

    /** Applies one checked image (copies it, during a bulk load); false if the slot already held one as new. */
    boolean applyImage(int slot, byte[] image, int offset) {
        return bulkLoading ? copyBulk(slot, image, offset) : applyChecked(slot, image, offset);
    }

    /** Applies one checked image and points the index at the newest slot of each key it touches. */
    private boolean applyChecked(int slot, byte[] image, int offset) {
        int word = (int) INT_LE_ARRAY.get(image, offset + STATE_OFFSET);
        long lsn = (long) LONG_LE_ARRAY.get(image, offset + LSN_OFFSET);
        while (slot >= file.capacity()) {
            file.grow();
        }
        MemorySegment seg = file.segment(slot);
        long off = file.offset(slot);
        int oldWord = seg.get(INT_LE, off);
        boolean oldValid = oldWord != 0 && !inProgress(oldWord) && writer.holdsValidImage(slot);
        if (oldValid && seg.get(LONG_LE, off + LSN_OFFSET) >= lsn) {
            return false;
        }
        HashIndex index = shard.index();
        int oldStatus = oldValid ? status(oldWord) : EMPTY;
        boolean oldKeyed = oldStatus == LIVE || oldStatus == DELETED;
        // the index points a key only at a slot holding that key, so a slot it holds is the old key's current slot:
        // the per-slot bit answers without hashing the key or probing the table (a superseded copy, which a release
        // overwrites, is not held)
        boolean oldIndexed = oldKeyed && index.holdsSlot(slot);
        long oldHash = oldIndexed ? KeyHash.hash(seg, off + KEY_OFFSET, keySize) : 0;
        boolean sameKey = oldIndexed
                && MemorySegment.mismatch(
                                seg,
                                off + KEY_OFFSET,
                                off + KEY_OFFSET + keySize,
                                MemorySegment.ofArray(image),
                                offset + KEY_OFFSET,
                                offset + KEY_OFFSET + keySize)
                        < 0;
        int newStatus = status(word);
        boolean newKeyed = newStatus == LIVE || newStatus == DELETED;
        // the key leaving the index, read before the image replaces it: another key's, or this key's slot freed
        byte[] oldKey = oldIndexed && !(sameKey && newKeyed) && shard.listener() != null ? reader.keyAt(slot) : null;
        writer.copy(slot, image, offset);
        shard.addDeletedSlots((newStatus == DELETED ? 1 : 0) - (oldStatus == DELETED ? 1 : 0));
        if (sameKey && newKeyed) {
            indexedStatusChanged(slot, oldStatus, newStatus);
        } else {
            if (oldIndexed) {
                index.remove(oldHash, slot);
                indexedKeyChanged(slot, oldKey, oldStatus, EMPTY);
            }
            if (newKeyed) {
                indexNewest(index, slot, KeyHash.hash(seg, off + KEY_OFFSET, keySize), lsn, newStatus);
            }
        }
        shard.applied(slot, lsn);
        return true;
    }

    /**
     * Points the key of {@code slot} (just written; {@code h} its hash or index tag) at it unless a newer slot of that
     * key is indexed; a negative {@code lsn} reads the slot's LSN only if another slot of the key is indexed.
     */
    private void indexNewest(HashIndex index, int slot, long h, long lsn, int newStatus) {
        int current = index.findSameKey(h, slot);
        if (current < 0) {
            index.insert(h, slot);
            indexedStatusChanged(slot, EMPTY, newStatus);
        } else if (current != slot && reader.lsnAt(current) < (lsn < 0 ? reader.lsnAt(slot) : lsn)) {
            int currentStatus = reader.statusAt(current);
            index.replace(h, current, slot);
            indexedStatusChanged(slot, currentStatus, newStatus);
        }
    }

    /** True if the image of the entry at {@code at} holds a key, live or tombstone. */
    private static boolean keyed(byte[] buf, int at) {
        int st = status((int) INT_LE_ARRAY.get(buf, at + Integer.BYTES + STATE_OFFSET));
        return st == LIVE || st == DELETED;
    }

    /**
     * Starts a bulk load (see {@link Shard#beginBulkLoad(int)}), its key notes sized for {@code expectedSlots}.
     *
     * @throws IllegalStateException if the shard holds any slot
     */
    void beginBulkLoad(int expectedSlots) {
        if (shard.slotCount() != 0 || shard.index().size() != 0) {
            throw new IllegalStateException("bulk load needs an empty shard; shard " + shard.shardId() + " holds "
                    + shard.slotCount() + " slots");
        }
        endBulkLoad();
        keyed = new long[Math.clamp(expectedSlots, 0, MAX_PRESIZED_NOTES)];
        // the copy writes every slot through the file from slot 0 on: zeros written ahead of it would be written twice
        file.beginSparseGrowth();
        bulkLoading = true;
    }

    /** True between {@link #beginBulkLoad} and {@link #finishBulkLoad}. Any thread. */
    boolean isBulkLoading() {
        return bulkLoading;
    }

    /**
     * Copies checked entries during a bulk load. A scan sends slots in ascending order, so entries come in runs of
     * consecutive slots; a run above the high-water mark lands in slots nothing was copied into yet (the shard was
     * empty when the load began) and goes to the file in one write, its keys noted for the index. A slot at or below
     * the mark (sent again, or out of order) takes the per-slot path, which keeps the newer image; the notes may then
     * name a slot whose key changed, so the index is built from the slots themselves.
     */
    private int copyBulkRuns(byte[] buf, int offset, int count, int stride) {
        int applied = 0;
        int i = 0;
        while (i < count) {
            int at = offset + i * stride;
            int first = (int) INT_LE_ARRAY.get(buf, at);
            int n = 1;
            while (i + n < count && (int) INT_LE_ARRAY.get(buf, at + n * stride) == first + n) {
                n++;
            }
            if (first >= shard.slotCount()) {
                copyRun(first, buf, at, n, stride);
                applied += n;
            } else {
                keyedCount = -1;
                for (int j = 0; j < n; j++) {
                    int e = at + j * stride;
                    if (copyBulk((int) INT_LE_ARRAY.get(buf, e), buf, e + Integer.BYTES)) {
                        applied++;
                    }
                }
            }
            i += n;
        }
        return applied;
    }

    /**
     * Writes the images of {@code n} entries into the empty slots from {@code first} on, through the file (which grows
     * by them: see {@link ShardFile#writeSlots}), and notes their keys (see {@link #note}).
     */
    private void copyRun(int first, byte[] buf, int at, int n, int stride) {
        int last = first + n - 1;
        while (first > file.capacity()) {
            file.grow(false);
        }
        int bytes = n * slotSize;
        if (run.length < bytes) {
            run = new byte[bytes];
            runBuffer = ByteBuffer.wrap(run);
        }
        long maxLsn = 0;
        for (int j = 0, e = at + Integer.BYTES; j < n; j++, e += stride) {
            System.arraycopy(buf, e, run, j * slotSize, slotSize);
            maxLsn = Math.max(maxLsn, (long) LONG_LE_ARRAY.get(buf, e + LSN_OFFSET));
            note(first + j, buf, e);
        }
        file.writeSlots(first, runBuffer.clear().limit(bytes));
        shard.applied(last, maxLsn);
    }

    /**
     * Notes the index entry of the image at {@code offset} copied into {@code slot} if it holds a key, live or
     * tombstone (the sign bit of the entry's slot, which slot ids never use, marks a tombstone), unless the notes were
     * given up, and counts it if it is a tombstone.
     */
    private void note(int slot, byte[] image, int offset) {
        int st = status((int) INT_LE_ARRAY.get(image, offset + STATE_OFFSET));
        if (st == DELETED) {
            bulkDeletedSlots++;
        }
        if (keyedCount < 0 || (st != LIVE && st != DELETED)) {
            return;
        }
        if (keyedCount == keyed.length) {
            keyed = java.util.Arrays.copyOf(keyed, Math.max(1024, keyedCount * 2));
        }
        keyed[keyedCount++] = HashIndex.entryOf(
                KeyHash.hash(image, offset + KEY_OFFSET, keySize), st == DELETED ? slot | Integer.MIN_VALUE : slot);
    }

    /** Copies one checked image into its slot during a bulk load, unless the slot already holds a newer one. */
    private boolean copyBulk(int slot, byte[] image, int offset) {
        long lsn = (long) LONG_LE_ARRAY.get(image, offset + LSN_OFFSET);
        while (slot >= file.capacity()) {
            file.grow(false);
        }
        MemorySegment seg = file.segment(slot);
        long off = file.offset(slot);
        if (seg.get(INT_LE, off) != 0 && seg.get(LONG_LE, off + LSN_OFFSET) >= lsn) {
            return false;
        }
        file.fillHolesThrough(slot);
        writer.storeUnlogged(slot, image, offset);
        shard.applied(slot, lsn);
        return true;
    }

    /**
     * Ends a bulk load: indexes every key at its newest slot, live or tombstone (replica rules, as {@link
     * #applyImage}), counts tombstones, and tells the key listener of every live key. A no-op if no bulk load runs.
     */
    void finishBulkLoad() {
        if (!bulkLoading) {
            return;
        }
        // no hole may outlive the copy: fill them before it counts as complete
        file.endSparseGrowth();
        if (keyedCount < 0) {
            noteEverySlot();
        }
        shard.setDeletedSlots(bulkDeletedSlots);
        int kept = shard.index().fillEmpty(keyed, keyedCount, this::newer);
        KeyListener listener = shard.listener();
        int tombstones = 0;
        for (int i = 0; i < kept; i++) {
            int raw = HashIndex.slotOf(keyed[i]);
            if (raw < 0) {
                tombstones++;
            } else if (listener != null) {
                reader.copyValue(raw, listenerValue);
                listener.inserted(reader.keyAt(raw), raw, listenerValue);
            }
        }
        indexedTombstones = tombstones;
        endBulkLoad();
    }

    /** Rebuilds the notes from the slots up to the high-water mark. */
    private void noteEverySlot() {
        keyedCount = 0;
        bulkDeletedSlots = 0;
        byte[] image = new byte[slotSize];
        for (int slot = 0, hw = shard.slotCount(); slot < hw; slot++) {
            reader.copyImage(slot, image, 0);
            note(slot, image, 0);
        }
    }

    /** Of two slots holding one key, the newer. */
    private int newer(int slotA, int slotB) {
        return reader.lsnAt(slotA) >= reader.lsnAt(slotB) ? slotA : slotB;
    }

    private void endBulkLoad() {
        file.endSparseGrowth();
        bulkLoading = false;
        run = EMPTY_RUN;
        runBuffer = ByteBuffer.wrap(EMPTY_RUN);
        keyed = new long[0];
        keyedCount = 0;
        bulkDeletedSlots = 0;
    }

    /**
     * Empties the index and zeroes the first {@code highWater} slots for a full resync, telling the key listener of
     * every live key; ends a bulk load. The shard resets its own positions and counters.
     */
    void wipe(int highWater) {
        KeyListener listener = shard.listener();
        HashIndex index = shard.index();
        if (listener != null) {
            index.forEachSlot(slot -> {
                if (reader.statusAt(slot) == LIVE) {
                    listener.removed(reader.keyAt(slot));
                }
            });
        }
        index.clear();
        endBulkLoad();
        for (int slot = 0; slot < highWater; slot += file.slotsPerChunk()) {
            file.segment(slot).fill((byte) 0);
            file.markDirty(slot);
        }
        indexedTombstones = 0;
    }

    /** Forgets the replica's state when the shard is promoted: no bulk load, and user rules index no tombstone. */
    void reset() {
        endBulkLoad();
        indexedTombstones = 0;
    }

    /** Tombstones the index holds (a replica's). Any thread; may be a moment stale. */
    int indexedTombstones() {
        return indexedTombstones;
    }

    /**
     * Keeps the tombstone count and the key listener right when the index points {@code slot}'s key at {@code slot},
     * whose status went {@code from} (the key's indexed status before) {@code to}: a live key moved or rewritten
     * counts as a change of value.
     */
    private void indexedStatusChanged(int slot, int from, int to) {
        if (from != to || to == LIVE) {
            indexedKeyChanged(slot, shard.listener() != null ? reader.keyAt(slot) : null, from, to);
        }
    }

    /**
     * As {@link #indexedStatusChanged} for a key given as bytes (null when no listener is attached); {@code slot} is
     * read only if {@code to} is LIVE.
     */
    private void indexedKeyChanged(int slot, byte[] key, int from, int to) {
        if (from == DELETED) {
            indexedTombstones--;
        }
        if (to == DELETED) {
            indexedTombstones++;
        }
        KeyListener listener = shard.listener();
        if (listener == null) {
            return;
        }
        if (to == LIVE) {
            reader.copyValue(slot, listenerValue);
            if (from == LIVE) {
                listener.updated(key, slot, listenerValue);
            } else {
                listener.inserted(key, slot, listenerValue);
            }
        } else if (from == LIVE) {
            listener.removed(key);
        }
    }
}
