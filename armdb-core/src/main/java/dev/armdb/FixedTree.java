package dev.armdb;

import dev.armdb.index.KeyHash;
import dev.armdb.index.OrderedIndex;
import dev.armdb.store.KeyListener;
import dev.armdb.store.Shard;
import dev.armdb.store.Store;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;

/**
 * A {@link FixedMap} that also keeps its keys in order (unsigned lexicographic byte order): ranges, prefixes,
 * first/last, floor/ceiling.
 *
 * <p>Point operations go through the same hash index as {@link FixedMap} ({@code get} and updates allocate
 * nothing). The order lives in an {@link OrderedIndex}: a copy-on-write B+-tree of the keys, rebuilt at open, to
 * which an insert or delete copies one leaf and the branches above it. Beside each key it keeps a hint of the key's
 * slot and, for values of up to {@value #MAX_COPIED_VALUE} bytes, a copy of the key's value, which every write of the
 * key rewrites in place (under the shard's lock, before the write returns). So a scan reads keys and values
 * sequentially from the tree's leaves instead of one slot at a random place of the shard files per key: full
 * iteration and short ranges run at memory speed. The price: an update finds its key's leaf (a walk down the tree)
 * and the heap holds the values a second time, which is why larger values are not copied.
 *
 * <p>Without a copy (larger values, or a leaf an insert or delete is copying right then), a scan reads the value
 * from the hinted slot, checked against the hash index's cheap "is this slot current" bit and the slot's key under
 * the slot's version check; when the hint is stale (the key was updated, copy-on-write, into another slot) the scan
 * looks the key up by hash and stores the new hint.
 *
 * <p><b>Consistency of navigation</b> (every method below that walks keys, and its iterators): it walks the keys
 * present when it starts (when the method is called, or the iterator created), reading each value when it reaches
 * that key. So it never fails or blocks under concurrent writes, and:
 *
 * <ul>
 *   <li>every key it reports comes with a value that key held (never another key's, never a torn one);
 *   <li>each value is at least as new as the latest put of that key that returned before the value is read (for
 *       {@link #scan}: before the previous visit returned, or the scan started);
 *   <li>a key whose delete returned before that point is skipped;
 *   <li>every key live from the start to the end is visited exactly once, in order;
 *   <li>no key whose insert started after the start is visited.
 * </ul>
 *
 * <p>Thread-safe; see {@link FixedStore} for the contract of the shared operations. Navigation bounds may have
 * any length (a shorter array sorts before every key it prefixes).
 */
public final class FixedTree extends FixedStore {
    /**
     * Largest value the tree keeps a copy of beside its key: a leaf of 64 such values is 16 KiB to copy on an insert,
     * and the heap holds every value twice.
     */
    public static final int MAX_COPIED_VALUE = 256;

    /** Keys whose slots a scan without copies touches together ({@link #warm}): about the misses in flight. */
    private static final int WARM_AHEAD = 16;

    private static final byte[] NO_VALUE = new byte[0];

    private final OrderedIndex ordered;
    /** Whether the tree keeps a copy of each value ({@link #MAX_COPIED_VALUE}). */
    private final boolean copies;
    /** Where scans leave what {@link #warm} read; plain, racy, never read for anything. */
    @SuppressWarnings("unused")
    private int lastWarmSink;

    private final int keySize;
    private final int valueSize;

    private FixedTree(Store store) {
        super(store);
        this.keySize = store.meta().keySize();
        this.valueSize = store.meta().valueSize();
        this.copies = valueSize <= MAX_COPIED_VALUE;
        this.ordered = attachAndBuild(store, copies);
    }

    /**
     * Attaches a key listener to every shard and builds the ordered index from the keys live then, with a copy of each
     * value if {@code copies}. Nothing else holds this collection while its constructor runs, so no writer's event
     * can arrive before the index exists (and the values read from the slots while it is built hold still); the
     * listeners reach it through {@code holder}.
     */
    private static OrderedIndex attachAndBuild(Store store, boolean copies) {
        int keySize = store.meta().keySize();
        int copiedSize = copies ? store.meta().valueSize() : 0;
        OrderedIndex[] holder = new OrderedIndex[1];
        List<byte[]> keys = new ArrayList<>();
        long[][] hints = {new long[1024]};
        try {
            for (int i = 0; i < store.shardCount(); i++) {
                int shard = i;
                KeyListener listener = new KeyListener() {
                    @Override
                    public void inserted(byte[] key, int slot, byte[] value) {
                        holder[0].insert(key, hintOf(shard, slot), copies ? value : NO_VALUE);
                    }

                    @Override
                    public void updated(byte[] key, int slot, byte[] value) {
                        if (copies) {
                            holder[0].update(key, hintOf(shard, slot), value);
                        }
                    }

                    @Override
                    public void removed(byte[] key) {
                        holder[0].remove(key);
                    }
                };
                store.shard(i).attachKeyListener(listener, (key, slot) -> {
                    if (keys.size() == hints[0].length) {
                        hints[0] = Arrays.copyOf(hints[0], keys.size() * 2);
                    }
                    hints[0][keys.size()] = hintOf(shard, slot);
                    keys.add(key);
                });
            }
            byte[][] sorted = keys.toArray(new byte[0][]);
            keys.clear();
            int n = KeySorter.sortDistinct(sorted, hints[0], sorted.length);
            byte[] packed = new byte[n * keySize];
            for (int i = 0; i < n; i++) {
                System.arraycopy(sorted[i], 0, packed, i * keySize, keySize);
                sorted[i] = null;
            }
            long[] sortedHints = hints[0];
            OrderedIndex.ValueSource values = copies
                    ? (k, out, offset) -> {
                        long hint = sortedHints[k];
                        store.shard((int) (hint >>> 32)).copyValueWhileNoWriterRuns((int) hint, out, offset);
                    }
                    : (k, out, offset) -> {};
            holder[0] = new OrderedIndex(keySize, copiedSize, packed, sortedHints, values, n);
            return holder[0];
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    /** A slot hint: shard in the high half, slot in the low half. */
    private static long hintOf(int shard, int slot) {
        return ((long) shard << 32) | (slot & 0xFFFF_FFFFL);
    }

    /**
     * Opens the collection in {@code dir}, creating it if it does not exist; see {@link FixedMap#open(Path,
     * FixedConfig)}.
     */
    public static FixedTree open(Path dir, FixedConfig config) {
        return new FixedTree(Store.open(dir, Objects.requireNonNull(config, "config")));
    }

    /** Opens an existing collection with its stored sizes; see {@link FixedMap#open(Path)}. */
    public static FixedTree open(Path dir) {
        return new FixedTree(Store.open(dir, null));
    }

    /** A key and its value, in arrays owned by the receiver. */
    public record Entry(byte[] key, byte[] value) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Entry e && Arrays.equals(key, e.key) && Arrays.equals(value, e.value);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(key) * 31 + Arrays.hashCode(value);
        }

        @Override
        public String toString() {
            return "Entry[key=" + java.util.HexFormat.of().formatHex(key) + ", value="
                    + java.util.HexFormat.of().formatHex(value) + "]";
        }
    }

    /**
     * Entries with {@code fromInclusive <= key < toExclusive} in ascending key order; a null bound is open. See the
     * class comment for the consistency of navigation.
     */
    public Iterator<Entry> range(byte[] fromInclusive, byte[] toExclusive) {
        store.checkOpen();
        OrderedIndex.Cursor c = walkCursor();
        boolean on = fromInclusive == null ? c.first() : c.ceiling(fromInclusive, true);
        return new EntryIterator(c, on, true, emptyRange(fromInclusive, toExclusive) ? fromInclusive : toExclusive);
    }

    /** A cursor for a walk over many keys: one that warms the leaves it enters when they hold value copies. */
    private OrderedIndex.Cursor walkCursor() {
        return copies ? ordered.scanCursor() : ordered.cursor();
    }

    private static boolean emptyRange(byte[] fromInclusive, byte[] toExclusive) {
        return fromInclusive != null && toExclusive != null && Arrays.compareUnsigned(fromInclusive, toExclusive) >= 0;
    }

    /**
     * Visits the pairs with {@code fromInclusive <= key < toExclusive} (a null bound is open) in ascending key
     * order until {@code visitor} returns false, without allocating per pair: each key and value is copied into one
     * reused buffer each (read them during the call; never keep them). Consistency: see the class comment (each
     * value is read just before its visit). One thread per scan.
     *
     * @return number of pairs visited
     */
    public long scan(byte[] fromInclusive, byte[] toExclusive, PairVisitor visitor) {
        Objects.requireNonNull(visitor, "visitor");
        store.checkOpen();
        if (emptyRange(fromInclusive, toExclusive)) {
            return 0;
        }
        byte[] key = new byte[keySize];
        byte[] value = new byte[valueSize];
        OrderedIndex.Cursor c = walkCursor();
        long visited = 0;
        int warmedTo = 0;
        int warmSink = 0;
        try {
            for (boolean on = fromInclusive == null ? c.first() : c.ceiling(fromInclusive, true);
                    on && below(c, toExclusive);
                    on = c.next()) {
                int at = c.positionInLeaf();
                if (!copies && (at == 0 || at >= warmedTo)) {
                    warmedTo = at + WARM_AHEAD;
                    warmSink += warm(c);
                }
                c.copyKey(key);
                if (readValue(c, key, value)) {
                    visited++;
                    if (!visitor.visit(key, value)) {
                        break;
                    }
                }
            }
        } catch (IllegalStateException e) {
            throw closedOr(e);
        }
        lastWarmSink = warmSink;
        return visited;
    }

    /**
     * For a tree without value copies: touches the slots the hints of the cursor's key and the next {@value
     * #WARM_AHEAD} - 1 keys of its leaf name, and
     * returns what it read (to be kept somewhere, so the loads are not optimised away). In key order consecutive
     * keys live in unrelated slots: touched together, their cache and TLB misses overlap instead of coming one after
     * another (about twice as fast a pass over 1M keys). Values are still read, under each slot's version check,
     * only when the scan reaches their key.
     */
    private int warm(OrderedIndex.Cursor c) {
        int sum = 0;
        for (int i = 0; i < WARM_AHEAD; i++) {
            long hint = c.hintAhead(i);
            if (hint != OrderedIndex.NO_HINT) {
                sum += store.shard((int) (hint >>> 32)).touch((int) hint);
            }
        }
        return sum;
    }

    /** True if the cursor's key is below {@code toExclusive} (null: no bound). */
    private boolean below(OrderedIndex.Cursor c, byte[] toExclusive) {
        if (toExclusive == null) {
            return true;
        }
        int off = c.keyOffset();
        return Arrays.compareUnsigned(c.keys(), off, off + keySize, toExclusive, 0, toExclusive.length) < 0;
    }

    /**
     * Copies the current value of the cursor's key ({@code key} holds a copy) into {@code out}; false if the key
     * is absent now. Reads the tree's copy of the value if it keeps one and the copy is sure; otherwise tries the
     * key's slot hint, and when the hint is stale, looks the key up by hash and stores the slot found as the new
     * hint. Lock-free unless a writer keeps rewriting the slot (then {@link #get} locks).
     */
    private boolean readValue(OrderedIndex.Cursor c, byte[] key, byte[] out) {
        if (copies && c.readValue(out)) {
            // the closed check the slot reads make: a closed collection answers nothing, even from the heap
            store.checkOpen();
            return true;
        }
        byte[] keys = c.keys();
        int off = c.keyOffset();
        long hint = c.hint();
        if (hint != OrderedIndex.NO_HINT && store.shard((int) (hint >>> 32)).getAt((int) hint, keys, off, out)) {
            return true;
        }
        long h = KeyHash.hash(key);
        int s = store.shardOf(key, h);
        Shard shard = store.shard(s);
        int slot = shard.currentSlotOf(key);
        if (slot < 0) {
            return false;
        }
        if (shard.getAt(slot, keys, off, out)) {
            c.hint(hintOf(s, slot));
            return true;
        }
        return shard.get(key, h, out);
    }

    /** Entries in descending key order, from the last key down. */
    public Iterator<Entry> descending() {
        store.checkOpen();
        OrderedIndex.Cursor c = walkCursor();
        return new EntryIterator(c, c.last(), false, null);
    }

    /** Entries whose key starts with {@code prefix}, in ascending key order. */
    public Iterator<Entry> prefix(byte[] prefix) {
        Objects.requireNonNull(prefix, "prefix");
        return range(prefix, successor(prefix));
    }

    /** The smallest array greater than every array starting with {@code prefix}, or null if none exists. */
    static byte[] successor(byte[] prefix) {
        for (int i = prefix.length - 1; i >= 0; i--) {
            if (prefix[i] != (byte) 0xFF) {
                byte[] s = Arrays.copyOf(prefix, i + 1);
                s[i]++;
                return s;
            }
        }
        return null;
    }

    /** The entry with the smallest key, or null if empty. */
    public Entry first() {
        store.checkOpen();
        OrderedIndex.Cursor c = ordered.cursor();
        return firstLive(c, c.first(), true);
    }

    /** The entry with the largest key, or null if empty. */
    public Entry last() {
        store.checkOpen();
        OrderedIndex.Cursor c = ordered.cursor();
        return firstLive(c, c.last(), false);
    }

    /** The entry with the largest key {@code <= key}, or null. */
    public Entry floor(byte[] key) {
        store.checkOpen();
        OrderedIndex.Cursor c = ordered.cursor();
        return firstLive(c, c.floor(Objects.requireNonNull(key, "key"), true), false);
    }

    /** The entry with the smallest key {@code >= key}, or null. */
    public Entry ceiling(byte[] key) {
        store.checkOpen();
        OrderedIndex.Cursor c = ordered.cursor();
        return firstLive(c, c.ceiling(Objects.requireNonNull(key, "key"), true), true);
    }

    /** The entry with the largest key {@code < key}, or null. */
    public Entry lower(byte[] key) {
        store.checkOpen();
        OrderedIndex.Cursor c = ordered.cursor();
        return firstLive(c, c.floor(Objects.requireNonNull(key, "key"), false), false);
    }

    /** The entry with the smallest key {@code > key}, or null. */
    public Entry higher(byte[] key) {
        store.checkOpen();
        OrderedIndex.Cursor c = ordered.cursor();
        return firstLive(c, c.ceiling(Objects.requireNonNull(key, "key"), false), true);
    }

    private Entry firstLive(OrderedIndex.Cursor c, boolean on, boolean ascending) {
        EntryIterator e = new EntryIterator(c, on, ascending, null);
        return e.hasNext() ? e.next() : null;
    }

    /** Walks a cursor and reads each value as it reaches its key, skipping keys deleted meanwhile. */
    private final class EntryIterator implements Iterator<Entry> {
        private final OrderedIndex.Cursor cursor;
        private final boolean ascending;
        private final byte[] toExclusive;
        private final byte[] key = new byte[keySize];
        private boolean on;
        private Entry next;

        /** {@code on}: the cursor is on the first key to consider; {@code toExclusive} bounds an ascending walk. */
        EntryIterator(OrderedIndex.Cursor cursor, boolean on, boolean ascending, byte[] toExclusive) {
            this.cursor = cursor;
            this.on = on;
            this.ascending = ascending;
            this.toExclusive = toExclusive;
        }

        @Override
        public boolean hasNext() {
            try {
                while (next == null && on) {
                    if (ascending && !below(cursor, toExclusive)) {
                        on = false;
                        break;
                    }
                    cursor.copyKey(key);
                    byte[] value = new byte[valueSize];
                    if (readValue(cursor, key, value)) {
                        next = new Entry(key.clone(), value);
                    }
                    on = ascending ? cursor.next() : cursor.previous();
                }
            } catch (IllegalStateException e) {
                throw closedOr(e);
            }
            return next != null;
        }

        @Override
        public Entry next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            Entry e = next;
            next = null;
            return e;
        }
    }
}
