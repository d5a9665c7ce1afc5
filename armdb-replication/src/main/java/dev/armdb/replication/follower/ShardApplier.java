package dev.armdb.replication.follower;

import dev.armdb.Durability;
import dev.armdb.replication.ReplicationMetrics;
import dev.armdb.replication.protocol.CaughtUp;
import dev.armdb.replication.protocol.ErrorCode;
import dev.armdb.replication.protocol.ProtocolException;
import dev.armdb.replication.protocol.ShardInfo;
import dev.armdb.replication.protocol.SlotBatchLayout;
import dev.armdb.store.SlotLayout;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a follower does with one shard's stream from its leader, as a state machine with no thread, socket or clock
 * inside: the driver hands it each frame after the handshake and the current time, and it applies images, decides
 * consistent points, records the applied LSN as durably as the collection's mode promises, and acknowledges through
 * an {@link AckSink}. {@link LeaderSession} drives it over a socket; the deterministic simulation drives it over a
 * simulated network and disk.
 *
 * <p>The rule it keeps (docs/protocol.md, "The invariant"): an LSN is recorded or acknowledged only at a consistent
 * point, where every image the shard holds is at most that old, so the shard equals one leader state.
 *
 * <p>Threading: one driver thread at a time; {@link #leaderLsn()}, {@link #behindSinceNanos()} and {@link #phase()}
 * may be read from any thread.
 */
final class ShardApplier {
    private static final Logger LOG = LoggerFactory.getLogger(ShardApplier.class);
    /** At most this many batches go unacknowledged while more are queued (a quarter of the default window). */
    static final int ACK_EVERY_BATCHES = 4;
    /** At most this long between acks while batches keep arriving. */
    static final long ACK_MAX_DELAY_NANOS = 1_000_000;

    /** Where the stream is. */
    enum Phase {
        /** Connected; SHARD_INFO not yet received. */
        AWAIT_SHARD_INFO,
        /** Applying a catch-up (scan or backlog) up to its CAUGHT_UP. */
        CATCHING_UP,
        /** Caught up once; applying the live stream. */
        STREAMING
    }

    /** Where acknowledgements go. */
    @FunctionalInterface
    interface AckSink {
        /** Sends an ACK of {@code appliedLsn} covering batches up to {@code batchSeq}. */
        void sendAck(long appliedLsn, long batchSeq) throws IOException;
    }

    private final int shardId;
    private final ReplicaShard shard;
    private final ReplicaPositions positions;
    private final ReplicationMetrics metrics;
    private final CRC32C crc = new CRC32C();
    private final DurablePoints durablePoints = new DurablePoints();
    private final java.util.function.LongPredicate forcedSince;

    private volatile Phase phase = Phase.AWAIT_SHARD_INFO;
    private volatile long leaderLsn;
    private volatile long behindSinceNanos;
    /** The newest consistent point reached (see {@link #advanceTo}); -1 before the first. */
    private volatile long consistentLsn = -1;

    private long applied;
    private ShardInfo info;
    private long knownLeaderLsn;
    private long lastBatchSeq;
    private long lastAckedBatchSeq;
    private long lastAckedLsn = -1;
    /** GROUP: the newest consistent point a completed force covers, not recorded yet; -1 if none. */
    private long durableReady = -1;
    /** The newest recorded LSN a completed force of the record covers: the most an ACK may carry. */
    private long forcedRecordLsn;
    /** GROUP: a recorded LSN whose background force has not completed yet (-1: none), and its ticket. */
    private long pendingRecordLsn = -1;

    private long pendingRecordTicket;

    private long lastAckNanos;
    private boolean ackDeferred;
    /** This connection copies the shard from scratch (its copy mark is set until the first consistent point). */
    private boolean copying;

    ShardApplier(int shardId, ReplicaShard shard, ReplicaPositions positions, ReplicationMetrics metrics) {
        this.shardId = shardId;
        this.shard = shard;
        this.positions = positions;
        this.metrics = metrics;
        this.forcedSince = shard::forcedSince;
        // the record as opened is forced (ReplicaState forces what a dead process left before anything reads it)
        this.forcedRecordLsn = positions.appliedLsn(shardId);
    }

    /**
     * Starts a new connection: forgets the last one's stream state and reads the recorded position. A shard whose
     * copy is incomplete (emptied at open) asks for everything: its recorded position describes contents it no
     * longer holds, and a leader asked to continue after it would send only what changed since.
     */
    void connected() {
        moveTo(Phase.AWAIT_SHARD_INFO, "connected");
        applied = shard.copyIncomplete() ? 0 : positions.appliedLsn(shardId);
        info = null;
        lastBatchSeq = 0;
        lastAckedBatchSeq = 0;
        lastAckedLsn = -1;
        durableReady = -1;
        durablePoints.clear();
        ackDeferred = false;
        copying = false;
    }

    /** The LSN to ask the leader to continue after (the recorded position). */
    long fromLsn() {
        return applied;
    }

    /** The newest LSN of any image held, recorded or not (a promoted leader uses it to judge lineage). */
    long heldLsn() {
        return Math.max(applied, shard.lastLsn());
    }

    /**
     * Prepares the shard for the catch-up {@code info} announces (authenticated and its shape checked by the caller):
     * a full copy wipes it and sets the durable copy mark before the first byte changes.
     */
    void onShardInfo(ShardInfo info, long nowNs) {
        this.info = info;
        leaderLsn = info.leaderLsn();
        knownLeaderLsn = info.leaderLsn();
        boolean otherDb = !Arrays.equals(info.databaseId(), positions.leaderDatabaseId(shardId));
        boolean full = info.mode() == ShardInfo.CatchUpMode.FULL
                || (applied == 0 && shard.slotCount() > 0)
                || shard.copyIncomplete();
        copying = full || (applied == 0 && info.mode() != ShardInfo.CatchUpMode.BACKLOG);
        if (copying) {
            // durable before the first byte changes: a crash from here to the first consistent point empties the
            // shard on reopen
            shard.beginCopy();
        }
        if (full) {
            LOG.info(
                    "shard {}: full resync (leader database {}, leader LSN {}, local LSN {})",
                    shardId,
                    java.util.HexFormat.of().formatHex(info.databaseId()),
                    info.leaderLsn(),
                    applied);
            shard.wipe();
            metrics.resyncsFull.increment();
        }
        if (full || otherDb) {
            positions.resetTo(shardId, info.databaseId());
            forcedRecordLsn = 0;
            pendingRecordLsn = -1;
            applied = 0;
            durableReady = -1;
            durablePoints.clear();
            // a consistent point reached before belongs to the contents and history just left behind
            consistentLsn = -1;
        }
        // what is applied from here on is the history of this leader epoch
        positions.leaderEpoch(shardId, info.epoch());
        if (applied == 0 && shard.slotCount() == 0 && info.mode() != ShardInfo.CatchUpMode.BACKLOG) {
            // a first copy: images go straight to their slots and the index is built once at CAUGHT_UP
            shard.beginBulkLoad(info.slotCount());
        }
        moveTo(Phase.CATCHING_UP, "SHARD_INFO announced " + info.mode());
        trackLag(nowNs);
    }

    /**
     * Checks and applies one SLOT_BATCH payload ({@code p}, from its position to its limit, over {@code bytes}: its
     * positions are indexes in that array), and acknowledges when enough batches or time went unacknowledged;
     * otherwise, if {@code moreQueued} is false, defers the ack (see {@link #ackDeferred()}).
     *
     * @throws ProtocolException if the batch is malformed, names a slot beyond the bound, or an image fails its CRC
     */
    void onBatch(ByteBuffer p, byte[] bytes, boolean moreQueued, long nowNs, AckSink out) throws IOException {
        int slotSize = shard.slotSize();
        int entry = SlotBatchLayout.entrySize(slotSize);
        int base = p.position();
        if (p.remaining() < SlotBatchLayout.HEADER_SIZE) {
            throw new ProtocolException(
                    ErrorCode.MALFORMED,
                    "SLOT_BATCH payload must be at least " + SlotBatchLayout.HEADER_SIZE + " bytes, got "
                            + p.remaining());
        }
        long seq = p.getLong(base + SlotBatchLayout.SEQ_OFFSET);
        long upTo = p.getLong(base + SlotBatchLayout.UP_TO_LSN_OFFSET);
        int count = p.getInt(base + SlotBatchLayout.COUNT_OFFSET);
        long expected = SlotBatchLayout.HEADER_SIZE + (long) count * entry;
        if (count < 0 || expected != p.remaining()) {
            throw new ProtocolException(
                    ErrorCode.MALFORMED,
                    "SLOT_BATCH count " + count + " needs " + expected + " payload bytes, got " + p.remaining());
        }
        checkEntries(p, bytes, base + SlotBatchLayout.HEADER_SIZE, count, slotIdBound(upTo));
        try {
            shard.applyImages(bytes, base + SlotBatchLayout.HEADER_SIZE, count, entry);
        } catch (IllegalArgumentException e) {
            throw new ProtocolException(ErrorCode.MALFORMED, "SLOT_BATCH rejected: " + e.getMessage());
        }
        metrics.slotsApplied.add(count);
        lastBatchSeq = seq;
        if (phase == Phase.STREAMING) {
            advanceTo(upTo);
            leaderLsn = Math.max(leaderLsn, upTo);
        }
        trackLag(nowNs);
        // coalesce acks (each one wakes a leader thread): at most ACK_EVERY_BATCHES batches or ACK_MAX_DELAY_NANOS
        // go unacknowledged, so the leader's window never stalls and a WAIT waits at most that much longer
        if (seq - lastAckedBatchSeq >= ACK_EVERY_BATCHES || nowNs - lastAckNanos >= ACK_MAX_DELAY_NANOS) {
            forceAndAck(nowNs, false, false, out);
        } else {
            if (shard.durability() == Durability.NONE && phase == Phase.STREAMING && atConsistentPoint()) {
                recordNow(applied, false);
            }
            if (!moreQueued) {
                // nothing more queued: the ack goes out when the next read finds nothing within the delay
                ackDeferred = true;
            }
        }
    }

    /**
     * Checks each of {@code count} entries from {@code at}: its slot id below {@code slotBound}, its image matching its
     * CRC. A method of its own, so that the compiler compiles this loop alone, early in a first copy.
     *
     * @throws ProtocolException naming the first entry that fails
     */
    private void checkEntries(ByteBuffer p, byte[] bytes, int at, int count, long slotBound) {
        int slotSize = shard.slotSize();
        int entry = SlotBatchLayout.entrySize(slotSize);
        for (int i = 0; i < count; i++, at += entry) {
            int slot = p.getInt(at);
            if (slot < 0 || slot >= slotBound) {
                throw new ProtocolException(
                        ErrorCode.MALFORMED,
                        "SLOT_BATCH entry " + i + ": slot id must be in 0.." + (slotBound - 1)
                                + " (SHARD_INFO's slot count plus one per leader LSN since), got " + slot);
            }
            if (!SlotLayout.imageCrcMatches(crc, bytes, at + SlotBatchLayout.ENTRY_HEADER_SIZE, slotSize)) {
                throw new ProtocolException(
                        ErrorCode.MALFORMED, "SLOT_BATCH entry " + i + " (slot " + slot + ") fails its CRC");
            }
        }
    }

    /** True if the catch-up is a first copy whose index {@link #buildIndex} builds at its CAUGHT_UP. */
    boolean indexToBuild() {
        return shard.isBulkLoading();
    }

    /**
     * Builds a first copy's index, as {@link #onCaughtUp} would. Unlike the other methods, may run on a thread of
     * its own (see {@link IndexBuild}) while the session leaves the shard alone; {@link #onCaughtUp} then finds it
     * built.
     */
    void buildIndex() {
        shard.finishBulkLoad();
    }

    /** Ends the catch-up: builds the index of a first copy, and takes the announced LSN if it is a consistent point. */
    void onCaughtUp(CaughtUp c, long nowNs, AckSink out) throws IOException {
        shard.finishBulkLoad();
        advanceTo(c.lsn());
        leaderLsn = Math.max(leaderLsn, c.lsn());
        moveTo(Phase.STREAMING, "caught up to LSN " + c.lsn());
        LOG.info(
                "shard {}: caught up to LSN {} ({} slots scanned, {} sent)",
                shardId,
                c.lsn(),
                c.slotsScanned(),
                c.slotsSent());
        trackLag(nowNs);
        forceAndAck(nowNs, false, false, out);
    }

    /** Notes the leader's LSN and answers with an ack (the leader counts it as a sign of life). */
    void onHeartbeat(long heartbeatLeaderLsn, long nowNs, AckSink out) throws IOException {
        leaderLsn = heartbeatLeaderLsn;
        knownLeaderLsn = Math.max(knownLeaderLsn, heartbeatLeaderLsn);
        trackLag(nowNs);
        forceAndAck(nowNs, true, false, out);
    }

    /** Nothing arrived for a while: sends a deferred ack, or an idle one that forces what GROUP still holds back. */
    void onQuiet(long nowNs, AckSink out) throws IOException {
        if (phase != Phase.AWAIT_SHARD_INFO) {
            // an ACK goes out even when it says nothing new: a quiet leader may be waiting for its window to open
            boolean idle = !ackDeferred && !durablePoints.pending() && pendingRecordLsn < 0;
            forceAndAck(nowNs, idle, true, out);
        }
    }

    /** True while an ack is held back: the driver should call {@link #onQuiet} if nothing arrives within 1 ms. */
    boolean ackDeferred() {
        return ackDeferred;
    }

    /**
     * The first slot id a batch may not name: SHARD_INFO's slot count plus one per LSN the leader is known to have
     * reached since (each LSN allocates at most one new slot), capped by the configured maximum. A leader that
     * names a slot beyond it is refused, so a forged batch cannot make this follower grow its file.
     */
    private long slotIdBound(long batchUpTo) {
        long known = Math.max(knownLeaderLsn, batchUpTo);
        long grown = Math.max(0, known - info.leaderLsn());
        long bound = (long) info.slotCount() + Math.min(grown, Integer.MAX_VALUE) + 1;
        return Math.min(bound, shard.maxSlots());
    }

    /**
     * Moves the applied position to {@code upTo} if that is a consistent point: every image this shard holds is at
     * most {@code upTo} old. Images arrive out of LSN order (a scan, or a feed entry whose slot changed again before
     * it was read), and until the log has been replayed past the newest of them the shard matches no single leader
     * state, so nothing is recorded, acknowledged or promoted there. A copy from scratch ends at its first
     * consistent point.
     */
    private void advanceTo(long upTo) {
        if (upTo < applied || upTo < shard.lastLsn()) {
            return;
        }
        if (copying) {
            shard.finishCopy();
            copying = false;
        }
        applied = upTo;
        consistentLsn = upTo;
        if (shard.durability() == Durability.GROUP) {
            durablePoints.reached(upTo, shard.forceMark());
        }
    }

    /**
     * Records and acknowledges the applied LSN once it is as durable as the collection's mode promises: SYNC
     * forces now; GROUP waits for a force begun after the point was reached to complete, whoever ran it (normally the
     * collection's group commit, however late: the applier forces itself only when idle, so the thread that drives
     * its session never waits for a disk that the group commit already waits for); NONE records at once. Records
     * and ACKs happen only while the shard is at its consistent point (no image newer than the applied LSN): images
     * applied since, out of order, make it match no leader state until the stream reaches them, and then an LSN
     * recorded or acknowledged earlier would no longer describe what the follower holds. Such an ack carries LSN 0
     * (it still opens the leader's window). An ACK goes out when it says something new (a newer LSN, or {@link
     * #ACK_EVERY_BATCHES} batches since the last), when idle (it is also the follower's heartbeat), or, with {@code
     * ackAnyway}, when batches are unacknowledged (the stream went quiet: the leader may be waiting for its window).
     */
    private void forceAndAck(long nowNs, boolean idle, boolean ackAnyway, AckSink out) throws IOException {
        boolean consistent = atConsistentPoint();
        Durability d = shard.durability();
        long recorded = positions.appliedLsn(shardId);
        if (d == Durability.SYNC) {
            shard.forceApplied();
            if (applied != recorded && consistent) {
                recordNow(applied, true);
            }
        } else if (d == Durability.GROUP) {
            recordGroupDurable(recorded, idle, consistent);
        } else if (applied != recorded && consistent) {
            recordNow(applied, false);
        }
        settleRecordForce();
        long ackLsn = phase == Phase.STREAMING && consistent ? forcedRecordLsn : 0;
        if (idle
                || ackLsn != lastAckedLsn
                || lastBatchSeq - lastAckedBatchSeq >= ACK_EVERY_BATCHES
                || (ackAnyway && lastBatchSeq != lastAckedBatchSeq)) {
            out.sendAck(ackLsn, lastBatchSeq);
            lastAckedBatchSeq = lastBatchSeq;
            lastAckedLsn = ackLsn;
            lastAckNanos = nowNs;
        }
        ackDeferred = false;
    }

    /**
     * GROUP: records the newest consistent point a completed force covers, while the shard is at a consistent point
     * at or past it. The record (one page) is forced in the background and acknowledged once that force completes
     * ({@link #settleRecordForce}): what a follower acknowledged stays recorded through a power loss, and the thread
     * driving the session never waits for the disk.
     */
    private void recordGroupDurable(long recorded, boolean idle, boolean consistent) {
        long durable = durablePoints.takeDurable(forcedSince);
        if (durable > durableReady) {
            durableReady = durable;
        }
        if (applied != recorded && consistent && idle) {
            shard.forceApplied();
            durablePoints.clear();
            durableReady = applied;
        }
        if (consistent && durableReady > recorded) {
            pendingRecordTicket = positions.recordApplied(shardId, durableReady);
            pendingRecordLsn = durableReady;
        }
    }

    /**
     * Records {@code lsn}, forced now if {@code force} (NONE promises nothing past a process crash): ACKs may carry
     * it.
     */
    private void recordNow(long lsn, boolean force) {
        positions.appliedLsn(shardId, lsn, force);
        forcedRecordLsn = lsn;
        pendingRecordLsn = -1;
    }

    /** Takes the pending record as forced once its background force completed. */
    private void settleRecordForce() {
        if (pendingRecordLsn >= 0 && positions.recordForced(pendingRecordTicket)) {
            forcedRecordLsn = pendingRecordLsn;
            pendingRecordLsn = -1;
        }
    }

    /**
     * How long the driver may wait for the next frame before calling {@link #onQuiet}: 1 ms while an ack is held
     * back or a record waits for its background force, a group interval while a consistent point waits for a force,
     * else {@code heartbeatNanos}.
     */
    long quietAfterNanos(long heartbeatNanos) {
        if (ackDeferred || pendingRecordLsn >= 0) {
            return Math.min(heartbeatNanos, ACK_MAX_DELAY_NANOS);
        }
        if (durablePoints.pending()) {
            return Math.min(heartbeatNanos, shard.groupIntervalNanos());
        }
        return heartbeatNanos;
    }

    /** True while no image the shard holds is newer than the applied LSN: the shard equals the leader's state there. */
    private boolean atConsistentPoint() {
        return shard.lastLsn() <= applied;
    }

    private void trackLag(long nowNs) {
        if (applied >= leaderLsn) {
            behindSinceNanos = 0;
        } else if (behindSinceNanos == 0) {
            behindSinceNanos = nowNs;
        }
    }

    private void moveTo(Phase next, String reason) {
        if (phase != next) {
            LOG.debug("shard {}: {} -> {} ({})", shardId, phase, next, reason);
            phase = next;
        }
    }

    /**
     * Settles the shard after its driver stopped: records the consistent point reached, forced, if newer than the
     * recorded one (a stop between two group forces), so a follower stopped cleanly reopens where it was.
     *
     * @return true if the shard stopped at a consistent point (its newest image no newer than that point), which
     *     promotion requires
     */
    boolean settleOnStop() {
        // the durable copy mark, not this connection's flag: a stop right after a reconnect has not seen SHARD_INFO
        boolean copyIncomplete = shard.copyIncomplete();
        if (consistentLsn > positions.appliedLsn(shardId) && !copyIncomplete && shard.lastLsn() <= consistentLsn) {
            shard.forceApplied();
            recordNow(consistentLsn, true);
        } else if (pendingRecordLsn >= 0) {
            // recorded, its background force not completed: a clean stop leaves the record durable
            positions.forceRecords();
            forcedRecordLsn = pendingRecordLsn;
            pendingRecordLsn = -1;
        }
        return !copyIncomplete && Math.max(consistentLsn, positions.appliedLsn(shardId)) >= shard.lastLsn();
    }

    /** The stream's phase. Any thread. */
    Phase phase() {
        return phase;
    }

    /** The newest LSN the leader is known to have. Any thread. */
    long leaderLsn() {
        return leaderLsn;
    }

    /** When the follower fell behind the leader ({@code System.nanoTime()} scale), 0 if it is not behind. */
    long behindSinceNanos() {
        return behindSinceNanos;
    }
}
