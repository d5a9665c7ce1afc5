package dev.armdb.replication.follower;

import dev.armdb.ArmDbException;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Group commit for one small file that many threads store into and must make durable. Two ways to wait for it:
 *
 * <ul>
 *   <li>{@link #forceCovering()} returns once a force that began after the caller's stores has completed, whoever ran
 *       it; callers that arrive while a force runs find themselves covered by the next one, so concurrent callers
 *       share one force instead of each running their own;
 *   <li>{@link #request()} returns at once with a ticket, and a background thread runs the force; {@link
 *       #done(long)} tells when the ticket's force has completed. A thread that drives many sessions never blocks on
 *       the disk this way.
 * </ul>
 *
 * <p>Both number their forces from one counter, so a force run by either covers the tickets of both.
 *
 * <p>Design notes: every shard session of a follower records its applied LSN in the same page of {@code
 * replica.state} and forced it alone, about once per group interval per shard; on a virtual machine each of those
 * forces costs a block-device submission, and they were a fifth of a follower's CPU under load. Forced on the session
 * worker itself, a force that queued behind a checkpoint's write-back (hundreds of milliseconds) stalled every shard
 * that worker drives: followers answered reads 0.3 s behind their leader until the background force took its place.
 *
 * <p>Threading: any thread; the background thread starts at the first {@link #request()} and ends at {@link
 * #close()}.
 */
final class GroupForce implements AutoCloseable {
    /** The force itself; it throws unchecked exceptions only. */
    interface Force {
        /** Makes every store made before the call durable. */
        void force();
    }

    private static final long CLOSE_WAIT_MILLIS = TimeUnit.SECONDS.toMillis(10);

    private final Force force;
    private final String threadName;
    private final ReentrantLock lock = new ReentrantLock();
    /** Number of the newest force begun. Written under the lock. */
    private volatile long begun;
    /** Number of the newest force completed. Written under the lock. */
    private volatile long done;
    /** The highest ticket handed out by {@link #request()}. */
    private final AtomicLong requested = new AtomicLong();
    /** The background force's failure; tickets it did not reach fail with it. */
    private volatile RuntimeException failure;

    private volatile boolean closed;
    private Thread forcer;

    /** A group force of {@code force}; {@code threadName} names the background thread {@link #request()} starts. */
    GroupForce(Force force, String threadName) {
        this.force = force;
        this.threadName = threadName;
    }

    GroupForce(Force force) {
        this(force, "armdb-group-force");
    }

    /**
     * Returns once a force begun after every store the calling thread made before the call has completed (runs one
     * itself if none did).
     */
    void forceCovering() {
        // full fence: the caller's stores are ordered before this read, so a force numbered above the value read
        // began after them (pairs with the volatile write of begun in forceOnce, made before the force runs)
        VarHandle.fullFence();
        long mark = begun;
        lock.lock();
        try {
            if (done > mark) {
                return;
            }
            forceOnce();
        } finally {
            lock.unlock();
        }
    }

    /** Runs one force numbered after every force begun so far. Lock held. */
    private void forceOnce() {
        long n = begun + 1;
        begun = n;
        force.force();
        done = n;
    }

    /**
     * Asks the background thread for a force that covers every store the calling thread made before the call, and
     * returns its ticket for {@link #done(long)}. Never blocks on the disk.
     */
    long request() {
        // the same fence as forceCovering: the first force numbered above the value read began after the stores
        VarHandle.fullFence();
        long ticket = begun + 1;
        requested.accumulateAndGet(ticket, Math::max);
        LockSupport.unpark(forcer());
        return ticket;
    }

    /**
     * True once the force of {@code ticket} (or a later one) has completed.
     *
     * @throws ArmDbException if the background force failed before reaching the ticket, or the group force is closed
     */
    boolean done(long ticket) {
        if (done >= ticket) {
            return true;
        }
        RuntimeException f = failure;
        if (f != null) {
            throw new ArmDbException("the background force failed: " + f.getMessage(), f);
        }
        if (closed) {
            throw new ArmDbException("the group force is closed; ticket " + ticket + " was not forced");
        }
        return false;
    }

    /** The background thread, started at the first call; null once closed (the ticket then fails in done). */
    private synchronized Thread forcer() {
        if (forcer == null && !closed) {
            forcer = Thread.ofPlatform().daemon().name(threadName).start(this::forceLoop);
        }
        return forcer;
    }

    private void forceLoop() {
        while (!closed) {
            if (done >= requested.get()) {
                LockSupport.park(this);
                continue;
            }
            lock.lock();
            try {
                if (done < requested.get()) {
                    forceOnce();
                }
            } catch (RuntimeException e) {
                failure = e;
                return;
            } finally {
                lock.unlock();
            }
        }
    }

    /** Number of forces run so far. Any thread. */
    long forces() {
        return done;
    }

    /** Stops the background thread (waiting for a force it runs); tickets not forced by then fail. Any thread. */
    @Override
    public void close() {
        closed = true;
        Thread t;
        synchronized (this) {
            t = forcer;
        }
        if (t == null) {
            return;
        }
        LockSupport.unpark(t);
        try {
            t.join(CLOSE_WAIT_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
