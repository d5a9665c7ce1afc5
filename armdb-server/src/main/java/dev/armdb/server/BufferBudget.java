package dev.armdb.server;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes all RESP connections of a node may hold in grown input and reply buffers together: a buffer grows only
 * after reserving the growth here, and gives it back when it shrinks or its connection closes. Thread-safe.
 */
final class BufferBudget {
    private final long limit;
    private final AtomicLong used = new AtomicLong();

    BufferBudget(long limit) {
        this.limit = limit;
    }

    /** Reserves {@code bytes} if they fit under the limit; false (nothing reserved) if not. Any thread. */
    boolean tryReserve(long bytes) {
        long u;
        do {
            u = used.get();
            if (u + bytes > limit) {
                return false;
            }
        } while (!used.compareAndSet(u, u + bytes));
        return true;
    }

    /** Gives back {@code bytes} reserved earlier. Any thread. */
    void release(long bytes) {
        used.addAndGet(-bytes);
    }

    /** Bytes reserved now. */
    long used() {
        return used.get();
    }

    /** Most bytes that may be reserved at once. */
    long limit() {
        return limit;
    }
}
