package dev.armdb.replication.leader;

import dev.armdb.replication.protocol.CaughtUp;
import dev.armdb.replication.protocol.FrameLayout;
import dev.armdb.replication.protocol.Heartbeat;
import dev.armdb.replication.protocol.MessageType;
import java.nio.ByteBuffer;
import java.util.function.LongSupplier;

/**
 * Encodes the frames a {@link ShardStreamer} emits (SLOT_BATCH, CAUGHT_UP, HEARTBEAT with the leader's term) into an
 * outbound buffer, as {@link FrameLayout} frames. The caller keeps room for the largest frame before asking the
 * streamer for one ({@link PooledStream}'s backpressure).
 *
 * <p>Threading: the thread that drives the streamer.
 */
final class StreamFrames implements ShardStreamer.FrameOut {
    private final ByteBuffer out;
    private final LongSupplier term;

    /** Frames into {@code out} (little-endian, in write mode); heartbeats carry {@code term}'s current value. */
    StreamFrames(ByteBuffer out, LongSupplier term) {
        this.out = out;
        this.term = term;
    }

    @Override
    public void batch(byte[] buf, int length) {
        FrameLayout.putHeader(out, MessageType.SLOT_BATCH, length);
        out.put(buf, 0, length);
    }

    @Override
    public void caughtUp(CaughtUp c) {
        FrameLayout.putHeader(out, MessageType.CAUGHT_UP, CaughtUp.LENGTH);
        c.encode(out);
    }

    @Override
    public void heartbeat(long leaderLsn, long nowNs) {
        FrameLayout.putHeader(out, MessageType.HEARTBEAT, Heartbeat.LENGTH);
        new Heartbeat(leaderLsn, term.getAsLong(), nowNs).encode(out);
    }
}
