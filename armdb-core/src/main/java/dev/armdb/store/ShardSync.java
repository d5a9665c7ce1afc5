package dev.armdb.store;

import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * When a shard's writes are durable: runs its forces (of the redo log in {@link dev.armdb.Durability#GROUP GROUP}
 * and {@link dev.armdb.Durability#SYNC SYNC}, of the slot file in {@link dev.armdb.Durability#NONE NONE}), keeps the
 * durable LSN, the force counters behind {@link #forceMark()}, and the checkpoints that let the redo log start over
 * (see {@link ShardLog}). It owns no slot: what a force covers is whatever the two write protocols stored and marked
 * dirty before it began.
 *
 * <p>Threading: any thread. Forces are serialised by the sync lock, concurrent callers of {@link #forceTo} share one
 * force; {@link #durableLsn()} and the force counters are volatile, so waiting writers, the group commit, the
 * checkpoint thread and a follower's applier read them without it. The shard's writer may force while it holds the
 * writer lock (settling retirements); nothing here ever takes the writer lock.
 */
final class ShardSync {
    private final ShardFile file;
    /** The redo log; null in {@link dev.armdb.Durability#NONE}. */
    private final ShardLog log;

    private final LongSupplier lastLsn;
    private final ReentrantLock syncLock = new ReentrantLock();

    private volatile long durableLsn;
    /** Forces begun so far; written under {@link #syncLock} before the force reads the dirty chunks. */
    private volatile long forcesBegun;
    /** Forces completed so far; written under {@link #syncLock} after the force succeeded. */
    private volatile long forcesDone;

    /**
     * Forces of {@code file}, through {@code log} when there is one (null: none), recording {@code lastLsn} (the
     * shard's last LSN, read when a force begins) as durable when a force completes.
     */
    ShardSync(ShardFile file, ShardLog log, LongSupplier lastLsn) {
        this.file = file;
        this.log = log;
        this.lastLsn = lastLsn;
    }

    /** The last LSN a completed force covered. */
    long durableLsn() {
        return durableLsn;
    }

    /** Sets the durable LSN (an open, promotion or wipe that made everything up to {@code lsn} durable). */
    void durableLsn(long lsn) {
        durableLsn = lsn;
    }

    /**
     * Forces unless a completed force already covered {@code lsn}; concurrent callers share one force. For a user's
     * writes only, whose LSNs grow in write order.
     *
     * @return true if this call forced
     * @throws dev.armdb.ArmDbStorageFailedException if the force fails or the collection is fail-stopped
     */
    boolean forceTo(long lsn) {
        if (durableLsn >= lsn) {
            return false;
        }
        syncLock.lock();
        try {
            if (durableLsn >= lsn) {
                return false;
            }
            forceNow();
            return true;
        } finally {
            syncLock.unlock();
        }
    }

    /**
     * Forces every chunk written since its last force (the log, if there is one) and records the last LSN as durable.
     *
     * @throws dev.armdb.ArmDbStorageFailedException if the force fails or the collection is fail-stopped
     */
    void forceNow() {
        forceNow(false);
    }

    /**
     * As {@link #forceNow()}; with {@code slotFileToo} the slot file's written chunks are forced as well, also when
     * a redo log makes that unnecessary for what was logged (a bulk load's stores are not logged).
     */
    void forceNow(boolean slotFileToo) {
        syncLock.lock();
        try {
            long target = lastLsn.getAsLong();
            long n = forcesBegun + 1;
            // volatile write before the force reads the dirty bits: pairs with the fence in forceMark()
            forcesBegun = n;
            if (log == null || slotFileToo) {
                file.force();
            }
            if (log != null) {
                log.force();
            }
            durableLsn = Math.max(durableLsn, target);
            forcesDone = n;
        } finally {
            syncLock.unlock();
        }
    }

    /**
     * True if a force has anything to do: an LSN beyond the durable one, retirements waiting for a force ({@code
     * pendingRetirements}), or stores not forced yet whatever their LSNs (a replica's out-of-order images).
     */
    boolean needsForce(int pendingRetirements) {
        return lastLsn.getAsLong() > durableLsn
                || pendingRetirements > 0
                || (log != null ? log.hasUnforced() : file.isDirty());
    }

    /** A mark for {@link #forcedSince}: see {@link Shard#forceMark()}. Allocation-free. */
    long forceMark() {
        // full fence: the caller's stores and dirty bits are ordered before this read, so a force that this read
        // does not see as begun reads those dirty bits (pairs with the volatile write of forcesBegun in forceNow)
        VarHandle.fullFence();
        return forcesBegun;
    }

    /** True if a force begun after {@code mark} (from {@link #forceMark}) has completed. */
    boolean forcedSince(long mark) {
        return forcesDone > mark;
    }

    /** True if the redo log has grown past its checkpoint size or holds records older than {@code maxAgeNanos}. */
    boolean checkpointDue(long nowNanos, long maxAgeNanos) {
        return log != null && log.checkpointDue(nowNanos, maxAgeNanos, file.fileBytes());
    }

    /** See {@link Shard#loggedBytes()}. */
    long loggedBytes() {
        return log == null ? 0 : log.activeBytes();
    }

    /** See {@link Shard#checkpoint()}. */
    void checkpoint() {
        if (log != null) {
            log.checkpoint(file);
        }
    }

    /** The first half of {@link #checkpoint()}. */
    boolean beginCheckpoint() {
        return log != null && log.beginCheckpoint();
    }

    /** The second half of {@link #checkpoint()}. */
    void endCheckpoint() {
        if (log != null) {
            log.endCheckpoint(file);
        }
    }

    /**
     * Forces the slot file and empties the redo log, with checkpoints shut out meanwhile, so the slot file alone
     * holds everything; false (and nothing done) without a log.
     *
     * @throws dev.armdb.ArmDbStorageFailedException if the force fails or the collection is fail-stopped
     */
    boolean forceSlotsAndEmptyLog() {
        if (log == null) {
            return false;
        }
        log.exclusive(() -> {
            file.force();
            log.reset();
        });
        return true;
    }
}
