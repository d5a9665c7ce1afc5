package dev.armdb.store;

import static dev.armdb.store.SlotLayout.*;

import dev.armdb.index.HashIndex;

/**
 * The user write protocol of one shard: copy-on-write puts and deletes. An update never touches the key's current
 * slot: it writes the new value (or, for a delete, a tombstone) into a free slot, points the index there (or unlinks
 * the key), publishes the new LSN, and only then <em>retires</em> the old slot to the {@link SlotAllocator}, which
 * decides when it may be marked FREE and reused so that a power loss never leaves an older value of a key alive while
 * its newer value or tombstone is gone. The {@link Shard} takes the writer lock, checks the shard may be written, finds
 * the key's slot and forces afterwards in SYNC; this class does the rest.
 *
 * <p>Owns: its own {@link SlotWriter} (scratch buffer and checksum, apart from the replica protocol's, so neither can
 * see the other's half-built image) and the {@link SlotAllocator}, for which it writes the FREE marks. Changes
 * through the shard: the last LSN and the change feed ({@link Shard#publish}), the high-water mark ({@link
 * Shard#claimFreshSlot}), the key listener's view and the count of DELETED slots.
 *
 * <p>Threading: everything runs on a thread holding the shard's writer lock, except {@link #pending()} and {@link
 * #freeCount()}, which any thread may read racily as a hint. Allocation-free unless the free stack or a release
 * queue grows.
 */
final class UserWriter implements SlotAllocator.Releaser {
    /**
     * Steps of settled retirements each allocation drains first (each retirement takes two: its FREE mark, then its
     * reuse), so writers keep up with their own retirements.
     *
     * <p>Design note: the group commit used to drain every retirement its force had settled in one go under the
     * writer lock: at 50k writes/s, hundreds of FREE marks (a random slot write, a log record and an LSN each) every
     * interval held the lock for 0.4 ms typically and up to 5 ms, and the RESP event loop waiting on it held back
     * every client's next write: one of the stalls behind the replication lag's tail (the other was the redo log's
     * force, see {@link ShardLog#force}). Spread over the writes, each pays for about one mark.
     */
    static final int DRAIN_PER_WRITE = 4;

    private final Shard shard;
    private final SlotWriter writer;
    private final SlotReader reader;
    private final ShardSync sync;
    private final SlotAllocator slots;
    private final byte[] zeroValue;

    /**
     * The user protocol of {@code shard}, writing through {@code writer} (its own) and settling retirements against
     * {@code sync}'s durable LSN; {@code releaseAtOnce} (durability NONE) releases retired slots without waiting.
     */
    UserWriter(
            Shard shard, SlotWriter writer, SlotReader reader, ShardSync sync, int valueSize, boolean releaseAtOnce) {
        this.shard = shard;
        this.writer = writer;
        this.reader = reader;
        this.sync = sync;
        this.slots = new SlotAllocator(this, releaseAtOnce);
        this.zeroValue = new byte[valueSize];
    }

    /**
     * Writes {@code value} for {@code key} into a free slot, points {@code index} at it (replacing {@code oldSlot}, or
     * inserting the key if {@code oldSlot} is negative) and retires {@code oldSlot}; returns the write's LSN.
     */
    long writeValue(HashIndex index, byte[] key, long hash, byte[] value, int oldSlot) {
        int slot = allocate();
        long lsn = shard.lastLsn() + 1;
        writer.write(slot, LIVE, lsn, key, value);
        KeyListener listener = shard.listener();
        if (oldSlot < 0) {
            index.insert(hash, slot);
            if (listener != null) {
                listener.inserted(key, slot, value);
            }
        } else {
            index.replace(hash, oldSlot, slot);
            if (listener != null) {
                listener.updated(key, slot, value);
            }
        }
        shard.publish(lsn, slot);
        if (oldSlot >= 0) {
            slots.retire(oldSlot, lsn);
        }
        return lsn;
    }

    /**
     * Deletes {@code key}, which {@code index} points at {@code slot}; returns the tombstone's LSN. The tombstone is
     * written copy-on-write into a free slot, like a new value, and {@code slot} is retired as an update retires it:
     * it may be the only copy that supersedes an older one whose release is not durable yet, so a crash while the
     * tombstone is written must leave it whole.
     */
    long delete(HashIndex index, byte[] key, long hash, int slot) {
        int tomb = tombstoneSlot(slot);
        // unlink first: a reader that already holds the slot still reads the old value, a consistent past
        index.remove(hash, slot);
        long lsn = shard.lastLsn() + 1;
        if (tomb == slot) {
            writer.rewriteStatus(slot, DELETED, lsn);
        } else {
            writer.write(tomb, DELETED, lsn, key, zeroValue);
        }
        shard.addDeletedSlots(1);
        KeyListener listener = shard.listener();
        if (listener != null) {
            listener.removed(key);
        }
        shard.publish(lsn, tomb);
        if (tomb != slot) {
            slots.retire(slot, lsn);
        }
        // queued after the old slot's release: reusable only once that release is durable
        slots.retireTombstone(tomb, lsn);
        return lsn;
    }

    /**
     * The slot for the tombstone of the key held in {@code slot}: a free slot, or, if the shard is full, {@code slot}
     * itself once every pending retirement is settled (then no older copy of any key waits for its release, so
     * {@code slot} is its key's only copy and a torn tombstone can only make the key absent).
     */
    private int tombstoneSlot(int slot) {
        if (slots.isEmpty() && shard.atSlotLimit()) {
            for (int round = 0; round < 3 && slots.pending() > 0; round++) {
                sync.forceNow();
                drainPending();
            }
            if (slots.isEmpty() && slots.pending() == 0) {
                return slot;
            }
        }
        return allocate();
    }

    private int allocate() {
        if (slots.pending() > 0) {
            slots.drain(sync.durableLsn(), DRAIN_PER_WRITE);
        }
        int slot = slots.pop();
        if (slot < 0) {
            return shard.claimFreshSlot();
        }
        if (reader.statusAt(slot) == DELETED) {
            shard.addDeletedSlots(-1);
        }
        return slot;
    }

    /** Drains retirements a force has made safe: releases become FREE, released slots become reusable. */
    void drainPending() {
        slots.drain(sync.durableLsn());
    }

    /**
     * As {@link #drainPending}, for at most {@code budget} steps (see {@link SlotAllocator#drain(long, int)}).
     *
     * @return true if retirements a force has made safe are left
     */
    boolean drainSome(int budget) {
        return slots.drain(sync.durableLsn(), budget);
    }

    /**
     * Marks the superseded copies recovery found ({@code losers}) FREE with the LSNs after {@code lastLsn}, and
     * returns the last LSN so taken. The caller publishes it and forces before {@link #seed} makes them reusable.
     */
    long releaseLosers(int[] losers, long lastLsn) {
        long lsn = lastLsn;
        for (int loser : losers) {
            lsn++;
            writer.rewriteStatus(loser, FREE, lsn);
        }
        return lsn;
    }

    /** Makes the slots recovery found free reusable, the superseded copies it released first. */
    void seed(int[] reusable, int[] losers) {
        slots.seed(reusable, losers);
    }

    /** Forgets every free and retired slot (a wipe or a promotion rebuilds from the file). */
    void clear() {
        slots.clear();
    }

    /** Retired slots not reusable yet. A hint for any thread. */
    int pending() {
        return slots.pending();
    }

    /** Slots reusable now. A hint for any thread. */
    int freeCount() {
        return slots.freeCount();
    }

    @Override
    public long markFree(int slot) {
        long lsn = shard.lastLsn() + 1;
        writer.rewriteStatus(slot, FREE, lsn);
        shard.publish(lsn, slot);
        return lsn;
    }

    @Override
    public long lastLsn() {
        return shard.lastLsn();
    }
}
