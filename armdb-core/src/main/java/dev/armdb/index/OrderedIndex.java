package dev.armdb.index;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;

/**
 * The keys of a collection in unsigned lexicographic order, each with a copy of its value and a slot hint: a
 * copy-on-write B+-tree whose leaves hold up to {@value #MAX_ENTRIES} keys packed in one array (with parallel arrays
 * of values, per-entry stamps and hints) and whose branches hold the first key of each child. A scan walks a leaf's
 * keys and values sequentially, where a skip list chases two or three pointers per key and the slots of keys in key
 * order lie at random places of the shard files.
 *
 * <p><b>Copy-on-write:</b> an insert or a removal copies the leaf it changes and the branches above it and publishes
 * the new root; nodes already published never change their keys. A {@link Cursor} therefore walks the tree as it
 * was when it was positioned: a consistent snapshot of the key set, never disturbed by writers.
 *
 * <p><b>Values</b> are the mutable part of a published leaf. {@link #update} writes a present key's new value in
 * place, without the lock, under the entry's stamp (a seqlock: odd while the value changes); one key has one writer
 * at a time (the owner's, e.g. its shard's writer). A leaf that an insert or a removal copies is first marked
 * <em>retired</em>, and then copied entry by entry under the stamps. The mark and the stamps form a Dekker pair: an
 * update stores its stamp and then reads the mark, a copier stores the mark and then reads the stamps (all volatile),
 * so either the copy carries the new value or the update sees the mark and writes it again into the leaf now
 * published, under the lock. A reader trusts a value read from a leaf only if the leaf is not retired after the
 * read ({@link Cursor#readValue}); otherwise it asks the owner's own store.
 *
 * <p><b>Hints</b> are advisory: a {@code long} per key that the owner packs as it likes (here shard and slot), or
 * {@link #NO_HINT}. A reader that finds a hint stale may store a better one ({@link Cursor#hint(long)}) without a
 * lock, and a writer that copies the leaf may or may not carry that store over. So a hint may be stale, or lost, but
 * is always one that was stored for that key; the reader validates it before trusting it.
 *
 * <p>Threading: {@link #insert} and {@link #remove} take this index's lock (writers of different shards
 * serialise here, briefly); {@link #update} takes it only when it meets a retired leaf; cursors and {@link #size}
 * take no lock and may run on any number of threads.
 */
public final class OrderedIndex {
    /** The hint of a key whose slot is not known. */
    public static final long NO_HINT = -1L;

    /** Most keys in a leaf and most children of a branch; a node that would exceed it splits in two. */
    static final int MAX_ENTRIES = 64;

    /** Entries per leaf when the tree is built from sorted keys (room for inserts before a split). */
    private static final int BUILD_FILL = 56;

    /** Tries of a cursor's lock-free value read before it gives up on a value that keeps changing. */
    private static final int READ_ATTEMPTS = 8;

    /** Spins of a leaf copy waiting for one entry's writer before it yields its processor instead. */
    private static final int SPINS_BEFORE_YIELD = 100;

    private static final VarHandle HINT = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle BIG_ENDIAN_LONG =
            MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.BIG_ENDIAN);
    private static final VarHandle STAMP = MethodHandles.arrayElementVarHandle(int[].class);

    private final int keySize;
    private final int valueSize;
    private volatile Node root;
    private volatile long size;

    /** An empty index of keys of {@code keySize} bytes and values of {@code valueSize} bytes. */
    public OrderedIndex(int keySize, int valueSize) {
        this(keySize, valueSize, new byte[0], new long[0], (i, out, offset) -> {}, 0);
    }

    /** Where a bulk-built index gets the value of each of its keys. */
    @FunctionalInterface
    public interface ValueSource {
        /** Copies the value of key {@code i} into {@code out} at {@code offset}. Called once per key, in order. */
        void copy(int i, byte[] out, int offset);
    }

    /**
     * An index holding the {@code n} keys packed in {@code sortedKeys} (strictly ascending, {@code keySize} bytes
     * each) with {@code hints[i]} and the value {@code values} gives for key {@code i}, built bottom-up in one pass.
     *
     * @throws IllegalArgumentException if the keys are not strictly ascending, the key size is not positive, the value
     *     size is negative or an array is too short
     */
    public OrderedIndex(int keySize, int valueSize, byte[] sortedKeys, long[] hints, ValueSource values, int n) {
        if (keySize <= 0 || valueSize < 0 || sortedKeys.length < (long) n * keySize || hints.length < n) {
            throw new IllegalArgumentException("need " + n + " keys of " + keySize + " bytes and " + n
                    + " hints, got " + sortedKeys.length + " key bytes and " + hints.length + " hints (value size "
                    + valueSize + ")");
        }
        for (int i = 1; i < n; i++) {
            if (compare(sortedKeys, (i - 1) * keySize, sortedKeys, i * keySize, keySize) >= 0) {
                throw new IllegalArgumentException(
                        "keys must be strictly ascending; key " + i + " is not above key " + (i - 1));
            }
        }
        this.keySize = keySize;
        this.valueSize = valueSize;
        this.root = build(sortedKeys, hints, values, n);
        this.size = n;
    }

    /** Key size in bytes. */
    public int keySize() {
        return keySize;
    }

    /** Value size in bytes. */
    public int valueSize() {
        return valueSize;
    }

    /** Number of keys; a moment stale while writers run. Any thread. */
    public long size() {
        return size;
    }

    // ---------------------------------------------------------------- nodes

    /**
     * A leaf ({@code children == null}: {@code n} keys, their values, stamps and hints) or a branch ({@code n}
     * children and the first key of each). Keys never change after publication; values, stamps and hints may, and a
     * leaf's {@code retired} mark is set once, before it is copied (see the class comment).
     */
    static final class Node {
        final int n;
        final byte[] keys;
        final Node[] children;
        final long[] hints;
        final byte[] values;
        final int[] stamps;
        volatile boolean retired;

        /** A branch. */
        Node(int n, byte[] keys, Node[] children) {
            this.n = n;
            this.keys = keys;
            this.children = children;
            this.hints = null;
            this.values = null;
            this.stamps = null;
        }

        /** A leaf, its stamps all even. */
        Node(int n, byte[] keys, long[] hints, byte[] values) {
            this.n = n;
            this.keys = keys;
            this.children = null;
            this.hints = hints;
            this.values = values;
            this.stamps = new int[n];
        }

        boolean isLeaf() {
            return children == null;
        }
    }

    private Node emptyLeaf() {
        return new Node(0, new byte[0], new long[0], new byte[0]);
    }

    private Node build(byte[] sortedKeys, long[] hints, ValueSource values, int n) {
        if (n == 0) {
            return emptyLeaf();
        }
        int leaves = (n + BUILD_FILL - 1) / BUILD_FILL;
        Node[] level = new Node[leaves];
        for (int l = 0, from = 0; l < leaves; l++) {
            int count = evenShare(n, leaves, l);
            byte[] leafValues = new byte[count * valueSize];
            for (int i = 0; i < count; i++) {
                values.copy(from + i, leafValues, i * valueSize);
            }
            level[l] = new Node(
                    count,
                    Arrays.copyOfRange(sortedKeys, from * keySize, (from + count) * keySize),
                    Arrays.copyOfRange(hints, from, from + count),
                    leafValues);
            from += count;
        }
        while (level.length > 1) {
            int parents = (level.length + BUILD_FILL - 1) / BUILD_FILL;
            Node[] up = new Node[parents];
            for (int p = 0, from = 0; p < parents; p++) {
                int count = evenShare(level.length, parents, p);
                up[p] = branch(Arrays.copyOfRange(level, from, from + count));
                from += count;
            }
            level = up;
        }
        return level[0];
    }

    /** Share {@code i} of {@code total} items split as evenly as possible into {@code parts}. */
    private static int evenShare(int total, int parts, int i) {
        return total / parts + (i < total % parts ? 1 : 0);
    }

    /**
     * A branch over {@code children}, which keep {@code old}'s children in order with some replaced, added or dropped:
     * the first key of a child {@code old} already had is copied from {@code old}'s array (read from the child itself
     * it would cost a cache miss per child, most of them on leaves nothing else touches), and only new children are
     * read.
     */
    private Node branchOf(Node old, Node[] children) {
        byte[] firsts = new byte[children.length * keySize];
        int from = 0;
        for (int i = 0; i < children.length; i++) {
            int at = -1;
            for (int j = from; j < old.n; j++) {
                if (old.children[j] == children[i]) {
                    at = j;
                    break;
                }
            }
            if (at >= 0) {
                System.arraycopy(old.keys, at * keySize, firsts, i * keySize, keySize);
                from = at + 1;
            } else {
                System.arraycopy(children[i].keys, 0, firsts, i * keySize, keySize);
            }
        }
        return new Node(children.length, firsts, children);
    }

    private Node branch(Node[] children) {
        byte[] firsts = new byte[children.length * keySize];
        for (int i = 0; i < children.length; i++) {
            System.arraycopy(children[i].keys, 0, firsts, i * keySize, keySize);
        }
        return new Node(children.length, firsts, children);
    }

    // ---------------------------------------------------------------- writes

    /**
     * Adds {@code key} with {@code value} and {@code hint}, or, if present, replaces its value and hint. Takes this
     * index's lock; allocates the copied path. Any thread; one writer per key at a time.
     */
    public void insert(byte[] key, long hint, byte[] value) {
        checkKey(key);
        checkValue(value);
        synchronized (this) {
            Node r = root;
            Node[] out = insert(r, key, hint, value);
            if (out == null) {
                return;
            }
            // volatile write publishes the copied path; readers on the old root keep their snapshot
            root = out.length == 1 ? out[0] : branch(out);
            size = size + 1;
        }
    }

    /**
     * Replaces the value and hint of {@code key}, which must be present (if it is not, adds it as {@link #insert}
     * does). Lock-free and allocation-free unless it meets a leaf an insert or removal is copying: then it writes
     * again under the lock. Any thread; one writer per key at a time, and not racing that key's insert or removal.
     */
    public void update(byte[] key, long hint, byte[] value) {
        checkKey(key);
        checkValue(value);
        Node leaf = root;
        while (!leaf.isLeaf()) {
            leaf = leaf.children[childFor(leaf, key)];
        }
        int pos = search(leaf, key);
        if (pos < 0) {
            insert(key, hint, value);
            return;
        }
        writeEntry(leaf, pos, hint, value);
        // volatile read after the stamp's volatile store: a copier that marked the leaf before that store is seen here
        if (leaf.retired) {
            insert(key, hint, value);
        }
    }

    /** Removes {@code key} if present. Takes this index's lock; allocates the copied path. Any thread. */
    public void remove(byte[] key) {
        checkKey(key);
        synchronized (this) {
            Node r = root;
            Node out = remove(r, key);
            if (out == r) {
                return;
            }
            if (out == null) {
                out = emptyLeaf();
            }
            while (!out.isLeaf() && out.n == 1) {
                out = out.children[0];
            }
            root = out;
            size = size - 1;
        }
    }

    private void checkKey(byte[] key) {
        if (key.length != keySize) {
            throw new IllegalArgumentException("key must be exactly " + keySize + " bytes, got " + key.length);
        }
    }

    private void checkValue(byte[] value) {
        if (value.length != valueSize) {
            throw new IllegalArgumentException("value must be exactly " + valueSize + " bytes, got " + value.length);
        }
    }

    /**
     * Writes entry {@code i} of {@code leaf} under its stamp. Its key's one writer, or any thread under the lock (no
     * copier then).
     */
    private void writeEntry(Node leaf, int i, long hint, byte[] value) {
        int stamp = (int) STAMP.getOpaque(leaf.stamps, i);
        // volatile: the store half of the Dekker pair with a copier's retired mark (see the class comment)
        STAMP.setVolatile(leaf.stamps, i, stamp + 1);
        // the odd stamp must be visible before any byte of the new value
        VarHandle.storeStoreFence();
        System.arraycopy(value, 0, leaf.values, i * valueSize, valueSize);
        HINT.setOpaque(leaf.hints, i, hint);
        STAMP.setRelease(leaf.stamps, i, stamp + 2);
    }

    /**
     * Marks published {@code leaf} retired, so that a writer updating one of its entries from now on writes again
     * into the leaf that replaces it. Under the lock, before the leaf's values are copied.
     */
    private static void retire(Node leaf) {
        // volatile store before the stamps' volatile loads of the copy: the copier's half of the Dekker pair
        leaf.retired = true;
    }

    /**
     * Copies the values of entries {@code [from, to)} of retired {@code leaf} into {@code out} at entry {@code at},
     * each read under its stamp (waiting out a writer in the middle of one). Under the lock.
     */
    private void copyValuesStably(Node leaf, int from, int to, byte[] out, int at) {
        for (int i = from; i < to; i++) {
            int src = i * valueSize;
            int dst = (at + i - from) * valueSize;
            for (int spins = 0; ; spins++) {
                int stamp = (int) STAMP.getVolatile(leaf.stamps, i);
                if ((stamp & 1) != 0) {
                    // a writer in the middle of one entry: a few stores, unless it lost its processor
                    if (spins < SPINS_BEFORE_YIELD) {
                        Thread.onSpinWait();
                    } else {
                        Thread.yield();
                    }
                    continue;
                }
                System.arraycopy(leaf.values, src, out, dst, valueSize);
                VarHandle.loadLoadFence();
                if ((int) STAMP.getOpaque(leaf.stamps, i) == stamp) {
                    break;
                }
            }
        }
    }

    /** The node(s) replacing {@code node} after inserting, or null if the key was present (value and hint set). */
    private Node[] insert(Node node, byte[] key, long hint, byte[] value) {
        if (node.isLeaf()) {
            int pos = search(node, key);
            if (pos >= 0) {
                writeEntry(node, pos, hint, value);
                return null;
            }
            int at = -pos - 1;
            retire(node);
            byte[] keys = new byte[(node.n + 1) * keySize];
            long[] hints = new long[node.n + 1];
            byte[] values = new byte[(node.n + 1) * valueSize];
            System.arraycopy(node.keys, 0, keys, 0, at * keySize);
            System.arraycopy(key, 0, keys, at * keySize, keySize);
            System.arraycopy(node.keys, at * keySize, keys, (at + 1) * keySize, (node.n - at) * keySize);
            System.arraycopy(node.hints, 0, hints, 0, at);
            hints[at] = hint;
            System.arraycopy(node.hints, at, hints, at + 1, node.n - at);
            copyValuesStably(node, 0, at, values, 0);
            System.arraycopy(value, 0, values, at * valueSize, valueSize);
            copyValuesStably(node, at, node.n, values, at + 1);
            return splitIfFull(new Node(node.n + 1, keys, hints, values));
        }
        int c = childFor(node, key);
        Node[] sub = insert(node.children[c], key, hint, value);
        if (sub == null) {
            return null;
        }
        Node[] children = new Node[node.n + sub.length - 1];
        System.arraycopy(node.children, 0, children, 0, c);
        System.arraycopy(sub, 0, children, c, sub.length);
        System.arraycopy(node.children, c + 1, children, c + sub.length, node.n - c - 1);
        return splitIfFull(branchOf(node, children));
    }

    private Node[] splitIfFull(Node node) {
        if (node.n <= MAX_ENTRIES) {
            return new Node[] {node};
        }
        int half = node.n / 2;
        return new Node[] {slice(node, 0, half), slice(node, half, node.n)};
    }

    /** Entries {@code [from, to)} of a node not yet published (so its values hold still). */
    private Node slice(Node node, int from, int to) {
        if (node.isLeaf()) {
            return new Node(
                    to - from,
                    Arrays.copyOfRange(node.keys, from * keySize, to * keySize),
                    Arrays.copyOfRange(node.hints, from, to),
                    Arrays.copyOfRange(node.values, from * valueSize, to * valueSize));
        }
        return new Node(
                to - from,
                Arrays.copyOfRange(node.keys, from * keySize, to * keySize),
                Arrays.copyOfRange(node.children, from, to));
    }

    /** The node replacing {@code node} after removing {@code key}: itself if absent, null if it became empty. */
    private Node remove(Node node, byte[] key) {
        if (node.isLeaf()) {
            int pos = search(node, key);
            if (pos < 0) {
                return node;
            }
            retire(node);
            if (node.n == 1) {
                return null;
            }
            byte[] keys = new byte[(node.n - 1) * keySize];
            long[] hints = new long[node.n - 1];
            byte[] values = new byte[(node.n - 1) * valueSize];
            System.arraycopy(node.keys, 0, keys, 0, pos * keySize);
            System.arraycopy(node.keys, (pos + 1) * keySize, keys, pos * keySize, (node.n - pos - 1) * keySize);
            System.arraycopy(node.hints, 0, hints, 0, pos);
            System.arraycopy(node.hints, pos + 1, hints, pos, node.n - pos - 1);
            copyValuesStably(node, 0, pos, values, 0);
            copyValuesStably(node, pos + 1, node.n, values, pos);
            return new Node(node.n - 1, keys, hints, values);
        }
        int c = childFor(node, key);
        Node child = node.children[c];
        Node sub = remove(child, key);
        if (sub == child) {
            return node;
        }
        Node[] children;
        if (sub == null) {
            if (node.n == 1) {
                return null;
            }
            children = new Node[node.n - 1];
            System.arraycopy(node.children, 0, children, 0, c);
            System.arraycopy(node.children, c + 1, children, c, node.n - c - 1);
        } else {
            children = node.children.clone();
            children[c] = sub;
            mergeSmall(children, c);
            children = dropNulls(children);
        }
        return branchOf(node, children);
    }

    /**
     * Merges {@code children[c]} into a neighbour when both fit in three quarters of a node, so that removals do not
     * leave a tree of nearly empty leaves; the merged-away position becomes null.
     */
    private void mergeSmall(Node[] children, int c) {
        Node small = children[c];
        if (small.n > MAX_ENTRIES / 4) {
            return;
        }
        int other = c + 1 < children.length ? c + 1 : c - 1;
        if (other < 0 || children[other].n + small.n > MAX_ENTRIES * 3 / 4) {
            return;
        }
        int left = Math.min(c, other);
        children[left] = concat(children[left], children[left + 1]);
        children[left + 1] = null;
    }

    /** Two neighbours as one node; a leaf among them may be published, so it is retired and copied stably. */
    private Node concat(Node a, Node b) {
        int n = a.n + b.n;
        if (a.isLeaf()) {
            byte[] keys = Arrays.copyOf(a.keys, n * keySize);
            System.arraycopy(b.keys, 0, keys, a.n * keySize, b.n * keySize);
            long[] hints = Arrays.copyOf(a.hints, n);
            System.arraycopy(b.hints, 0, hints, a.n, b.n);
            retire(a);
            retire(b);
            byte[] values = new byte[n * valueSize];
            copyValuesStably(a, 0, a.n, values, 0);
            copyValuesStably(b, 0, b.n, values, a.n);
            return new Node(n, keys, hints, values);
        }
        Node[] children = Arrays.copyOf(a.children, n);
        System.arraycopy(b.children, 0, children, a.n, b.n);
        byte[] firsts = Arrays.copyOf(a.keys, n * keySize);
        System.arraycopy(b.keys, 0, firsts, a.n * keySize, b.n * keySize);
        return new Node(n, firsts, children);
    }

    private static Node[] dropNulls(Node[] children) {
        int n = 0;
        for (Node c : children) {
            if (c != null) {
                children[n++] = c;
            }
        }
        return n == children.length ? children : Arrays.copyOf(children, n);
    }

    // ---------------------------------------------------------------- search

    /** Position of {@code key} in {@code leaf}, or {@code -(insertion point) - 1}. */
    private int search(Node leaf, byte[] key) {
        int lo = 0;
        int hi = leaf.n - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int cmp = compare(leaf.keys, mid * keySize, key, 0, keySize);
            if (cmp < 0) {
                lo = mid + 1;
            } else if (cmp > 0) {
                hi = mid - 1;
            } else {
                return mid;
            }
        }
        return -lo - 1;
    }

    /** Number of entries of {@code node} whose key is {@code < bound} (or {@code <= bound} if {@code inclusive}). */
    private static int countBelow(Node node, byte[] bound, boolean inclusive, int keySize) {
        int lo = 0;
        int hi = node.n;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            int cmp = compareToBound(node.keys, mid * keySize, keySize, bound);
            if (cmp < 0 || (inclusive && cmp == 0)) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** The child of branch {@code node} whose range holds {@code key}. */
    private int childFor(Node node, byte[] key) {
        return Math.max(0, countBelow(node, key, true, keySize) - 1);
    }

    private static int compare(byte[] a, int aFrom, byte[] b, int bFrom, int len) {
        return compareUnsigned(a, aFrom, len, b, bFrom, len);
    }

    /** Compares a stored key with a bound of any length (a shorter bound sorts before every key it prefixes). */
    private static int compareToBound(byte[] keys, int from, int keySize, byte[] bound) {
        return compareUnsigned(keys, from, keySize, bound, 0, bound.length);
    }

    /**
     * {@link Arrays#compareUnsigned(byte[], int, int, byte[], int, int)} for the short ranges keys are: eight bytes at a
     * time as big-endian longs (unsigned order of longs is the bytes' order), which the tree's searches run several
     * times per level; the library call's general set-up cost more than the comparison of a 16-byte key itself.
     */
    private static int compareUnsigned(byte[] a, int aFrom, int aLen, byte[] b, int bFrom, int bLen) {
        int common = Math.min(aLen, bLen);
        int i = 0;
        for (; i + Long.BYTES <= common; i += Long.BYTES) {
            long x = (long) BIG_ENDIAN_LONG.get(a, aFrom + i);
            long y = (long) BIG_ENDIAN_LONG.get(b, bFrom + i);
            if (x != y) {
                return Long.compareUnsigned(x, y);
            }
        }
        for (; i < common; i++) {
            int x = a[aFrom + i] & 0xFF;
            int y = b[bFrom + i] & 0xFF;
            if (x != y) {
                return x - y;
            }
        }
        return aLen - bLen;
    }

    // ---------------------------------------------------------------- cursors

    /** A new unpositioned cursor. Any thread; the cursor itself is for one thread. */
    public Cursor cursor() {
        return new Cursor(false);
    }

    /**
     * A new unpositioned cursor for walks over many keys: each leaf it enters it first reads a byte of every cache
     * line of the leaf's keys, values and stamps, so that their misses overlap instead of coming one per line as the
     * walk reaches them (a leaf copied by an insert lies anywhere on the heap, past the reach of the hardware's
     * stream prefetch). A waste for a walk of a key or two. Any thread; the cursor itself is for one thread.
     */
    public Cursor scanCursor() {
        return new Cursor(true);
    }

    /**
     * A position in a snapshot of the index, taken when a {@code seek} method runs: the keys it walks are those
     * present at that moment, whatever writers do meanwhile. Not thread-safe (one thread per cursor); allocates
     * only when positioned on a tree deeper than any before.
     */
    public final class Cursor {
        /** Bytes between the loads of {@link #warm}: a cache line. */
        private static final int LINE = 64;

        private final boolean warmLeaves;
        private Node[] path = new Node[4];
        private int[] pos = new int[4];
        private int depth;
        private Node leaf;
        private int at;
        /** Where {@link #warm} leaves what it read, so the loads stay; never read for anything. */
        @SuppressWarnings("unused")
        private int warmSink;

        Cursor(boolean warmLeaves) {
            this.warmLeaves = warmLeaves;
        }

        /** Makes {@code node} the current leaf, warming it first if this cursor does. */
        private void enter(Node node) {
            leaf = node;
            if (warmLeaves) {
                warm(node);
            }
        }

        private void warm(Node node) {
            int sum = 0;
            byte[] keys = node.keys;
            for (int i = 0; i < keys.length; i += LINE) {
                sum += keys[i];
            }
            byte[] values = node.values;
            for (int i = 0; i < values.length; i += LINE) {
                sum += values[i];
            }
            int[] stamps = node.stamps;
            for (int i = 0; i < stamps.length; i += LINE / Integer.BYTES) {
                sum += stamps[i];
            }
            warmSink = sum;
        }

        /** Positions on the smallest key; false if the index is empty. */
        public boolean first() {
            return descend(null, false, false);
        }

        /** Positions on the largest key; false if the index is empty. */
        public boolean last() {
            return descend(null, false, true) || stepBack();
        }

        /**
         * Positions on the smallest key {@code >= bound} ({@code > bound} if not {@code inclusive}); false if none.
         * The bound may have any length.
         */
        public boolean ceiling(byte[] bound, boolean inclusive) {
            return descend(bound, !inclusive, false) || stepForward();
        }

        /**
         * Positions on the largest key {@code <= bound} ({@code < bound} if not {@code inclusive}); false if none.
         */
        public boolean floor(byte[] bound, boolean inclusive) {
            descend(bound, inclusive, true);
            return stepBack();
        }

        /**
         * Walks down a fresh snapshot to the first entry {@code > bound} (if {@code inclusive}) or {@code >= bound}
         * (null bound: the first entry, or past the last if {@code toEnd}), and returns whether it is a key.
         */
        private boolean descend(byte[] bound, boolean inclusive, boolean toEnd) {
            Node node = root;
            depth = 0;
            while (!node.isLeaf()) {
                int c;
                if (bound == null) {
                    c = toEnd ? node.n - 1 : 0;
                } else {
                    c = Math.max(0, countBelow(node, bound, inclusive, keySize) - 1);
                }
                push(node, c);
                node = node.children[c];
            }
            enter(node);
            if (bound == null) {
                at = toEnd ? node.n : 0;
            } else {
                at = countBelow(node, bound, inclusive, keySize);
            }
            return at < leaf.n;
        }

        private void push(Node node, int c) {
            if (depth == path.length) {
                path = Arrays.copyOf(path, depth * 2);
                pos = Arrays.copyOf(pos, depth * 2);
            }
            path[depth] = node;
            pos[depth] = c;
            depth++;
        }

        /** Moves to the next key; false (and unpositioned) past the last. */
        public boolean next() {
            at++;
            return at < leaf.n || stepForward();
        }

        /** Moves to the previous key; false (and unpositioned) before the first. */
        public boolean previous() {
            return stepBack();
        }

        /** From {@code at >= leaf.n}: the first entry of the next non-empty leaf, if any. */
        private boolean stepForward() {
            while (at >= leaf.n) {
                int d = depth - 1;
                while (d >= 0 && pos[d] + 1 >= path[d].n) {
                    d--;
                }
                if (d < 0) {
                    return false;
                }
                pos[d]++;
                Node node = path[d].children[pos[d]];
                for (int k = d + 1; k < depth; k++) {
                    path[k] = node;
                    pos[k] = 0;
                    node = node.children[0];
                }
                enter(node);
                at = 0;
            }
            return true;
        }

        /** Moves to the entry before {@code at}, crossing to earlier leaves; false if none. */
        private boolean stepBack() {
            while (at == 0) {
                int d = depth - 1;
                while (d >= 0 && pos[d] == 0) {
                    d--;
                }
                if (d < 0) {
                    return false;
                }
                pos[d]--;
                Node node = path[d].children[pos[d]];
                for (int k = d + 1; k < depth; k++) {
                    path[k] = node;
                    pos[k] = node.n - 1;
                    node = node.children[node.n - 1];
                }
                enter(node);
                at = node.n;
            }
            at--;
            return true;
        }

        /** The array holding the current key, from {@link #keyOffset()}; never modify it. */
        public byte[] keys() {
            return leaf.keys;
        }

        /** Offset of the current key in {@link #keys()}. */
        public int keyOffset() {
            return at * keySize;
        }

        /** The current key's hint, or {@link #NO_HINT}. */
        public long hint() {
            return (long) HINT.getOpaque(leaf.hints, at);
        }

        /**
         * The hint of the key {@code ahead} places after the current one in the same leaf, or {@link #NO_HINT} past
         * the leaf's end.
         */
        public long hintAhead(int ahead) {
            int i = at + ahead;
            return i < leaf.n ? (long) HINT.getOpaque(leaf.hints, i) : NO_HINT;
        }

        /** Position of the current key in its leaf (0 when the cursor enters a leaf). */
        public int positionInLeaf() {
            return at;
        }

        /**
         * Copies the current key's value into {@code out} ({@code valueSize} bytes) and returns true if the copy is
         * one whole value the key held, at least as new as every {@link #update} of it that returned before this call
         * and with no removal of the key returned before it; false if the leaf was retired (an insert or removal
         * copied it meanwhile) or the value kept changing: then ask the owner's store. Lock-free, allocation-free.
         */
        public boolean readValue(byte[] out) {
            Node l = leaf;
            int i = at;
            for (int attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
                int stamp = (int) STAMP.getAcquire(l.stamps, i);
                if ((stamp & 1) != 0) {
                    Thread.onSpinWait();
                    continue;
                }
                System.arraycopy(l.values, i * valueSize, out, 0, valueSize);
                // the copy before the stamp's re-check and the retired mark's read
                VarHandle.loadLoadFence();
                if ((int) STAMP.getOpaque(l.stamps, i) == stamp) {
                    return !l.retired;
                }
            }
            return false;
        }

        /** Stores a better hint for the current key (advisory: a concurrent copy of the leaf may drop it). */
        public void hint(long hint) {
            HINT.setOpaque(leaf.hints, at, hint);
        }

        /** Copies the current key into {@code out}. */
        public void copyKey(byte[] out) {
            System.arraycopy(leaf.keys, at * keySize, out, 0, keySize);
        }
    }
}
