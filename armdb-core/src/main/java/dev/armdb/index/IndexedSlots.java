package dev.armdb.index;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One bit per slot of a shard, set while the {@link HashIndex} points a key at that slot. It answers "is this slot
 * some key's current slot?" from a few kilobytes per million slots (cache-resident) instead of a probe of the hash
 * table, so a reader that already knows a key's likely slot (an ordered index's hint) can check it cheaply: a
 * copy-on-write update leaves the superseded slot {@code LIVE} with the old value until its release is durable, and
 * only this bit tells it apart from the current one.
 *
 * <p>The bits live in chunks of {@value #CHUNK_BITS} slots that are allocated on first use and never replaced (but
 * all at once by {@link #fillAll}, on an empty index); the directory of chunks grows by copy and is published through
 * a volatile field. So a reader never sees a bit from a stale copy: a chunk it finds is the chunk the writer writes.
 *
 * <p>Threading: one writer (the index's writer, under the shard's lock) calls {@link #set}, {@link #clear},
 * {@link #clearAll} and {@link #fillAll}; any number of readers call {@link #contains} without locks.
 */
final class IndexedSlots {
    private static final int CHUNK_SHIFT = 16;
    /** Slots per chunk. */
    static final int CHUNK_BITS = 1 << CHUNK_SHIFT;

    private static final int WORDS_PER_CHUNK = CHUNK_BITS / Long.SIZE;
    private static final VarHandle WORD = MethodHandles.arrayElementVarHandle(long[].class);

    private volatile long[][] chunks = new long[0][];

    /**
     * True if {@code slot}'s bit is set. Lock-free, allocation-free. An acquire load: a reader that sees the bit
     * set reads the slot after the writer's stores that preceded the set, and one that starts after a {@link #clear}
     * (in happens-before order) sees it clear.
     */
    boolean contains(int slot) {
        long[][] c = chunks;
        int chunk = slot >>> CHUNK_SHIFT;
        if (slot < 0 || chunk >= c.length || c[chunk] == null) {
            return false;
        }
        long word = (long) WORD.getAcquire(c[chunk], (slot & (CHUNK_BITS - 1)) >>> 6);
        return (word & (1L << slot)) != 0;
    }

    /** Sets {@code slot}'s bit. Writer only. */
    void set(int slot) {
        long[] chunk = chunkFor(slot);
        int w = (slot & (CHUNK_BITS - 1)) >>> 6;
        // release: the slot's image (written before it was indexed) is visible before the bit
        WORD.setRelease(chunk, w, chunk[w] | (1L << slot));
    }

    /**
     * Replaces every bit with the bits of the slots in the low 31 bits of the first {@code n} {@code entries}, for an
     * index filled at once ({@link HashIndex#fillEmpty}). The bits go into new chunks with plain stores, published by
     * one volatile write of the directory: a reader that loads the new directory sees every bit (and, through the
     * writes before it, every slot image indexed); one still holding the old directory answers from the old chunks,
     * which the empty index left clear. Writer only.
     *
     * <p>Design note: a first copy fills the index of a whole shard in one call, on a thread that runs it once, mostly
     * in the interpreter, where a release store per slot through a VarHandle took 9–27% of that build (profiles of a
     * full sync of a million records into a fresh process); plain stores take 7–13%.
     */
    void fillAll(long[] entries, int n) {
        long[][] c = new long[0][];
        for (int i = 0; i < n; i++) {
            int slot = (int) entries[i] & Integer.MAX_VALUE;
            int chunk = slot >>> CHUNK_SHIFT;
            if (chunk >= c.length) {
                c = java.util.Arrays.copyOf(c, Math.max(chunk + 1, c.length * 2));
            }
            long[] words = c[chunk];
            if (words == null) {
                words = new long[WORDS_PER_CHUNK];
                c[chunk] = words;
            }
            words[(slot & (CHUNK_BITS - 1)) >>> 6] |= 1L << slot;
        }
        chunks = c;
    }

    /** Clears {@code slot}'s bit. Writer only. */
    void clear(int slot) {
        long[][] c = chunks;
        int chunk = slot >>> CHUNK_SHIFT;
        if (chunk < c.length && c[chunk] != null) {
            long[] words = c[chunk];
            int w = (slot & (CHUNK_BITS - 1)) >>> 6;
            WORD.setRelease(words, w, words[w] & ~(1L << slot));
        }
    }

    /** Clears every bit. Writer only. */
    void clearAll() {
        for (long[] words : chunks) {
            if (words != null) {
                for (int w = 0; w < words.length; w++) {
                    WORD.setRelease(words, w, 0L);
                }
            }
        }
    }

    private long[] chunkFor(int slot) {
        int chunk = slot >>> CHUNK_SHIFT;
        long[][] c = chunks;
        if (chunk >= c.length) {
            c = java.util.Arrays.copyOf(c, Math.max(chunk + 1, c.length * 2));
            // volatile write publishes the longer directory; the chunks in it are the same objects
            chunks = c;
        }
        if (c[chunk] == null) {
            long[] words = new long[WORDS_PER_CHUNK];
            c[chunk] = words;
            // volatile write again: a reader that loads the directory sees the new chunk's zeroed words
            chunks = c;
        }
        return c[chunk];
    }
}
