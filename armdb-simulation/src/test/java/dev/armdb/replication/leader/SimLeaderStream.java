package dev.armdb.replication.leader;

import dev.armdb.changes.ShardView;
import dev.armdb.replication.ReplicationMetrics;
import dev.armdb.replication.net.FrameReader;
import dev.armdb.replication.net.FrameWriter;
import dev.armdb.replication.net.SimTransport;
import dev.armdb.replication.protocol.Ack;
import dev.armdb.replication.protocol.CaughtUp;
import dev.armdb.replication.protocol.ErrorMessage;
import dev.armdb.replication.protocol.Heartbeat;
import dev.armdb.replication.protocol.MessageType;
import dev.armdb.replication.protocol.ShardInfo.CatchUpMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.function.LongSupplier;

/**
 * One leader-side stream in the replication simulation: the real {@link ShardStreamer} for one follower's shard,
 * whose frames are encoded by the real {@link StreamFrames} into a real {@link FrameWriter} and written to a simulated
 * transport (as {@link PooledStream} sends them), and whose input, bytes in whatever pieces the simulated network
 * delivers, is read through that transport by the real inbound {@link FrameReader} ({@link
 * PooledStream#inboundReader}) and taken as {@link PooledStream} takes it.
 *
 * <p>Threading: one simulation thread.
 */
public final class SimLeaderStream implements AutoCloseable, AckedFollowers.Acked {
    /** What the streamer sent, for the trace. */
    public interface Sent {
        /** A SLOT_BATCH payload, {@code buf[0, length)}. */
        void batch(byte[] buf, int length);

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
    private final int shard;
    private final FrameWriter out;
    private final StreamFrames frames;
    private final FrameReader in = PooledStream.inboundReader(0);
    private final SimTransport transport = new SimTransport();
    private boolean open = true;

    /**
     * A streamer over {@code view} (shard {@code shard}) for follower node {@code nodeId}: batches of at most {@code
     * batchBytes}, a window of {@code window} batches; heartbeats carry {@code term}.
     */
    public SimLeaderStream(
            ShardView view,
            int shard,
            String nodeId,
            int batchBytes,
            int window,
            long heartbeatNanos,
            LongSupplier term) {
        this.streamer = new ShardStreamer(view, new ReplicationMetrics(), batchBytes, window, heartbeatNanos);
        this.nodeId = nodeId;
        this.shard = shard;
        this.out = new FrameWriter(ByteBuffer.allocate(PooledStream.outboundCapacity(streamer.largestBatch()))
                .order(ByteOrder.LITTLE_ENDIAN));
        this.frames = new StreamFrames(out, term);
    }

    /** What the leader's {@code WAIT} counts for {@code lsn} of {@code shard} over these sessions (the real code). */
    public static int countAcked(Iterable<SimLeaderStream> sessions, int shard, long lsn) {
        return AckedFollowers.count(sessions, shard, lsn);
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

    /** One step of the streamer; the frames it sent are then {@link #takeSent()}. */
    public Work doWork(long nowNs, Sent log) throws IOException {
        ShardStreamer.Work w = streamer.doWork(nowNs, new ShardStreamer.FrameOut() {
            @Override
            public void batch(byte[] buf, int length) {
                frames.batch(buf, length);
                log.batch(buf, length);
            }

            @Override
            public void caughtUp(CaughtUp c) {
                frames.caughtUp(c);
                log.caughtUp(c);
            }

            @Override
            public void heartbeat(long leaderLsn, long now) {
                frames.heartbeat(leaderLsn, now);
                log.heartbeat(leaderLsn);
            }
        });
        return Work.valueOf(w.name());
    }

    /** The bytes of the frames sent since the last call (what the session's socket would write). */
    public byte[] takeSent() throws IOException {
        out.flush(transport);
        return transport.takeWritten();
    }

    /**
     * Bytes from the follower arrived (any piece of the stream): the session's reader reads them from its transport,
     * and every whole frame is taken as {@link PooledStream} takes it.
     *
     * @return ACK frames taken
     * @throws dev.armdb.replication.protocol.ProtocolException for a malformed frame, or an ACK above what was sent
     */
    public int receive(byte[] piece) throws IOException {
        transport.deliver(piece);
        int acks = takeFrames();
        // bounded: every read takes at least one byte of the piece, or makes room by taking a frame
        for (int reads = 0; reads <= piece.length && transport.unread() > 0; reads++) {
            in.fill(transport);
            acks += takeFrames();
        }
        if (transport.unread() > 0) {
            throw new IllegalStateException("the inbound reader took no more of the delivery");
        }
        return acks;
    }

    private int takeFrames() {
        int acks = 0;
        for (MessageType type = in.next(); type != null; type = in.next()) {
            switch (type) {
                case ACK -> {
                    Ack ack = Ack.decode(in.payload());
                    streamer.onAck(ack.appliedLsn(), ack.batchSeq());
                    acks++;
                }
                case HEARTBEAT -> Heartbeat.decode(in.payload());
                case ERROR ->
                    throw new IllegalStateException("the follower sent an error: " + ErrorMessage.decode(in.payload()));
                default -> throw new IllegalStateException("the reader accepts no " + type);
            }
        }
        return acks;
    }

    /** True if a frame has been received only in part. */
    public boolean partialInput() {
        return in.inputPending();
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
        return shard;
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
