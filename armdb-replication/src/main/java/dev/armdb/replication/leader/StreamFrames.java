package dev.armdb.replication.leader;

import dev.armdb.replication.net.FrameWriter;
import dev.armdb.replication.protocol.CaughtUp;
import dev.armdb.replication.protocol.FrameLayout;
import dev.armdb.replication.protocol.Heartbeat;
import dev.armdb.replication.protocol.MessageType;
import java.util.function.LongSupplier;

/**
 * Encodes the frames a {@link ShardStreamer} emits (SLOT_BATCH, CAUGHT_UP, HEARTBEAT with the leader's term) as
 * {@link FrameLayout} frames through a session's {@link FrameWriter}. The caller keeps room for the largest frame
 * before asking the streamer for one ({@link PooledStream}'s backpressure).
 *
 * <p>Threading: the thread that drives the streamer.
 */
final class StreamFrames implements ShardStreamer.FrameOut {
    private final FrameWriter out;
    private final LongSupplier term;

    /** Frames into {@code out}; heartbeats carry {@code term}'s current value. */
    StreamFrames(FrameWriter out, LongSupplier term) {
        this.out = out;
        this.term = term;
    }

    @Override
    public void batch(byte[] buf, int length) {
        out.begin(MessageType.SLOT_BATCH, length).put(buf, 0, length);
    }

    @Override
    public void caughtUp(CaughtUp c) {
        c.encode(out.begin(MessageType.CAUGHT_UP, CaughtUp.LENGTH));
    }

    @Override
    public void heartbeat(long leaderLsn, long nowNs) {
        new Heartbeat(leaderLsn, term.getAsLong(), nowNs).encode(out.begin(MessageType.HEARTBEAT, Heartbeat.LENGTH));
    }
}
