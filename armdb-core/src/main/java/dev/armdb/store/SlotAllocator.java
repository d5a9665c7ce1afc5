package dev.armdb.store;

/**
 * The reusable slots of one shard and the durability order in which retired slots become reusable; knows nothing of
 * files (the shard writes the FREE marks through {@link Releaser}), so its ordering is testable on its own.
 *
 * <p>A slot superseded by a newer one is <em>retired</em> with the LSN that superseded it. Once a force has made
 * that LSN durable, {@link #drain} has the shard mark the slot FREE (a new LSN) and queues it again; once a force
 * has made that mark durable too, the slot is reusable. A tombstone is retired behind the release of the slot it
 * superseded and becomes reusable only once every release queued before it is durable, so a reused tombstone can
 * never uncover an older live copy of its key. Without durability ({@link dev.armdb.Durability#NONE NONE}: a force
 * promises nothing, so waiting for one buys nothing) a retired slot is marked FREE and reusable at once. Slots
 * recovery found free are {@linkplain #seed seeded} onto the free stack.
 *
 * <p>Threading: owned by the shard's writer (under its write lock); {@link #pending()} may be read racily by other
 * threads as a hint.
 */
final class SlotAllocator {
    private static final long TOMBSTONE_FLAG = 1L << 32;

    /**
     * Writes a FREE mark into a released slot; called on the writer's thread by {@link #drain}, and by {@link #retire}
     * when releases wait for no force.
     */
    interface Releaser {
        /** Marks {@code slot} FREE with the next LSN and returns that LSN. */
        long markFree(int slot);

        /** The shard's last LSN. */
        long lastLsn();
    }

    private final Releaser releaser;
    private final boolean releaseAtOnce;
    private final IntStack free = new IntStack();
    private final LongPairQueue releases = new LongPairQueue();
    private final LongPairQueue reusable = new LongPairQueue();
    private int pending;

    /**
     * An empty allocator whose FREE marks {@code releaser} writes; {@code releaseAtOnce} (durability NONE) releases
     * retired slots without waiting for a force.
     */
    SlotAllocator(Releaser releaser, boolean releaseAtOnce) {
        this.releaser = releaser;
        this.releaseAtOnce = releaseAtOnce;
    }

    /** A reusable slot, or -1 if none. */
    int pop() {
        return free.isEmpty() ? -1 : free.pop();
    }

    /** True if no slot is reusable now. */
    boolean isEmpty() {
        return free.isEmpty();
    }

    /**
     * Makes the slots recovery found free reusable (their FREE marks, if they needed any, are durable already): {@code
     * released} (superseded copies recovery just released) are reused first, then {@code reusable}, each in the
     * order given.
     */
    void seed(int[] reusable, int[] released) {
        for (int i = reusable.length - 1; i >= 0; i--) {
            free.push(reusable[i]);
        }
        for (int i = released.length - 1; i >= 0; i--) {
            free.push(released[i]);
        }
    }

    /**
     * Retires {@code slot}, superseded at LSN {@code supersededAt}: released once that LSN is durable, or marked FREE
     * and reusable now if releases wait for no force.
     */
    void retire(int slot, long supersededAt) {
        if (releaseAtOnce) {
            releaser.markFree(slot);
            free.push(slot);
        } else {
            releases.add(supersededAt, slot);
            pending++;
        }
    }

    /**
     * Retires the tombstone in {@code slot}, written at {@code lsn}, behind every release queued before it; reusable
     * now if releases wait for no force.
     */
    void retireTombstone(int slot, long lsn) {
        if (releaseAtOnce) {
            free.push(slot);
        } else {
            releases.add(lsn, TOMBSTONE_FLAG | slot);
            pending++;
        }
    }

    /**
     * Moves on every retirement that LSN {@code durable} makes safe: releases are marked FREE through the releaser,
     * released slots whose mark is durable become reusable.
     */
    void drain(long durable) {
        drain(durable, Integer.MAX_VALUE);
    }

    /**
     * As {@link #drain(long)}, for at most {@code budget} steps (a slot made reusable, or a release marked FREE),
     * oldest first in each queue, so the order of the whole drain is kept across calls.
     *
     * @return true if steps that {@code durable} allows are left
     */
    boolean drain(long durable, int budget) {
        int steps = 0;
        while (steps < budget && !reusable.isEmpty() && reusable.peekFirst() <= durable) {
            free.push((int) reusable.peekSecond());
            reusable.remove();
            pending--;
            steps++;
        }
        while (steps < budget && !releases.isEmpty() && releases.peekFirst() <= durable) {
            steps++;
            long v = releases.peekSecond();
            releases.remove();
            int slot = (int) v;
            if ((v & TOMBSTONE_FLAG) == 0) {
                reusable.add(releaser.markFree(slot), slot);
            } else {
                // a tombstone is reusable once every release queued before it is durable
                reusable.add(releaser.lastLsn(), slot);
            }
        }
        return ready(reusable, durable) || ready(releases, durable);
    }

    private static boolean ready(LongPairQueue q, long durable) {
        return !q.isEmpty() && q.peekFirst() <= durable;
    }

    /** Retired slots not reusable yet. */
    int pending() {
        return pending;
    }

    /** Slots reusable now. */
    int freeCount() {
        return free.size();
    }

    /** Forgets every slot (a wipe or a promotion rebuilds from the file). */
    void clear() {
        free.clear();
        releases.clear();
        reusable.clear();
        pending = 0;
    }
}
