package dev.armdb.replication.follower;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.replication.ReplicationMetrics;
import dev.armdb.replication.protocol.CaughtUp;
import dev.armdb.replication.protocol.ShardInfo;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A {@code GROUP} follower whose group commit falls behind (its forces queue behind a checkpoint's write-back) never
 * forces on the thread that drives its session, which also applies every other shard of that thread: it waits for the
 * group commit, acknowledges nothing until a force covered the point and the record's own background force completed,
 * then acknowledges the point.
 *
 * <p>Mutation checks: restoring the old "patience" rule (the session forced the shard itself once no group force had
 * covered a point for 10 group intervals) fails {@link #aLateGroupCommitDelaysTheAckAndNeverBlocksTheSession} with one
 * force on the session's thread; acknowledging the record before its background force completed fails it with an
 * early ACK.
 */
class GroupAckOffTheWorkerTest {
    private static final long INTERVAL_NANOS = 10_000_000;

    @Test
    void aLateGroupCommitDelaysTheAckAndNeverBlocksTheSession() throws Exception {
        BusyDiskShard shard = new BusyDiskShard();
        MemoryPositions positions = new MemoryPositions();
        ShardApplier applier = new ShardApplier(0, shard, positions, new ReplicationMetrics());
        List<Long> acks = new ArrayList<>();
        ShardApplier.AckSink sink = (lsn, seq) -> acks.add(lsn);
        long now = 1_000_000_000L;
        applier.connected();
        applier.onShardInfo(
                new ShardInfo(
                        1,
                        8,
                        16,
                        shard.slotSize(),
                        0,
                        0,
                        positions.leaderDatabaseId(0),
                        5,
                        ShardInfo.CatchUpMode.BACKLOG,
                        1,
                        1,
                        "127.0.0.1",
                        6379,
                        new byte[0]),
                now);
        // the backlog's images are applied: the shard holds LSN 5, a consistent point once CAUGHT_UP says so
        shard.lastLsn = 5;
        applier.onCaughtUp(new CaughtUp(0, 0, 5), now, sink);
        for (int i = 0; i < 50; i++) {
            now += INTERVAL_NANOS;
            applier.onQuiet(now, sink);
        }
        assertThat(shard.forcesOnSessionThread)
                .as("forces run on the session's thread while the group commit was late for 50 intervals")
                .isZero();
        assertThat(acks).as("ACKs before any force covered LSN 5").isNotEmpty().containsOnly(0L);

        // the group commit completes a force begun after the point: the record is written, its force runs apart
        shard.groupCommitDone = true;
        now += INTERVAL_NANOS;
        applier.onQuiet(now, sink);
        assertThat(positions.appliedLsn(0)).as("recorded once durable").isEqualTo(5);
        assertThat(acks).as("ACKs while the record's own force runs").containsOnly(0L);

        positions.completeBackgroundForce();
        now += ShardApplier.ACK_MAX_DELAY_NANOS;
        applier.onQuiet(now, sink);
        assertThat(acks.getLast()).as("the ACK once the record is forced").isEqualTo(5);
        assertThat(shard.forcesOnSessionThread).isZero();
    }

    /** A GROUP follower shard at LSN {@link #lastLsn} whose group commit completes no force until told. */
    private static final class BusyDiskShard implements ReplicaShard {
        long lastLsn;
        boolean groupCommitDone;
        int forcesOnSessionThread;

        @Override
        public int slotSize() {
            return 40;
        }

        @Override
        public int slotCount() {
            return 0;
        }

        @Override
        public long lastLsn() {
            return lastLsn;
        }

        @Override
        public long maxSlots() {
            return 1 << 20;
        }

        @Override
        public Durability durability() {
            return Durability.GROUP;
        }

        @Override
        public long groupIntervalNanos() {
            return INTERVAL_NANOS;
        }

        @Override
        public void wipe() {
            throw new AssertionError("no full copy here");
        }

        @Override
        public void beginBulkLoad(int expectedSlots) {}

        @Override
        public void finishBulkLoad() {}

        @Override
        public boolean isBulkLoading() {
            return false;
        }

        @Override
        public void applyImages(byte[] buf, int offset, int count, int stride) {}

        @Override
        public void forceApplied() {
            forcesOnSessionThread++;
        }

        @Override
        public long forceMark() {
            return 1;
        }

        @Override
        public boolean forcedSince(long mark) {
            return groupCommitDone;
        }

        @Override
        public void beginCopy() {}

        @Override
        public void finishCopy() {}

        @Override
        public boolean copyIncomplete() {
            return false;
        }
    }

    /** Positions in memory; a record's background force completes only when the test says so. */
    private static final class MemoryPositions implements ReplicaPositions {
        private final byte[] databaseId = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
        private long applied;
        private long epoch;
        private long issued;
        private long forced;

        void completeBackgroundForce() {
            forced = issued;
        }

        @Override
        public long appliedLsn(int s) {
            return applied;
        }

        @Override
        public void appliedLsn(int s, long lsn, boolean force) {
            applied = lsn;
            if (force) {
                forced = issued;
            }
        }

        @Override
        public long recordApplied(int s, long lsn) {
            applied = lsn;
            return ++issued;
        }

        @Override
        public boolean recordForced(long ticket) {
            return ticket <= forced;
        }

        @Override
        public void forceRecords() {
            forced = issued;
        }

        @Override
        public byte[] leaderDatabaseId(int s) {
            return databaseId.clone();
        }

        @Override
        public long leaderEpoch(int s) {
            return epoch;
        }

        @Override
        public void leaderEpoch(int s, long e) {
            epoch = e;
        }

        @Override
        public void resetTo(int s, byte[] id) {
            throw new AssertionError("same leader database: no reset");
        }
    }
}
