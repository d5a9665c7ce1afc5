package dev.armdb.replication.follower;

import dev.armdb.replication.protocol.CaughtUp;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A first copy's index build ({@link ReplicaShard#finishBulkLoad}) on a thread of its own, so that the worker that
 * drives the shard's session goes on driving the other shards' sessions meanwhile: with one worker for every shard,
 * the builds of shards whose copies end together run side by side instead of one after another, and no shard's
 * heartbeats and acks wait for another shard's build.
 *
 * <p>While it runs, the session does nothing else with its shard (it stops reading its socket); the build thread's
 * writes are visible to the session once {@link #done} returns true (a volatile read after the thread's last write),
 * and {@link #await} joins it.
 *
 * <p>Threading: {@link #start}, {@link #done}, {@link #failure}, {@link #armWakeup}, {@link #disarmWakeup} and
 * {@link #await} on the session's worker; the build on its own thread.
 */
final class IndexBuild {
    private final CaughtUp caughtUp;
    private final AtomicReference<Runnable> waker = new AtomicReference<>();
    private volatile boolean done;
    private volatile Throwable failure;
    private Thread thread;

    private IndexBuild(CaughtUp caughtUp) {
        this.caughtUp = caughtUp;
    }

    /** Starts {@code build} on a new thread for the copy that {@code caughtUp} ended. */
    static IndexBuild start(int shardId, Runnable build, CaughtUp caughtUp) {
        IndexBuild b = new IndexBuild(caughtUp);
        b.thread =
                Thread.ofPlatform().name("armdb-repl-index-" + shardId).daemon().start(() -> b.run(build));
        return b;
    }

    private void run(Runnable build) {
        try {
            build.run();
        } catch (Throwable t) {
            failure = t;
        } finally {
            done = true;
            Runnable w = waker.getAndSet(null);
            if (w != null) {
                w.run();
            }
        }
    }

    /** The CAUGHT_UP that ended the copy: the session takes it once the build is done. */
    CaughtUp caughtUp() {
        return caughtUp;
    }

    /** True once the build ended, done or failed. */
    boolean done() {
        return done;
    }

    /** What the build threw, once {@link #done}; null if it completed. */
    Throwable failure() {
        return failure;
    }

    /**
     * Has {@code w} run when the build ends, unless it has ended already.
     *
     * @return true if the build has ended (nothing stays armed)
     */
    boolean armWakeup(Runnable w) {
        waker.set(w);
        if (done) {
            waker.compareAndSet(w, null);
            return true;
        }
        return false;
    }

    /** Takes back a wake-up {@link #armWakeup} left armed. */
    void disarmWakeup(Runnable w) {
        waker.compareAndSet(w, null);
    }

    /** Waits for the build to end (the session may then change the shard again). */
    void await() {
        boolean interrupted = false;
        while (true) {
            try {
                thread.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
