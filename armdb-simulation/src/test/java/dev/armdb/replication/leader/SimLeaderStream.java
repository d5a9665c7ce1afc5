package dev.armdb.replication.leader;

import dev.armdb.changes.ShardView;
import dev.armdb.replication.ReplicationMetrics;
import dev.armdb.replication.protocol.CaughtUp;
import dev.armdb.replication.protocol.ShardInfo.CatchUpMode;
import java.io.IOException;

/**
 * One leader-side stream in the replication simulation: the real {@link ShardStreamer} for one follower's shard 0.
 *
 * <p>Threading: one simulation thread.
 */
public final class SimLeaderStream implements AutoCloseable, AckedFollowers.Acked {
    /** Where the simulation sends the frames the streamer produces. */
    public interface Frames {
        /** A SLOT_BATCH payload (a copy). */
        void batch(byte[] payload);

        /** A CAUGHT_UP. */
        void caughtUp(CaughtUp c);

        /** A HEARTBEAT naming the leader's LSN. */
        void heartbeat(long leaderLsn);
    }

    /** What one {@link #doWork} call did. */
    public enum Work {
        IDLE,
        WORKED,
        WINDOW_FULL
    }

    private final ShardStreamer streamer;
    private final String nodeId;
    private boolean open = true;

    /**
     * A streamer over {@code view} for follower node {@code nodeId}: batches of at most {@code batchBytes}, a window
     * of {@code window} batches.
     */
    public SimLeaderStream(ShardView view, String nodeId, int batchBytes, int window, long heartbeatNanos) {
        this.streamer = new ShardStreamer(view, new ReplicationMetrics(), batchBytes, window, heartbeatNanos);
        this.nodeId = nodeId;
    }

    /** What the leader's {@code WAIT} counts for {@code lsn} over these sessions (the real counting code). */
    public static int countAcked(Iterable<SimLeaderStream> sessions, long lsn) {
        return AckedFollowers.count(sessions, 0, lsn);
    }

    /** The catch-up the leader's handshake chooses (see {@code ShardStreamer.choose}). */
    public static CatchUpMode choose(
            boolean inherited, boolean sameDb, boolean untrusted, long fromLsn, long leaderLsn, boolean feedCovers) {
        return ShardStreamer.choose(inherited, sameDb, untrusted, fromLsn, leaderLsn, feedCovers);
    }

    /** Registers the feed cursor; returns the mode to announce. */
    public CatchUpMode open(CatchUpMode mode, long fromLsn) {
        return streamer.open(mode, fromLsn);
    }

    /** Starts the announced catch-up. */
    public void start(CatchUpMode mode, long fromLsn, int slotCount, long nowNs) {
        streamer.start(mode, fromLsn, slotCount, nowNs);
    }

    /** One step of the streamer. */
    public Work doWork(long nowNs, Frames out) throws IOException {
        ShardStreamer.Work w = streamer.doWork(nowNs, new ShardStreamer.FrameOut() {
            @Override
            public void batch(byte[] buf, int length) {
                out.batch(java.util.Arrays.copyOf(buf, length));
            }

            @Override
            public void caughtUp(CaughtUp c) {
                out.caughtUp(c);
            }

            @Override
            public void heartbeat(long leaderLsn, long now) {
                out.heartbeat(leaderLsn);
            }
        });
        return Work.valueOf(w.name());
    }

    /** The follower's ACK arrived (throws a protocol error if it acknowledges more than was sent). */
    public void ack(long lsn, long seq) {
        streamer.onAck(lsn, seq);
    }

    /** The highest LSN acknowledged. */
    @Override
    public long ackedLsn() {
        return streamer.ackedLsn();
    }

    @Override
    public String nodeId() {
        return nodeId;
    }

    @Override
    public int shard() {
        return 0;
    }

    @Override
    public boolean open() {
        return open;
    }

    @Override
    public void close() {
        open = false;
        streamer.close();
    }
}
