package dev.armdb.replication.follower;

import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Group commit for one small file that many threads store into and must make durable: a caller that stored and
 * then calls {@link #forceCovering()} returns once a force that began after its store has completed, whoever ran
 * it. Callers that arrive while a force runs wait for the lock and then find themselves covered by the next one,
 * so concurrent callers share one force instead of each running their own.
 *
 * <p>Design note: every shard session of a follower records its applied LSN in the same page of {@code
 * replica.state} and forced it alone, about once per group interval per shard; on a virtual machine each of those
 * forces costs a block-device submission, and they were a fifth of a follower's CPU under load.
 *
 * <p>Threading: any thread.
 */
final class GroupForce {
    /** The force itself; it throws unchecked exceptions only. */
    interface Force {
        /** Makes every store made before the call durable. */
        void force();
    }

    private final Force force;
    private final ReentrantLock lock = new ReentrantLock();
    /** Number of the newest force begun. Written under the lock. */
    private volatile long begun;
    /** Number of the newest force completed. Written under the lock. */
    private volatile long done;

    GroupForce(Force force) {
        this.force = force;
    }

    /**
     * Returns once a force begun after every store the calling thread made before the call has completed (runs one
     * itself if none did).
     */
    void forceCovering() {
        // full fence: the caller's stores are ordered before this read, so a force numbered above the value read
        // began after them (pairs with the volatile write of begun below, made before the force runs)
        VarHandle.fullFence();
        long mark = begun;
        lock.lock();
        try {
            if (done > mark) {
                return;
            }
            long n = begun + 1;
            begun = n;
            force.force();
            done = n;
        } finally {
            lock.unlock();
        }
    }

    /** Number of forces run so far. Any thread. */
    long forces() {
        return done;
    }
}
