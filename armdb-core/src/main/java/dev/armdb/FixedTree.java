package dev.armdb;

import dev.armdb.store.KeyListener;
import dev.armdb.store.Store;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * A {@link FixedMap} that also keeps its keys in order (unsigned lexicographic byte order): ranges, prefixes,
 * first/last, floor/ceiling.
 *
 * <p>Point operations go through the same hash index as {@link FixedMap} ({@code get} and updates of existing
 * keys allocate nothing); the order lives in a concurrent skip list of the keys, rebuilt at open, to which an
 * insert adds one key copy and one node. Navigation is weakly consistent: it never fails under concurrent writes,
 * sees every key that stays live throughout, and skips keys deleted meanwhile.
 *
 * <p>Thread-safe; see {@link FixedStore} for the contract of the shared operations. Navigation bounds may have
 * any length (a shorter array sorts before every key it prefixes).
 */
public final class FixedTree extends FixedStore {
    private static final Comparator<byte[]> ORDER = Arrays::compareUnsigned;

    /** The ordered keys (values unused); built in one pass at open, then kept by the key listener. */
    private final ConcurrentSkipListMap<byte[], Boolean> order;

    private final NavigableSet<byte[]> keys;

    private FixedTree(Store store) {
        super(store);
        KeyListener listener = new KeyListener() {
            @Override
            public void inserted(byte[] key) {
                order.put(key.clone(), Boolean.TRUE);
            }

            @Override
            public void removed(byte[] key) {
                order.remove(key);
            }
        };
        try {
            List<byte[]> existing = new ArrayList<>();
            for (int i = 0; i < store.shardCount(); i++) {
                store.shard(i).attachKeyListener(listener, existing::add);
            }
            // nothing else holds this collection while its constructor runs, so no writer's event can interleave
            this.order = new ConcurrentSkipListMap<>(SortedKeys.of(existing));
            this.keys = order.keySet();
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    /**
     * The keys found at open, sorted ({@link KeySorter}), seen as a sorted map for {@link ConcurrentSkipListMap}'s
     * one-pass build from sorted input: 10M keys inserted one by one in hash order took 45 s (every insert misses
     * the cache). Only what that build reads is implemented.
     */
    private static final class SortedKeys extends java.util.AbstractMap<byte[], Boolean>
            implements java.util.SortedMap<byte[], Boolean> {
        private final byte[][] sorted;

        private SortedKeys(byte[][] sorted) {
            this.sorted = sorted;
        }

        static SortedKeys of(List<byte[]> keys) {
            return new SortedKeys(KeySorter.sortedDistinct(keys));
        }

        @Override
        public Comparator<? super byte[]> comparator() {
            return ORDER;
        }

        @Override
        public Set<Map.Entry<byte[], Boolean>> entrySet() {
            return new java.util.AbstractSet<>() {
                @Override
                public Iterator<Map.Entry<byte[], Boolean>> iterator() {
                    return new Iterator<>() {
                        private int next;

                        @Override
                        public boolean hasNext() {
                            return next < sorted.length;
                        }

                        @Override
                        public Map.Entry<byte[], Boolean> next() {
                            if (next >= sorted.length) {
                                throw new java.util.NoSuchElementException();
                            }
                            return Map.entry(sorted[next++], Boolean.TRUE);
                        }
                    };
                }

                @Override
                public int size() {
                    return sorted.length;
                }
            };
        }

        @Override
        public java.util.SortedMap<byte[], Boolean> subMap(byte[] from, byte[] to) {
            throw new UnsupportedOperationException("only iterated once, in order");
        }

        @Override
        public java.util.SortedMap<byte[], Boolean> headMap(byte[] to) {
            throw new UnsupportedOperationException("only iterated once, in order");
        }

        @Override
        public java.util.SortedMap<byte[], Boolean> tailMap(byte[] from) {
            throw new UnsupportedOperationException("only iterated once, in order");
        }

        @Override
        public byte[] firstKey() {
            throw new UnsupportedOperationException("only iterated once, in order");
        }

        @Override
        public byte[] lastKey() {
            throw new UnsupportedOperationException("only iterated once, in order");
        }
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
     * Entries with {@code fromInclusive <= key < toExclusive} in ascending key order; a null bound is open.
     */
    public Iterator<Entry> range(byte[] fromInclusive, byte[] toExclusive) {
        store.checkOpen();
        return new EntryIterator(keysBetween(fromInclusive, toExclusive).iterator());
    }

    /** The ordered keys with {@code fromInclusive <= key < toExclusive}; a null bound is open. */
    private NavigableSet<byte[]> keysBetween(byte[] fromInclusive, byte[] toExclusive) {
        if (fromInclusive == null && toExclusive == null) {
            return keys;
        } else if (fromInclusive == null) {
            return keys.headSet(toExclusive, false);
        } else if (toExclusive == null) {
            return keys.tailSet(fromInclusive, true);
        } else if (Arrays.compareUnsigned(fromInclusive, toExclusive) >= 0) {
            return java.util.Collections.emptyNavigableSet();
        }
        return keys.subSet(fromInclusive, true, toExclusive, false);
    }

    /**
     * Visits the pairs with {@code fromInclusive <= key < toExclusive} (a null bound is open) in ascending key
     * order until {@code visitor} returns false, without allocating per pair: each value is copied into one reused
     * buffer, and each key handed out is the ordered set's own array (read it during the call; never modify or keep
     * it). Same consistency as {@link #range}. One thread per scan.
     *
     * @return number of pairs visited
     */
    public long scan(byte[] fromInclusive, byte[] toExclusive, PairVisitor visitor) {
        Objects.requireNonNull(visitor, "visitor");
        store.checkOpen();
        byte[] value = new byte[config().valueSize()];
        long visited = 0;
        for (byte[] k : keysBetween(fromInclusive, toExclusive)) {
            if (get(k, value)) {
                visited++;
                if (!visitor.visit(k, value)) {
                    break;
                }
            }
        }
        return visited;
    }

    /** Entries in descending key order, from the last key down. */
    public Iterator<Entry> descending() {
        store.checkOpen();
        return new EntryIterator(keys.descendingIterator());
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
        return firstLive(keys.iterator());
    }

    /** The entry with the largest key, or null if empty. */
    public Entry last() {
        return firstLive(keys.descendingIterator());
    }

    /** The entry with the largest key {@code <= key}, or null. */
    public Entry floor(byte[] key) {
        return firstLive(keys.headSet(key, true).descendingIterator());
    }

    /** The entry with the smallest key {@code >= key}, or null. */
    public Entry ceiling(byte[] key) {
        return firstLive(keys.tailSet(key, true).iterator());
    }

    /** The entry with the largest key {@code < key}, or null. */
    public Entry lower(byte[] key) {
        return firstLive(keys.headSet(key, false).descendingIterator());
    }

    /** The entry with the smallest key {@code > key}, or null. */
    public Entry higher(byte[] key) {
        return firstLive(keys.tailSet(key, false).iterator());
    }

    private Entry firstLive(Iterator<byte[]> it) {
        store.checkOpen();
        EntryIterator e = new EntryIterator(it);
        return e.hasNext() ? e.next() : null;
    }

    /** Walks keys of the ordered set and looks each value up, skipping keys deleted meanwhile. */
    private final class EntryIterator implements Iterator<Entry> {
        private final Iterator<byte[]> keyIt;
        private Entry next;

        EntryIterator(Iterator<byte[]> keyIt) {
            this.keyIt = keyIt;
        }

        @Override
        public boolean hasNext() {
            while (next == null && keyIt.hasNext()) {
                byte[] k = keyIt.next();
                byte[] v = get(k);
                if (v != null) {
                    next = new Entry(k.clone(), v);
                }
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
