package dev.armdb.store;

import java.util.Arrays;

/** A growable LIFO of ints (free slot ids). Not thread-safe: used under the owning shard's write lock. */
final class IntStack {
    private int[] items = new int[64];
    private int size;

    void push(int v) {
        if (size == items.length) {
            items = Arrays.copyOf(items, items.length * 2);
        }
        items[size++] = v;
    }

    int pop() {
        return items[--size];
    }

    void clear() {
        size = 0;
    }

    boolean isEmpty() {
        return size == 0;
    }

    int size() {
        return size;
    }
}
