package dev.armdb.index;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.function.IntConsumer;

/**
 * Per-shard hash index from key to slot id: open addressing with linear probing over one {@code long[]}, each
 * entry {@code tag << 32 | slot} where the tag is the low 32 bits of the key's {@link KeyHash}. Keys themselves
 * live only in the slots, so the index costs 8 bytes per entry and no object per key; at the load factors kept
 * here (0.55 after a rebuild, at most 0.8) that is 10 to 15 bytes per live key.
 *
 * <p>Threading: one writer (the shard's writer, under its lock) calls the mutators; any number of readers call
 * {@link #find} concurrently without locks. The writer publishes entries with release stores and never moves an
 * entry (deletions leave tombstones); a rebuild fills a new array and publishes it through a volatile field.
 * A reader that finds a tag whose slot holds another key re-checks the entry and the table and restarts if
 * either changed, so a slot reused under it never turns a present key into a miss.
 */
public final class HashIndex implements CurrentSlots {
    /** Below this many entries {@link #sortByHome} sorts them whole instead of counting. */
    private static final int SMALL_SORT = 4096;

    private static final long EMPTY = 0L;
    private static final long TOMBSTONE = -1L;
    private static final int MIN_CAPACITY = 16;
    private static final int MAX_CAPACITY = Integer.MAX_VALUE - 8;
    private static final double MAX_LOAD = 0.8;
    private static final double REBUILD_LOAD = 0.55;
    /** How far {@link #guessSlot} probes: a cache line's worth of entries. */
    private static final int GUESS_PROBES = 8;

    private static final VarHandle ENTRY = MethodHandles.arrayElementVarHandle(long[].class);

    private final SlotKeys keys;
    private final IndexedSlots indexed = new IndexedSlots();
    private volatile long[] table;
    private int live;
    private int used;

    /** An empty index over the slots {@code keys} describes. */
    public HashIndex(SlotKeys keys) {
        this(keys, 0);
    }

    /** An empty index sized for about {@code expectedKeys} keys. */
    public HashIndex(SlotKeys keys, int expectedKeys) {
        this.keys = keys;
        this.table = new long[capacityFor(expectedKeys)];
    }

    private static int capacityFor(long liveKeys) {
        long cap = (long) Math.ceil(liveKeys / REBUILD_LOAD);
        return (int) Math.max(MIN_CAPACITY, Math.min(MAX_CAPACITY, cap));
    }

    private static int tag(long hash) {
        int t = (int) hash;
        return t == 0 ? 1 : t;
    }

    private static int home(int tag, int capacity) {
        return (int) (((tag & 0xFFFF_FFFFL) * capacity) >>> 32);
    }

    private static long entry(int tag, int slot) {
        return ((long) tag << 32) | (slot & 0xFFFF_FFFFL);
    }

    /**
     * The slot holding {@code key}, or -1. Lock-free; safe concurrently with the writer. The answer is a hint
     * that the caller validates against the slot (its status and key under the slot's version check).
     */
    public int find(long hash, byte[] key) {
        int tg = tag(hash);
        restart:
        for (; ; ) {
            long[] t = table;
            int cap = t.length;
            int i = home(tg, cap);
            for (int probes = 0; probes < cap; probes++) {
                // acquire: pairs with the writer's release of the entry, published after the slot's bytes
                long e = (long) ENTRY.getAcquire(t, i);
                if (e == EMPTY) {
                    return -1;
                }
                if (e != TOMBSTONE && (int) (e >>> 32) == tg) {
                    int slot = (int) e;
                    if (keys.keyEquals(slot, key)) {
                        return slot;
                    }
                    if ((long) ENTRY.getAcquire(t, i) != e || t != table) {
                        continue restart;
                    }
                }
                if (++i == cap) {
                    i = 0;
                }
            }
            return -1;
        }
    }

    /**
     * The slot of the first entry on {@code hash}'s probe path that carries its tag, or -1 if none is within a few
     * probes: a guess, no key compared, for a writer that wants the table's and that slot's cache lines loaded before
     * it needs them. Writer only.
     */
    public int guessSlot(long hash) {
        int tg = tag(hash);
        long[] t = table;
        int cap = t.length;
        int i = home(tg, cap);
        for (int probes = 0; probes < GUESS_PROBES; probes++) {
            long e = t[i];
            if (e == EMPTY) {
                return -1;
            }
            if (e != TOMBSTONE && (int) (e >>> 32) == tg) {
                return (int) e;
            }
            if (++i == cap) {
                i = 0;
            }
        }
        return -1;
    }

    /**
     * The entry at {@code hash}'s home position, whatever it holds: a load for a writer that wants the table's cache
     * line loaded before it probes. Writer only.
     */
    public long homeEntry(long hash) {
        long[] t = table;
        return t[home(tag(hash), t.length)];
    }

    /** The slot already indexed with the same key as {@code slot} (whose key hashes to {@code hash}), or -1. Writer only. */
    public int findSameKey(long hash, int slot) {
        int tg = tag(hash);
        long[] t = table;
        int cap = t.length;
        int i = home(tg, cap);
        for (int probes = 0; probes < cap; probes++) {
            long e = t[i];
            if (e == EMPTY) {
                return -1;
            }
            if (e != TOMBSTONE && (int) (e >>> 32) == tg && keys.keysEqual((int) e, slot)) {
                return (int) e;
            }
            if (++i == cap) {
                i = 0;
            }
        }
        return -1;
    }

    /**
     * True if the key hashing to {@code hash} is indexed at {@code slot}. Lock-free; safe concurrently with the
     * writer (a hint, like {@link #find}). Compares no key bytes: the entry's tag and slot identify it.
     */
    public boolean containsSlot(long hash, int slot) {
        int tg = tag(hash);
        long wanted = entry(tg, slot);
        long[] t = table;
        int cap = t.length;
        int i = home(tg, cap);
        for (int probes = 0; probes < cap; probes++) {
            long e = (long) ENTRY.getAcquire(t, i);
            if (e == wanted) {
                return true;
            }
            if (e == EMPTY) {
                return false;
            }
            if (++i == cap) {
                i = 0;
            }
        }
        return false;
    }

    /** One past the largest tag: the boundary {@link #scanTags} returns when no tag is left. */
    public static final long TAG_END = 1L << 32;

    /** Receives the slots of {@link #scanTags}. */
    @FunctionalInterface
    public interface SlotVisitor {
        /** One indexed slot. */
        void visit(int slot);
    }

    /**
     * Visits the slot of every entry whose tag (the low 32 bits of its key's {@link KeyHash}, unsigned) lies in
     * {@code [fromTag, boundary)}, and returns that boundary: the {@code fromTag} of the next call, or {@link
     * #TAG_END} when no larger tag is left. The range holds at least {@code atLeast} entries when that many are
     * left. Repeated calls from 0 therefore partition the tag space: an entry present through all of them is
     * visited at least once, whatever rebuilds, inserts and removals happen between the calls (positions follow
     * the tag, so a cursor made of a tag survives a rebuild; an update keeps its entry's position). Writer only
     * (the caller holds the shard's writer lock for the duration of one call).
     *
     * <p>Why a walk to an empty cell suffices: an entry lives between its home and the first empty cell after it,
     * so once the walk from {@code home(fromTag)} reaches an empty cell at position {@code p}, it has seen every
     * entry whose home is at most {@code p}, i.e. every tag below the smallest tag whose home is {@code p + 1}.
     */
    public long scanTags(long fromTag, int atLeast, SlotVisitor visitor) {
        if (fromTag < 0 || fromTag >= TAG_END) {
            throw new IllegalArgumentException("fromTag must be in [0, 2^32), got " + fromTag);
        }
        long[] t = table;
        int cap = t.length;
        int start = home((int) fromTag, cap);
        int seen = 0;
        int i = start;
        int steps = 0;
        boolean wrapped = false;
        boolean empty = false;
        for (; steps < cap; steps++) {
            long e = t[i];
            if (e == EMPTY) {
                if (seen >= atLeast) {
                    empty = true;
                    break;
                }
            } else if (e != TOMBSTONE && unsignedTag(e) >= fromTag) {
                seen++;
            }
            if (++i == cap) {
                i = 0;
                wrapped = true;
            }
        }
        long boundary = !empty || wrapped ? TAG_END : Math.min(TAG_END, ceilDiv((i + 1L) << 32, cap));
        int j = start;
        for (int k = 0; k < steps; k++) {
            long e = t[j];
            if (e != EMPTY && e != TOMBSTONE) {
                long tg = unsignedTag(e);
                if (tg >= fromTag && tg < boundary) {
                    visitor.visit((int) e);
                }
            }
            if (++j == cap) {
                j = 0;
            }
        }
        return boundary;
    }

    private static long unsignedTag(long entry) {
        return entry >>> 32;
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    /**
     * The index entry of a key hashing to {@code hash} stored at {@code slot}: what {@link #fillEmpty} takes and
     * {@link #sortByHome} orders, and what {@link #tagOf}/{@link #slotOf} take apart. Stateless.
     */
    public static long entryOf(long hash, int slot) {
        return entry(tag(hash), slot);
    }

    /** The slot of an {@link #entryOf entry}. */
    public static int slotOf(long entry) {
        return (int) entry;
    }

    /**
     * The tag of an {@link #entryOf entry}, as a value this index accepts wherever it takes a key's hash (only the
     * tag of a hash is ever used).
     */
    public static long tagOf(long entry) {
        return (int) (entry >>> 32);
    }

    /** Picks which of two slots holding the same key the index points at. */
    @FunctionalInterface
    public interface SameKeyChoice {
        /** {@code slotA} or {@code slotB}: the one to keep. */
        int keep(int slotA, int slotB);
    }

    /**
     * Fills this empty index in one pass from {@code n} {@link #entryOf entries} (a bulk load's keys), keeping for
     * each key only the slot {@code choice} picks among the entries holding it, and returns how many entries were
     * kept: {@code entries[0, kept)} afterwards, in table order. Bit 31 of an entry (slot ids stay below 2^30) is the
     * caller's mark: ignored here and kept in the returned entries.
     *
     * <p>How: the entries are sorted by tag (two 16-bit counting passes), so that entries of one key, which share a
     * tag, are neighbours, and the home positions ascend; linear probing then places each entry at its home or just
     * after the previous one, with no probe: a cluster that reaches an entry's home started at a home no later than
     * it, so every cell from the home to the entry is filled, which is what a lookup's probe needs. Allocates the
     * table and one array of {@code n} longs. Writer only; readers see the filled table at once, through the table
     * field's volatile write.
     *
     * @throws IllegalStateException if the index is not empty
     */
    public int fillEmpty(long[] entries, int n, SameKeyChoice choice) {
        if (live != 0) {
            throw new IllegalStateException("fillEmpty needs an empty index, this one holds " + live + " keys");
        }
        sortByTag(entries, n);
        int kept = keepOnePerKey(entries, n, choice);
        long[] t = new long[capacityFor(kept)];
        int cap = t.length;
        int last = -1;
        boolean wrapped = false;
        for (int k = 0; k < kept; k++) {
            long e = entries[k] & ~(1L << 31);
            int at = wrapped || last >= home((int) (e >>> 32), cap) ? last + 1 : home((int) (e >>> 32), cap);
            if (at == cap) {
                at = 0;
                wrapped = true;
            }
            // past the end the cluster continues at the front, among entries placed there at their homes
            while (wrapped && t[at] != EMPTY) {
                at++;
            }
            t[at] = e;
            last = at;
        }
        indexed.fillAll(entries, kept);
        live = kept;
        used = kept;
        // volatile write publishes the filled array to readers
        table = t;
        return kept;
    }

    /**
     * Compacts tag-sorted {@code entries} so that each key keeps one entry (the one {@code choice} picks); returns
     * how many remain. Entries of one key share a tag, so only a run of one tag needs its keys compared; such runs
     * are rare (equal 32-bit tags, or copies of one key) and resolved apart, keeping this loop small for the
     * compiler.
     */
    private int keepOnePerKey(long[] entries, int n, SameKeyChoice choice) {
        int kept = 0;
        int i = 0;
        while (i < n) {
            int tg = (int) (entries[i] >>> 32);
            int end = i + 1;
            while (end < n && (int) (entries[end] >>> 32) == tg) {
                end++;
            }
            if (end - i == 1) {
                entries[kept++] = entries[i];
            } else {
                kept = keepOnePerKeyOfRun(entries, i, end, kept, choice);
            }
            i = end;
        }
        return kept;
    }

    /**
     * Moves one entry per distinct key of the run {@code entries[from, to)} (one tag) to {@code entries[kept...]},
     * each compared with the keys kept so far in the run; returns the new count kept ({@code kept <= from}).
     */
    private int keepOnePerKeyOfRun(long[] entries, int from, int to, int kept, SameKeyChoice choice) {
        int runStart = kept;
        for (int i = from; i < to; i++) {
            long e = entries[i];
            int slot = (int) e & Integer.MAX_VALUE;
            int same = -1;
            for (int k = runStart; k < kept && same < 0; k++) {
                if (keys.keysEqual((int) entries[k] & Integer.MAX_VALUE, slot)) {
                    same = k;
                }
            }
            if (same < 0) {
                entries[kept++] = e;
            } else if (choice.keep((int) entries[same] & Integer.MAX_VALUE, slot) == slot) {
                entries[same] = e;
            }
        }
        return kept;
    }

    /** Sorts {@code n} entries by their tag, unsigned (so by home position for any capacity), stably. */
    private static void sortByTag(long[] entries, int n) {
        long[] other = new long[n];
        countingPass(entries, other, n, 32);
        countingPass(other, entries, n, 48);
    }

    private static void countingPass(long[] from, long[] to, int n, int shift) {
        int[] counts = new int[(1 << 16) + 1];
        for (int i = 0; i < n; i++) {
            counts[(int) (from[i] >>> shift & 0xFFFF) + 1]++;
        }
        for (int b = 0; b < 1 << 16; b++) {
            counts[b + 1] += counts[b];
        }
        for (int i = 0; i < n; i++) {
            to[counts[(int) (from[i] >>> shift & 0xFFFF)]++] = from[i];
        }
    }

    /**
     * Orders {@code n} {@link #entryOf entries} by the table position they hash to (for any capacity: the home
     * position grows with the unsigned tag), so that inserting them in this order walks the table front to back
     * and stays in cache. A counting sort on the top 16 bits of the tag; allocates one array of {@code n} longs.
     */
    public static void sortByHome(long[] entries, int n) {
        if (n < SMALL_SORT) {
            // a few entries (a small or new shard): the counting sort's 65,537 counters would cost more than sorting
            // them whole, as unsigned numbers, which orders them by their top 16 bits too
            for (int i = 0; i < n; i++) {
                entries[i] ^= Long.MIN_VALUE;
            }
            java.util.Arrays.sort(entries, 0, n);
            for (int i = 0; i < n; i++) {
                entries[i] ^= Long.MIN_VALUE;
            }
            return;
        }
        int[] counts = new int[(1 << 16) + 1];
        for (int i = 0; i < n; i++) {
            counts[(int) (entries[i] >>> 48) + 1]++;
        }
        for (int b = 0; b < 1 << 16; b++) {
            counts[b + 1] += counts[b];
        }
        long[] sorted = new long[n];
        for (int i = 0; i < n; i++) {
            sorted[counts[(int) (entries[i] >>> 48)]++] = entries[i];
        }
        System.arraycopy(sorted, 0, entries, 0, n);
    }

    /** Grows the table ahead of time to hold {@code expectedLive} keys without rebuilding. Writer only. */
    public void reserve(int expectedLive) {
        if (expectedLive > table.length * MAX_LOAD) {
            rebuild(Math.max(expectedLive, live));
        }
    }

    /** Adds a key known to be absent. Writer only. */
    public void insert(long hash, int slot) {
        if (used + 1 > table.length * MAX_LOAD) {
            rebuild(live + 1);
        }
        int tg = tag(hash);
        long[] t = table;
        int cap = t.length;
        int i = home(tg, cap);
        for (; ; ) {
            long e = t[i];
            if (e == EMPTY || e == TOMBSTONE) {
                if (e == EMPTY) {
                    used++;
                }
                live++;
                // release: the slot's bytes are visible before a reader can find it
                ENTRY.setRelease(t, i, entry(tg, slot));
                indexed.set(slot);
                return;
            }
            if (++i == cap) {
                i = 0;
            }
        }
    }

    /** Points the key now at {@code oldSlot} to {@code newSlot}. Writer only. */
    public void replace(long hash, int oldSlot, int newSlot) {
        int tg = tag(hash);
        long[] t = table;
        int i = position(t, tg, oldSlot);
        // release: the new slot's bytes are visible before readers are sent there
        ENTRY.setRelease(t, i, entry(tg, newSlot));
        indexed.set(newSlot);
        if (oldSlot != newSlot) {
            indexed.clear(oldSlot);
        }
    }

    /** Removes the key held at {@code slot}. Writer only. */
    public void remove(long hash, int slot) {
        int tg = tag(hash);
        long[] t = table;
        int i = position(t, tg, slot);
        ENTRY.setRelease(t, i, TOMBSTONE);
        indexed.clear(slot);
        live--;
        if (t.length > 1024 && live < t.length / 4) {
            rebuild(live);
        }
    }

    private static int position(long[] t, int tg, int slot) {
        long wanted = entry(tg, slot);
        int cap = t.length;
        int i = home(tg, cap);
        for (int probes = 0; probes < cap; probes++) {
            long e = t[i];
            if (e == wanted) {
                return i;
            }
            if (e == EMPTY) {
                break;
            }
            if (++i == cap) {
                i = 0;
            }
        }
        throw new IllegalStateException("index has no entry for slot " + slot + " (tag " + tg + ")");
    }

    private void rebuild(int expectedLive) {
        long[] old = table;
        long[] t = new long[capacityFor(expectedLive)];
        int cap = t.length;
        for (long e : old) {
            if (e != EMPTY && e != TOMBSTONE) {
                int i = home((int) (e >>> 32), cap);
                while (t[i] != EMPTY) {
                    if (++i == cap) {
                        i = 0;
                    }
                }
                t[i] = e;
            }
        }
        used = live;
        // volatile write publishes the filled array to readers
        table = t;
    }

    /** Removes every entry. Writer only. */
    public void clear() {
        live = 0;
        used = 0;
        table = new long[MIN_CAPACITY];
        indexed.clearAll();
    }

    /**
     * True if some key is indexed at {@code slot} (its current slot), without probing the table: a check for a
     * reader that holds a hint of a key's slot. Lock-free, allocation-free. A slot superseded by a copy-on-write
     * update (still {@code LIVE} until its release is durable) reads false once the update has returned. Seeing true
     * before reading the slot under its version check is not enough: the slot may be freed and reused for a newer
     * write of the same key meanwhile, whose image is whole before the index points at it. Seeing true again after
     * the read proves the value read was that key's value at some moment between the two checks.
     */
    @Override
    public boolean holdsSlot(int slot) {
        return indexed.contains(slot);
    }

    /** Number of keys indexed. Writer's view; readers may see a slightly stale value. */
    public int size() {
        return live;
    }

    /** Bytes of memory the index uses. */
    public long memoryBytes() {
        return 8L * table.length + 16;
    }

    /** Calls {@code action} with every indexed slot, in table order. Writer only (or with the writer stopped). */
    public void forEachSlot(IntConsumer action) {
        for (long e : table) {
            if (e != EMPTY && e != TOMBSTONE) {
                action.accept((int) e);
            }
        }
    }
}
