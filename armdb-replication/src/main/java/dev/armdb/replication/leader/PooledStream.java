package dev.armdb.replication.leader;

import dev.armdb.replication.ReplicationMetrics;
import dev.armdb.replication.net.ByteTransport;
import dev.armdb.replication.net.FrameReader;
import dev.armdb.replication.net.FrameWriter;
import dev.armdb.replication.net.SessionWorkers;
import dev.armdb.replication.protocol.Ack;
import dev.armdb.replication.protocol.CaughtUp;
import dev.armdb.replication.protocol.ErrorCode;
import dev.armdb.replication.protocol.ErrorMessage;
import dev.armdb.replication.protocol.FrameLayout;
import dev.armdb.replication.protocol.Heartbeat;
import dev.armdb.replication.protocol.MessageType;
import dev.armdb.replication.protocol.ProtocolException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.EnumSet;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One authenticated follower session's connection after the handshake, driven by one of the server's {@link
 * SessionWorkers} over a non-blocking socket through its {@link ByteTransport} (plain TCP or TLS): frames the {@link
 * ShardStreamer} emits go into an outbound buffer written as the transport takes them, and the follower's ACK,
 * HEARTBEAT and ERROR frames are reassembled from whatever the transport delivers. The frames are those of the
 * handshake ({@link FrameLayout} frames, same checks, same error codes), in clear or inside TLS records.
 *
 * <p>Backpressure: the streamer is asked for a frame only while the outbound buffer has room for the largest frame it
 * may produce, so a follower that reads slowly holds at most {@link #outboundCapacity} bytes here; interest in
 * writability is registered only while the socket refuses bytes. A frame is accepted only once whole; its type and
 * length are checked from its header, before any payload is buffered, and a follower silent (no whole frame) for the
 * peer timeout is dropped, however it trickles bytes.
 *
 * <p>Threading: from {@link #adopted} on, used under its worker's pass lock only (by the worker, or by a leader's
 * writer at a safe point, see {@link SessionWorkers}); the status it publishes goes through {@link FollowerSession}'s
 * volatile fields.
 */
final class PooledStream implements SessionWorkers.Session {
    private static final Logger LOG = LoggerFactory.getLogger(PooledStream.class);
    /** Frames one {@link #doWork} call may add, so one busy session cannot starve the others of its worker. */
    private static final int FRAMES_PER_PASS = 16;
    /** Room kept for a final Error frame. */
    private static final int ERROR_ROOM = FrameLayout.HEADER_SIZE + MessageType.ERROR.maxPayload();
    /** Transport reads one readiness event may take, so one chatty follower cannot starve the others. */
    private static final int READS_PER_PASS = 8;
    /** Longest a session that sent an Error keeps trying to deliver it before closing. */
    private static final long LINGER_NANOS = TimeUnit.SECONDS.toNanos(1);

    /** Where the connection is. */
    enum State {
        /** Streaming and reading acks. */
        OPEN,
        /** A final Error frame is queued: writing what is left, reading nothing. */
        LINGERING,
        CLOSED
    }

    private final FollowerSession session;
    private final ShardStreamer streamer;
    private final SocketChannel channel;
    private final ByteTransport transport;
    private final ReplicationMetrics metrics;
    private final long timeoutNanos;
    private final long ackReadNanos;
    private final int largestFrame;
    private final FrameWriter writer;
    private final ByteBuffer out;
    private final FrameReader reader;
    private final ShardStreamer.FrameOut frameOut;
    private final byte[] leftover;
    private final Runnable start;

    private State state = State.OPEN;
    private SelectionKey key;
    private boolean writeInterest;
    /** The socket is watched for input (acks read as they arrive); else read every {@link #ackReadNanos}. */
    private boolean readInterest = true;
    /** The key's interest changed in this {@link #doWork}: a selector waiting since does not watch it yet. */
    private boolean interestChanged;

    private boolean feedIdle;
    private long lastHeardNanos;
    private long lastReadNanos;
    private long lingerUntilNanos;
    private volatile long bytesOut;

    /**
     * @param leftover input the handshake read ahead of its last frame (the start of the follower's next frames)
     * @param start starts the streamer's catch-up; run on the worker before the first frame
     */
    PooledStream(
            FollowerSession session,
            ShardStreamer streamer,
            SocketChannel channel,
            ByteTransport transport,
            byte[] leftover,
            Runnable start,
            ReplicationMetrics metrics,
            long timeoutNanos,
            long ackReadNanos) {
        this.session = session;
        this.streamer = streamer;
        this.channel = channel;
        this.transport = transport;
        this.leftover = leftover;
        this.start = start;
        this.metrics = metrics;
        this.timeoutNanos = timeoutNanos;
        // a follower is heard only when its frames are read: read well within the peer timeout whatever the setting
        this.ackReadNanos = Math.min(ackReadNanos, timeoutNanos / 2);
        this.largestFrame = FrameLayout.HEADER_SIZE
                + streamer.largestBatch()
                + FrameLayout.HEADER_SIZE
                + Math.max(Heartbeat.LENGTH, CaughtUp.LENGTH);
        this.out = ByteBuffer.allocateDirect(outboundCapacity(streamer.largestBatch()))
                .order(ByteOrder.LITTLE_ENDIAN);
        this.writer = new FrameWriter(out);
        this.frameOut = new StreamFrames(writer, session::term);
        this.reader = inboundReader(leftover.length);
    }

    /**
     * The reader of what a follower sends after the handshake (ACK, HEARTBEAT and ERROR frames only, any other type
     * refused from its header), whose staging holds at least {@code leftover} bytes (the handshake's read-ahead). The
     * deterministic simulation reads the leader's inbound stream with it.
     */
    static FrameReader inboundReader(int leftover) {
        int inbound =
                Math.max(Ack.LENGTH, Math.max(MessageType.HEARTBEAT.maxPayload(), MessageType.ERROR.maxPayload()));
        return new FrameReader(
                Math.max(FrameLayout.HEADER_SIZE + inbound, leftover),
                inbound,
                EnumSet.of(MessageType.ACK, MessageType.HEARTBEAT, MessageType.ERROR),
                "from a follower after the handshake");
    }

    /**
     * Bytes a session may hold unsent: two of its largest frames and a final Error frame. A follower that stops
     * reading costs the leader no more than this.
     */
    static int outboundCapacity(int largestBatch) {
        return 2 * (FrameLayout.HEADER_SIZE + largestBatch + FrameLayout.HEADER_SIZE + Heartbeat.LENGTH) + ERROR_ROOM;
    }

    /** The follower node's id: its shards' streams share a worker, which one pass of the leader's writes wakes once. */
    @Override
    public String affinity() {
        return session.nodeId();
    }

    /** Switches the socket to non-blocking, registers it with the worker's selector and starts the stream. */
    @Override
    public void adopted(Selector selector, long nowNs) {
        lastHeardNanos = nowNs;
        lastReadNanos = nowNs;
        try {
            channel.configureBlocking(false);
            key = channel.register(selector, SelectionKey.OP_READ, this);
            start.run();
            reader.preload(leftover);
            frames(nowNs);
        } catch (Throwable t) {
            failed(t, nowNs);
        }
    }

    /**
     * Checks the deadlines and sends what the streamer has ready, as long as the outbound buffer has room.
     *
     * @return frames added (0: nothing to do now)
     */
    @Override
    public int doWork(long nowNs, boolean serverClosed) {
        try {
            return switch (state) {
                case OPEN -> sendWork(nowNs, serverClosed);
                case LINGERING -> linger(nowNs);
                case CLOSED -> 0;
            };
        } catch (Throwable t) {
            failed(t, nowNs);
            return 1;
        }
    }

    private int sendWork(long nowNs, boolean serverClosed) throws IOException {
        if (serverClosed) {
            shutdown(ErrorCode.SHUTDOWN, "leader shutting down");
            return 0;
        }
        if (!channel.isOpen()) {
            session.closeReason("connection closed by the leader");
            state(State.CLOSED, "closed by the leader");
            return 0;
        }
        if (nowNs - lastHeardNanos > timeoutNanos) {
            throw new ProtocolException(
                    ErrorCode.TIMEOUT,
                    "follower silent for more than " + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms");
        }
        int work = 0;
        interestChanged = false;
        if (transport.inputBuffered() || reader.frameReady()) {
            // input taken from the socket earlier: no readiness event will announce it
            read(nowNs);
            work++;
        }
        readAcksIfDue(nowNs);
        if (state != State.OPEN) {
            return work;
        }
        feedIdle = false;
        while (work < FRAMES_PER_PASS && out.remaining() >= largestFrame + ERROR_ROOM) {
            ShardStreamer.Work w = streamer.doWork(nowNs, frameOut);
            session.phase(streamer.phase());
            if (w == ShardStreamer.Work.IDLE) {
                feedIdle = true;
                break;
            }
            if (w == ShardStreamer.Work.WINDOW_FULL) {
                break;
            }
            work++;
        }
        if (!writer.isEmpty() || transport.wantsWrite()) {
            flush();
        }
        return work;
    }

    /**
     * Chooses how the follower's acks are read, and reads them if due. While someone needs them soon (a catch-up, a
     * waiter, a full window) the socket is watched and each ack is read as it arrives. Otherwise it is not: the acks
     * wait in the socket and are read every {@link #ackReadNanos}, or when half the window is unacknowledged as far
     * as the session knows, so that a stream of writes does not wake the worker for every ack.
     */
    private void readAcksIfDue(long nowNs) throws IOException {
        boolean watch = acksNeededSoon();
        if (!watch && (nowNs - lastReadNanos >= ackReadNanos || streamer.windowHalfFull())) {
            read(nowNs);
            // still full after reading what came: the next ack is awaited on the socket
            watch = acksNeededSoon();
        }
        if (watch != readInterest) {
            readInterest = watch;
            updateInterest();
        }
    }

    private boolean acksNeededSoon() {
        return streamer.phase() == ShardStreamer.Phase.CATCHING_UP || streamer.windowFull() || session.acksWanted();
    }

    private int linger(long nowNs) throws IOException {
        flush();
        if ((writer.isEmpty() && !transport.wantsWrite()) || nowNs - lingerUntilNanos > 0) {
            state(State.CLOSED, "error delivered");
        }
        return 0;
    }

    /** Arms the feed cursor's wake-up if the session waits only for the change feed (or its heartbeat time). */
    @Override
    public boolean armWakeup(Runnable waker) {
        return state == State.OPEN && feedIdle && streamer.cursor().armWakeup(waker);
    }

    /**
     * Open, with every byte handed to the socket and the key's interest unchanged: it waits for the feed, an ack or
     * its deadline only.
     */
    @Override
    public boolean quiet() {
        return state == State.OPEN && writer.isEmpty() && !transport.wantsWrite() && !interestChanged;
    }

    @Override
    public void disarmWakeup(Runnable waker) {
        streamer.cursor().disarmWakeup(waker);
    }

    /** When this session needs its worker next, at the latest, if nothing else happens. */
    @Override
    public long deadline(long nowNs) {
        return switch (state) {
            case OPEN -> {
                long d = lastHeardNanos + timeoutNanos + 1;
                if (!readInterest) {
                    d = Math.min(d, lastReadNanos + ackReadNanos);
                }
                yield feedIdle ? Math.min(d, nowNs + streamer.nanosUntilHeartbeat(nowNs)) : d;
            }
            case LINGERING -> lingerUntilNanos + 1;
            case CLOSED -> nowNs;
        };
    }

    /** The selector reported the socket ready. */
    @Override
    public void ready(SelectionKey k, long nowNs) {
        try {
            if (k.isValid() && k.isWritable()) {
                flush();
            }
            if (state == State.OPEN && k.isValid() && k.isReadable()) {
                read(nowNs);
            }
        } catch (Throwable t) {
            failed(t, nowNs);
        }
    }

    /** Reads what the transport has now (a few socket reads at most) and takes the whole frames. */
    private void read(long nowNs) throws IOException {
        lastReadNanos = nowNs;
        frames(nowNs);
        for (int pass = 0; pass < READS_PER_PASS && state == State.OPEN; pass++) {
            int n = reader.fill(transport);
            if (n < 0) {
                session.closeReason("connection closed: peer closed the connection");
                state(State.CLOSED, "peer closed the connection");
                return;
            }
            if (n == 0) {
                break;
            }
            metrics.bytesReceived.add(n);
            frames(nowNs);
        }
        if (state == State.OPEN && transport.wantsWrite()) {
            // a TLS post-handshake message (a KeyUpdate) asks for a reply
            flush();
        }
    }

    /** Takes every whole frame read so far; a partial one stays for the next read. */
    private void frames(long nowNs) {
        for (MessageType type; state == State.OPEN && (type = reader.next()) != null; ) {
            lastHeardNanos = nowNs;
            session.heard(nowNs);
            frame(type);
        }
    }

    private void frame(MessageType type) {
        ByteBuffer payload = reader.payload();
        switch (type) {
            case ACK -> {
                Ack ack = Ack.decode(payload);
                streamer.onAck(ack.appliedLsn(), ack.batchSeq());
                session.acked();
            }
            case HEARTBEAT -> Heartbeat.decode(payload);
            case ERROR -> {
                ErrorMessage err = ErrorMessage.decode(payload);
                if (err.code() == ErrorCode.STALE_TERM) {
                    metrics.staleTerm.increment();
                }
                LOG.info("follower on shard {} ended the session: {} {}", session.shard(), err.code(), err.sanitized());
                state(State.CLOSED, "the follower sent an error");
            }
            default -> throw new IllegalStateException("checked above: " + type);
        }
    }

    private void flush() throws IOException {
        int n = writer.flush(transport);
        if (n > 0) {
            bytesOut += n;
            metrics.bytesSent.add(n);
        }
        boolean blocked = writer.blocked();
        if (blocked != writeInterest) {
            writeInterest = blocked;
            updateInterest();
        }
    }

    /** Sets the key's interest to what the session waits for on the socket. */
    private void updateInterest() {
        if (key == null || !key.isValid()) {
            return;
        }
        int ops = (readInterest ? SelectionKey.OP_READ : 0) | (writeInterest ? SelectionKey.OP_WRITE : 0);
        if (key.interestOps() != ops) {
            key.interestOps(ops);
            interestChanged = true;
        }
    }

    private void failed(Throwable t, long nowNs) {
        if (state == State.CLOSED) {
            return;
        }
        ProtocolException pe = session.describeFailure(t);
        if (pe != null && state == State.OPEN && channel.isOpen()) {
            queueError(pe.code(), pe.getMessage(), nowNs);
        } else {
            state(State.CLOSED, "failed: " + t);
        }
    }

    private void queueError(ErrorCode code, String message, long nowNs) {
        byte[] p = new ErrorMessage(code, message).encode();
        if (!writer.hasRoom(FrameWriter.frameSize(p.length))) {
            state(State.CLOSED, "no room for the error frame");
            return;
        }
        writer.frame(MessageType.ERROR, p);
        lingerUntilNanos = nowNs + Math.min(LINGER_NANOS, timeoutNanos);
        state(State.LINGERING, "sending " + code);
        try {
            linger(nowNs);
        } catch (IOException e) {
            state(State.CLOSED, "the error frame could not be sent: " + e);
        }
    }

    /** The worker is stopping: ends the session, telling the follower if its socket takes the frame at once. */
    @Override
    public void shutdown() {
        shutdown(ErrorCode.SHUTDOWN, "leader shutting down");
    }

    /** Ends the session now, telling the follower why if its socket takes the frame at once. Worker thread. */
    void shutdown(ErrorCode code, String message) {
        if (state == State.OPEN && channel.isOpen()) {
            session.closeReason(code + ": " + message);
            queueError(code, message, System.nanoTime());
        }
        state(State.CLOSED, "worker stopping");
    }

    /** Bytes written to the socket so far. Any thread. */
    long bytesOut() {
        return bytesOut;
    }

    @Override
    public boolean isDone() {
        return state == State.CLOSED;
    }

    private void state(State next, String reason) {
        if (state == next || state == State.CLOSED) {
            return;
        }
        LOG.debug("session of shard {}: {} -> {} ({})", session.shard(), state, next, reason);
        state = next;
        if (next == State.CLOSED) {
            if (key != null) {
                key.cancel();
            }
            session.ended();
        }
    }
}
