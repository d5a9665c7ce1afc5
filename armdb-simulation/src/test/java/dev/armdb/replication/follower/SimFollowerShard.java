package dev.armdb.replication.follower;

import dev.armdb.FixedConfig;
import dev.armdb.replication.ReplicationMetrics;
import dev.armdb.replication.net.FrameReader;
import dev.armdb.replication.protocol.CaughtUp;
import dev.armdb.replication.protocol.ShardInfo;
import dev.armdb.store.Shard;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.function.LongConsumer;

/**
 * A follower's shard 0 in the replication simulation: the real {@link ShardApplier} over a replica shard on a
 * simulated disk, with its recorded positions and copy mark kept in memory as a crash would keep them (a process
 * crash keeps what was written, a power loss only what was forced).
 *
 * <p>Threading: one simulation thread.
 */
public final class SimFollowerShard {
    /** Where the simulation sends the ACK frames the applier produces. */
    public interface Acks {
        /** An ACK of {@code lsn} covering batches up to {@code seq}. */
        void ack(long lsn, long seq);
    }

    /** The recorded positions and copy mark of one follower, as written and as forced. */
    public static final class Records {
        long applied;
        long appliedForced;
        byte[] databaseId = new byte[16];
        byte[] databaseIdForced = new byte[16];
        long epoch;
        long epochForced;
        boolean copyMark;
        /** The highest leader term seen ({@code db.term}: raised durably before it is used). */
        long term;
        /** Background forces of the record asked for, and the newest ticket a completed force covers. */
        long ticketsIssued;

        long ticketsForced;

        /** The records a new process finds after a crash; {@code powerLoss} keeps only what was forced. */
        public Records afterCrash(boolean powerLoss) {
            Records r = new Records();
            r.applied = powerLoss ? appliedForced : applied;
            r.databaseId = (powerLoss ? databaseIdForced : databaseId).clone();
            r.epoch = powerLoss ? epochForced : epoch;
            r.appliedForced = r.applied;
            r.databaseIdForced = r.databaseId.clone();
            r.epochForced = r.epoch;
            // set and cleared durably (a cleared mark that came back would only cause a second copy)
            r.copyMark = copyMark;
            r.term = term;
            return r;
        }

        /** The recorded applied LSN (what a restart resumes from). */
        public long applied() {
            return applied;
        }

        /** True while a copy from scratch is incomplete. */
        public boolean copyMark() {
            return copyMark;
        }

        /** The highest leader term seen. */
        public long term() {
            return term;
        }

        /** Sets the term a promotion of this node leads under. */
        public void term(long t) {
            term = t;
        }
    }

    /** The staging a follower's session reads with. */
    public static final int SESSION_STAGING_BYTES = LeaderSession.STAGING_BYTES;

    /**
     * The reader a follower's session reads the leader with ({@code LeaderSession}'s), with {@code stagingBytes} of
     * staging, past the CHALLENGE (which the simulation does not send): it accepts a SHARD_INFO or an ERROR.
     */
    public static FrameReader leaderReader(int stagingBytes) {
        FrameReader r = LeaderSession.frameReader(stagingBytes);
        LeaderSession.expectShardInfo(r);
        return r;
    }

    /** The session took the SHARD_INFO: its reader accepts the stream's frames from the next header on. */
    public static void streaming(FrameReader r) {
        LeaderSession.expectStream(r);
    }

    private final Shard shard;
    private final FixedConfig cfg;
    private final Records records;
    private final ShardApplier applier;
    private final LongConsumer onRecord;
    private final Positions positions = new Positions();
    private final TermGuard terms;

    /**
     * Opens the follower over {@code shard} (already opened as a replica on its disk) as {@code Store.open} would: a
     * shard that recovered torn slots gets the copy mark, a shard with the copy mark is emptied. {@code onRecord}
     * sees every applied LSN recorded.
     */
    public SimFollowerShard(Shard shard, FixedConfig cfg, Records records, LongConsumer onRecord) {
        this.shard = shard;
        this.cfg = cfg;
        this.records = records;
        this.onRecord = onRecord;
        if (shard.damagedAtOpen()) {
            records.copyMark = true;
        }
        if (records.copyMark) {
            shard.wipe();
        }
        this.applier =
                new ShardApplier(0, new StoreReplicaShard(shard, cfg, new Mark()), positions, new ReplicationMetrics());
        this.terms = new TermGuard(() -> records.term, t -> {
            records.term = Math.max(records.term, t);
            return records.term;
        });
    }

    /** Starts a connection; returns the from-LSN to ask for. */
    public long connect() {
        applier.connected();
        return applier.fromLsn();
    }

    /** The newest LSN of any image held (for the leader's lineage check). */
    public long heldLsn() {
        return applier.heldLsn();
    }

    /** The leader database recorded. */
    public byte[] leaderDatabaseId() {
        return records.databaseId.clone();
    }

    /** The leader epoch recorded. */
    public long leaderEpoch() {
        return records.epoch;
    }

    /**
     * Checks a leader's term as the session does for SHARD_INFO and HEARTBEAT.
     *
     * @throws dev.armdb.replication.protocol.ProtocolException STALE_TERM if it is below the highest term seen
     */
    public void checkTerm(long leaderTerm) {
        terms.check(leaderTerm);
    }

    /** SHARD_INFO arrived. */
    public void shardInfo(ShardInfo info, long nowNs) {
        applier.onShardInfo(info, nowNs);
    }

    /**
     * A SLOT_BATCH payload arrived: {@code payload} from its position to its limit, over {@code array} (as the
     * channel's decoder hands it over).
     */
    public void batch(ByteBuffer payload, byte[] array, boolean moreQueued, long nowNs, Acks out) throws IOException {
        applier.onBatch(payload, array, moreQueued, nowNs, sink(out));
    }

    /** CAUGHT_UP arrived. */
    public void caughtUp(CaughtUp c, long nowNs, Acks out) throws IOException {
        applier.onCaughtUp(c, nowNs, sink(out));
    }

    /** A HEARTBEAT arrived. */
    public void heartbeat(long leaderLsn, long nowNs, Acks out) throws IOException {
        applier.onHeartbeat(leaderLsn, nowNs, sink(out));
    }

    /** Nothing arrived for a while. */
    public void quiet(long nowNs, Acks out) throws IOException {
        applier.onQuiet(nowNs, sink(out));
    }

    /**
     * The background force of the record runs now (begins and completes), covering what was recorded so far; returns
     * true if a ticket waited for it.
     */
    public boolean forceRecordInBackground() {
        boolean waited = records.ticketsForced < records.ticketsIssued;
        positions.forceAll();
        return waited;
    }

    /** True while an ack is held back. */
    public boolean ackDeferred() {
        return applier.ackDeferred();
    }

    /** Stops following: settles as a clean stop does; true if the shard is at a consistent point. */
    public boolean settleOnStop() {
        return applier.settleOnStop();
    }

    /** The lineage a promotion of this follower now records (as {@code ReplicationClient.promote} takes it). */
    public ReplicaLineage lineage(long promotionEpoch) {
        return ReplicaLineage.of(positions, 1, promotionEpoch);
    }

    /** The shard. */
    public Shard shard() {
        return shard;
    }

    /** The records. */
    public Records records() {
        return records;
    }

    private static ShardApplier.AckSink sink(Acks out) {
        return out::ack;
    }

    private final class Positions implements ReplicaPositions {
        @Override
        public long appliedLsn(int s) {
            return records.applied;
        }

        @Override
        public void appliedLsn(int s, long lsn, boolean force) {
            records.applied = lsn;
            if (force) {
                forceAll();
            }
            onRecord.accept(lsn);
        }

        @Override
        public long recordApplied(int s, long lsn) {
            records.applied = lsn;
            onRecord.accept(lsn);
            return ++records.ticketsIssued;
        }

        @Override
        public boolean recordForced(long ticket) {
            return ticket <= records.ticketsForced;
        }

        @Override
        public void forceRecords() {
            forceAll();
        }

        @Override
        public byte[] leaderDatabaseId(int s) {
            return records.databaseId.clone();
        }

        @Override
        public long leaderEpoch(int s) {
            return records.epoch;
        }

        @Override
        public void leaderEpoch(int s, long epoch) {
            records.epoch = epoch;
            forceAll();
        }

        @Override
        public void resetTo(int s, byte[] databaseId) {
            records.applied = 0;
            records.databaseId = databaseId.clone();
            forceAll();
        }

        /** A force begun now: it covers every record stored so far, and every ticket handed out. */
        private void forceAll() {
            records.appliedForced = records.applied;
            records.databaseIdForced = records.databaseId.clone();
            records.epochForced = records.epoch;
            records.ticketsForced = records.ticketsIssued;
        }
    }

    private final class Mark implements StoreReplicaShard.CopyMark {
        @Override
        public void begin() {
            records.copyMark = true;
        }

        @Override
        public void finish() {
            records.copyMark = false;
        }

        @Override
        public boolean incomplete() {
            return records.copyMark;
        }
    }
}
