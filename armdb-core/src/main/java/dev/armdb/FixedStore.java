package dev.armdb;

import dev.armdb.index.KeyHash;
import dev.armdb.store.Shard;
import dev.armdb.store.SlotLayout;
import dev.armdb.store.Store;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.BiConsumer;

/**
 * What {@link FixedMap} and {@link FixedTree} share: a persistent map from fixed-size keys to fixed-size values,
 * sharded, crash-safe, with a change feed for replication.
 *
 * <p>Thread-safe: any number of threads may call any method. Reads take no lock; writes to one shard are
 * serialised, writes to different shards run in parallel. Arrays passed in are not kept (copy what you keep).
 * After {@link #close()} every method throws {@link ArmDbClosedException}.
 */
public abstract sealed class FixedStore implements AutoCloseable permits FixedMap, FixedTree {
    /**
     * What a conditional write or a delete returns when it changed nothing. Every mutation's LSN is at least 1, so
     * a caller tests {@code result != UNCHANGED} (or {@code > 0}) for "changed", and passes a changed result to
     * replication waits as is.
     */
    public static final long UNCHANGED = 0;

    final Store store;
    private final int keySize;
    private final int valueSize;

    FixedStore(Store store) {
        this.store = store;
        this.keySize = store.meta().keySize();
        this.valueSize = store.meta().valueSize();
    }

    /**
     * The value stored under {@code key}, in a new array, or null if absent.
     *
     * @throws IllegalArgumentException if the key has the wrong size
     */
    public byte[] get(byte[] key) {
        byte[] out = new byte[valueSize];
        return get(key, out) ? out : null;
    }

    /**
     * Copies the value stored under {@code key} into {@code valueOut}. Lock-free and allocation-free.
     *
     * @return true if the key is present (and {@code valueOut} now holds its value), false if absent
     * @throws IllegalArgumentException if the key or buffer has the wrong size
     */
    public boolean get(byte[] key, byte[] valueOut) {
        store.checkKey(key);
        store.checkValue(valueOut);
        store.checkOpen();
        long h = KeyHash.hash(key);
        try {
            return store.shard(store.shardOf(key, h)).get(key, h, valueOut);
        } catch (IllegalStateException e) {
            throw closedOr(e);
        }
    }

    /**
     * Stores {@code value} under {@code key}, replacing any value. Returns when the write is as durable as the
     * collection's {@link Durability} promises. Allocation-free.
     *
     * @return the LSN of this mutation in the key's shard
     * @throws IllegalArgumentException if the key or value has the wrong size
     * @throws ArmDbFullException if the shard cannot grow
     */
    public long put(byte[] key, byte[] value) {
        store.checkKey(key);
        store.checkValue(value);
        long h = KeyHash.hash(key);
        try {
            return writable(store.shardOf(key, h)).put(key, h, value);
        } catch (IllegalStateException e) {
            throw closedOr(e);
        }
    }

    /**
     * Stores every pair {@code keys[i] -> values[i]} with no other writer interleaved: all sizes are checked first
     * (nothing is written if one is wrong), then the write locks of the shards the keys fall in are taken in
     * ascending shard order, every pair is written in order, and the locks are released. Two such calls on
     * overlapping shards never deadlock; a later pair for the same key wins, as Redis' MSET. Returns when the writes
     * are as durable as the collection's {@link Durability} promises.
     *
     * <p>What others can observe: readers take no lock, so a concurrent reader may see some pairs already written and
     * others not yet (never a torn value); no other writer's mutation of those shards lands between the pairs. After
     * a crash part-way any subset of the pairs may survive (each one is crash-safe on its own; there is no undo log),
     * and an {@link ArmDbFullException} part-way leaves the pairs before it written.
     *
     * @return the LSN of each pair's write, in the order given
     * @throws IllegalArgumentException if the arrays differ in length or a key or value has the wrong size
     */
    public long[] putAllWithoutInterleaving(byte[][] keys, byte[][] values) {
        if (keys.length != values.length) {
            throw new IllegalArgumentException(
                    "expected as many values as keys (" + keys.length + "), got " + values.length);
        }
        int[] shardOf = new int[keys.length];
        boolean[] touched = new boolean[store.shardCount()];
        for (int i = 0; i < keys.length; i++) {
            store.checkKey(keys[i]);
            store.checkValue(values[i]);
            shardOf[i] = store.shardOf(keys[i], KeyHash.hash(keys[i]));
            touched[shardOf[i]] = true;
        }
        store.checkWritable();
        long[] lsns = new long[keys.length];
        store.lockShardsForTransaction(touched);
        try {
            for (int i = 0; i < keys.length; i++) {
                lsns[i] = store.shard(shardOf[i]).put(keys[i], KeyHash.hash(keys[i]), values[i]);
            }
        } catch (IllegalStateException e) {
            throw closedOr(e);
        } finally {
            store.unlockShardsForTransaction(touched);
        }
        return lsns;
    }

    /**
     * Stores {@code value} under {@code key} only if the key is absent.
     *
     * @return the LSN of the mutation in the key's shard if stored, or {@link #UNCHANGED} if the key was present
     *     (nothing changed)
     */
    public long putIfAbsent(byte[] key, byte[] value) {
        store.checkKey(key);
        store.checkValue(value);
        long h = KeyHash.hash(key);
        try {
            return writable(store.shardOf(key, h)).putIfAbsent(key, h, value);
        } catch (IllegalStateException e) {
            throw closedOr(e);
        }
    }

    /**
     * Replaces the value of {@code key} with {@code update} only if it currently equals {@code expected}
     * (atomically with respect to other writers of the key).
     *
     * @return the LSN of the mutation in the key's shard if replaced, or {@link #UNCHANGED} if the key is absent or
     *     holds another value
     */
    public long compareAndSet(byte[] key, byte[] expected, byte[] update) {
        store.checkKey(key);
        store.checkValue(expected);
        store.checkValue(update);
        long h = KeyHash.hash(key);
        try {
            return writable(store.shardOf(key, h)).compareAndSet(key, h, expected, update);
        } catch (IllegalStateException e) {
            throw closedOr(e);
        }
    }

    /**
     * Deletes {@code key}. Allocation-free.
     *
     * @return the LSN of the mutation in the key's shard if the key was present, or {@link #UNCHANGED} if it was
     *     absent (nothing changed)
     */
    public long delete(byte[] key) {
        store.checkKey(key);
        long h = KeyHash.hash(key);
        try {
            return writable(store.shardOf(key, h)).delete(key, h);
        } catch (IllegalStateException e) {
            throw closedOr(e);
        }
    }

    /** True if {@code key} is present. Lock-free and allocation-free. */
    public boolean containsKey(byte[] key) {
        store.checkKey(key);
        store.checkOpen();
        long h = KeyHash.hash(key);
        try {
            return store.shard(store.shardOf(key, h)).containsKey(key, h);
        } catch (IllegalStateException e) {
            throw closedOr(e);
        }
    }

    /** Number of live keys (exact when no write runs concurrently). */
    public long size() {
        store.checkOpen();
        long n = 0;
        for (int i = 0; i < store.shardCount(); i++) {
            n += store.shard(i).liveKeys();
        }
        return n;
    }

    /**
     * Calls {@code action} with every live key and value, shard by shard, in slot order (use {@link FixedTree} for
     * key order). Each call gets fresh arrays. Weakly consistent: sees every key live for the whole iteration
     * exactly once, and may or may not see keys written meanwhile.
     */
    public void forEach(BiConsumer<byte[], byte[]> action) {
        Objects.requireNonNull(action, "action");
        store.checkOpen();
        byte[] image = new byte[store.meta().slotSize()];
        for (int s = 0; s < store.shardCount(); s++) {
            var shard = store.shard(s);
            int count = shard.slotCount();
            for (int slot = 0; slot < count; slot++) {
                byte[][] kv = readCurrent(shard, slot, image);
                if (kv != null) {
                    action.accept(kv[0], kv[1]);
                }
            }
        }
    }

    /**
     * Receives the pairs of {@link #scan}. The two arrays are the scan's own buffers, rewritten for every pair:
     * read them during the call, copy what must outlive it, never keep or modify them.
     */
    @FunctionalInterface
    public interface PairVisitor {
        /**
         * One live pair.
         *
         * @return false to stop the scan
         */
        boolean visit(byte[] key, byte[] value);
    }

    /**
     * As {@link #forEach}, without allocating per pair: every live pair is copied into two reused buffers and handed
     * to {@code visitor}, shard by shard in slot order, until it returns false. Same consistency as {@link
     * #forEach}. Call from one thread per scan; any number of scans and writers may run concurrently.
     *
     * @return number of pairs visited
     */
    public long scan(PairVisitor visitor) {
        Objects.requireNonNull(visitor, "visitor");
        store.checkOpen();
        byte[] image = new byte[store.meta().slotSize()];
        byte[] key = new byte[keySize];
        byte[] value = new byte[valueSize];
        int valueOffset = SlotLayout.valueOffset(keySize);
        long visited = 0;
        for (int s = 0; s < store.shardCount(); s++) {
            var shard = store.shard(s);
            int count = shard.slotCount();
            for (int slot = 0; slot < count; slot++) {
                if (isCurrentLive(shard, slot, image)) {
                    System.arraycopy(image, SlotLayout.KEY_OFFSET, key, 0, keySize);
                    System.arraycopy(image, valueOffset, value, 0, valueSize);
                    visited++;
                    if (!visitor.visit(key, value)) {
                        return visited;
                    }
                }
            }
        }
        return visited;
    }

    /** Reads {@code slot} into {@code image}; true if it holds a live pair that is its key's current value. */
    private boolean isCurrentLive(Shard shard, int slot, byte[] image) {
        long lsn;
        try {
            lsn = shard.readSlotImage(slot, image, 0);
        } catch (IllegalStateException e) {
            throw closedOr(e);
        }
        // only the slot the index points at is the key's current value (an older one may await release)
        return lsn > 0
                && SlotLayout.status(image[SlotLayout.STATE_OFFSET]) == SlotLayout.LIVE
                && !shard.isSuperseded(slot, image, 0);
    }

    private byte[][] readCurrent(Shard shard, int slot, byte[] image) {
        long lsn;
        try {
            lsn = shard.readSlotImage(slot, image, 0);
        } catch (IllegalStateException e) {
            throw closedOr(e);
        }
        if (lsn <= 0 || SlotLayout.status(image[SlotLayout.STATE_OFFSET]) != SlotLayout.LIVE) {
            return null;
        }
        byte[] key = new byte[keySize];
        System.arraycopy(image, SlotLayout.KEY_OFFSET, key, 0, keySize);
        byte[] value = new byte[valueSize];
        System.arraycopy(image, SlotLayout.valueOffset(keySize), value, 0, valueSize);
        // only the slot the index points at is the key's current value (an older one may await release)
        return shard.currentSlotOf(key) == slot ? new byte[][] {key, value} : null;
    }

    /** Forces every shard to disk (whatever the durability mode) and settles released slots. */
    public void flush() {
        try {
            store.flush();
        } catch (IllegalStateException e) {
            throw closedOr(e);
        }
    }

    /** Per-shard and total slot counts, LSNs and sizes. */
    public StoreStats stats() {
        store.checkOpen();
        List<StoreStats.ShardStats> list = new ArrayList<>();
        for (int i = 0; i < store.shardCount(); i++) {
            var s = store.shard(i).stats();
            list.add(new StoreStats.ShardStats(
                    s.shard(),
                    s.live(),
                    s.free(),
                    s.deleted(),
                    s.pending(),
                    s.corrupt(),
                    s.incomplete(),
                    s.maxLsn(),
                    s.durableLsn(),
                    s.capacity(),
                    s.fileBytes(),
                    s.indexBytes()));
        }
        return new StoreStats(store.meta().databaseIdHex(), list, store.backgroundErrors());
    }

    /** The effective config: sizes from {@code db.meta}, run-time settings of this open. */
    public FixedConfig config() {
        return store.config();
    }

    /** The collection's directory. */
    public Path path() {
        return store.dir();
    }

    /** The random id of this collection, in hex. */
    public String databaseId() {
        return store.meta().databaseIdHex();
    }

    /**
     * The engine behind this collection, for the replication module and tools. Not part of the stable API:
     * writing through it bypasses the checks of this class.
     */
    public Store engine() {
        return store;
    }

    /** True once closed. */
    public boolean isClosed() {
        return store.isClosed();
    }

    /** Flushes and closes the collection, releasing its files and directory lock. Idempotent. */
    @Override
    public void close() {
        store.close();
    }

    Shard writable(int shard) {
        store.checkWritable();
        return store.shard(shard);
    }

    RuntimeException closedOr(IllegalStateException e) {
        return store.isClosed() ? store.closedException() : e;
    }
}
