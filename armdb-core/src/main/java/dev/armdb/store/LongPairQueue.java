package dev.armdb.store;

import java.util.Arrays;

/**
 * A growable FIFO of {@code (long, long)} pairs in one array; allocation only when it grows. Not thread-safe:
 * owned by a shard and used under its write lock.
 */
final class LongPairQueue {
    private long[] items = new long[32];
    private int head;
    private int size;

    boolean isEmpty() {
        return size == 0;
    }

    int size() {
        return size;
    }

    void add(long a, long b) {
        if (size * 2 == items.length) {
            long[] bigger = new long[items.length * 2];
            for (int i = 0; i < size; i++) {
                int from = ((head + i) * 2) & (items.length - 1);
                bigger[i * 2] = items[from];
                bigger[i * 2 + 1] = items[from + 1];
            }
            items = bigger;
            head = 0;
        }
        int at = ((head + size) * 2) & (items.length - 1);
        items[at] = a;
        items[at + 1] = b;
        size++;
    }

    long peekFirst() {
        return items[(head * 2) & (items.length - 1)];
    }

    long peekSecond() {
        return items[((head * 2) & (items.length - 1)) + 1];
    }

    void remove() {
        head = (head + 1) & ((items.length >> 1) - 1);
        size--;
    }

    void clear() {
        head = 0;
        size = 0;
        Arrays.fill(items, 0L);
    }
}
