package dev.armdb.replication.follower;

import dev.armdb.replication.ReplicationMetrics;
import dev.armdb.replication.ReplicationTls;
import dev.armdb.replication.net.ByteTransport;
import dev.armdb.replication.net.FrameReader;
import dev.armdb.replication.net.FrameWriter;
import dev.armdb.replication.net.PlainTransport;
import dev.armdb.replication.net.SessionWorkers;
import dev.armdb.replication.net.TlsTransport;
import dev.armdb.replication.protocol.Ack;
import dev.armdb.replication.protocol.CaughtUp;
import dev.armdb.replication.protocol.ErrorCode;
import dev.armdb.replication.protocol.ErrorMessage;
import dev.armdb.replication.protocol.Heartbeat;
import dev.armdb.replication.protocol.MessageType;
import dev.armdb.replication.protocol.ProtocolException;
import dev.armdb.replication.protocol.ShardInfo;
import dev.armdb.replication.protocol.SyncRequest;
import dev.armdb.store.Store;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One shard's replication on the follower, as a state machine that one of the client's {@link SessionWorkers} drives
 * over a non-blocking socket: it connects to the leader, runs TLS (if configured) and the authenticated handshake,
 * hands every frame after it to the shard's {@link ShardApplier}, sends the acknowledgements the applier makes, and
 * reconnects with capped, jittered exponential backoff. Every wait is a deadline on the clock the worker passes in:
 * connect and peer timeouts, the applier's quiet interval (deferred acks after about 1 ms, idle acks at the heartbeat
 * interval), the backoff.
 *
 * <p>Design note: what a frame means for the shard (consistent points, forces, records, acks) lives in {@link
 * ShardApplier}, which has no socket or clock and which the deterministic simulation drives directly; this class owns
 * the connection, the handshake and the retries, and changes state only through {@link #state(State, String)}.
 *
 * <p>Threading: every method but {@link #status()}, {@link #bytesReceived()}, {@link #consistentAtStop()} and {@link
 * #settleOnStop()} runs on the session's worker. Once the session has ended ({@link State#STOPPED} or {@link
 * State#FAILED}, announced through the client's end callback) it never touches the shard again, so the client may
 * then settle it from its own thread.
 */
final class LeaderSession implements SessionWorkers.Session {
    private static final Logger LOG = LoggerFactory.getLogger(LeaderSession.class);
    /** Frames one call hands the applier, so one busy shard cannot starve the other shards of its worker. */
    private static final int FRAMES_PER_PASS = 16;
    /** How often a worker looks at a running index build if no wake-up came. */
    private static final long INDEX_BUILD_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    /** Transport reads one call makes, for the same reason. */
    private static final int READS_PER_PASS = 8;
    /** Inbound staging: many small frames per read; the rest of a large batch is read straight into its array. */
    static final int STAGING_BYTES = 64 << 10;
    /** Outbound: the SYNC_REQUEST, acks, a final ERROR. A leader that stops reading costs no more. */
    private static final int OUTBOUND_BYTES = 16 << 10;

    private static final Set<MessageType> CHALLENGE_FRAMES = EnumSet.of(MessageType.CHALLENGE, MessageType.ERROR);
    private static final Set<MessageType> SHARD_INFO_FRAMES = EnumSet.of(MessageType.SHARD_INFO, MessageType.ERROR);
    private static final Set<MessageType> STREAM_FRAMES =
            EnumSet.of(MessageType.SLOT_BATCH, MessageType.CAUGHT_UP, MessageType.HEARTBEAT, MessageType.ERROR);

    /** Where the session is. The status reports the coarser {@link #reported} name. */
    enum State {
        /** Created; no worker has taken it yet. */
        NEW("CONNECTING"),
        /** Waiting out the backoff before the next connection attempt. */
        BACKING_OFF("BACKING_OFF"),
        /** The TCP connection is being set up. */
        CONNECTING("CONNECTING"),
        /** Connected; the TLS handshake runs. */
        TLS_HANDSHAKE("CONNECTING"),
        /** The transport is ready; the leader's CHALLENGE is awaited. */
        AWAIT_CHALLENGE("CONNECTING"),
        /** The SYNC_REQUEST went out; the leader's SHARD_INFO is awaited. */
        AWAIT_SHARD_INFO("CONNECTING"),
        /** Applying a catch-up up to its CAUGHT_UP. */
        CATCHING_UP("CATCHING_UP"),
        /**
         * A first copy arrived whole (its CAUGHT_UP); its index is being built off the worker ({@link IndexBuild}).
         * The socket is not read meanwhile: what the leader sends next waits in it.
         */
        BUILDING_INDEX("CATCHING_UP"),
        /** Caught up; applying the live stream. */
        STREAMING("STREAMING"),
        /**
         * A permanent refusal by a leader that proved the secret (or with no secret configured), or the worker driving
         * the session stopped on its own: no more attempts.
         */
        FAILED("FAILED"),
        /** The client closed. */
        STOPPED("STOPPED");

        private final String reported;

        State(String reported) {
            this.reported = reported;
        }

        /** True from the transport's readiness to the end of the connection: frames flow. */
        boolean framed() {
            return this == AWAIT_CHALLENGE
                    || this == AWAIT_SHARD_INFO
                    || this == CATCHING_UP
                    || this == BUILDING_INDEX
                    || this == STREAMING;
        }

        /** True while frames are read and taken (framed, and no index build holds the shard). */
        boolean reading() {
            return framed() && this != BUILDING_INDEX;
        }

        /** True for the states no session leaves. */
        boolean ended() {
            return this == FAILED || this == STOPPED;
        }
    }

    private final ReplicationClient client;
    private final Store store;
    private final int shardId;
    private final InetSocketAddress leader;
    private final ReplicationClientConfig config;
    private final ReplicaState replicaState;
    private final ReplicationMetrics metrics;
    private final ShardApplier applier;
    private final LeaderHandshake handshake;
    private final Runnable onEnded;
    private final LongAdder bytesIn = new LongAdder();
    private final long heartbeatNanos;
    private final long peerTimeoutNanos;
    private final FrameReader reader;
    private final FrameWriter writer;
    private final ShardApplier.AckSink acks = this::sendAck;

    private volatile State state = State.NEW;
    private volatile boolean consistentAtStop;
    private volatile String lastError = "";

    private Selector selector;
    private SocketChannel channel;
    private ByteTransport transport;
    private SelectionKey key;
    /** When the state's wait ends (connect, TLS handshake, CHALLENGE). */
    private long deadlineNanos;
    /** When the next connection attempt is due (BACKING_OFF). */
    private long retryAtNanos;
    /** A first copy's index build (BUILDING_INDEX); null otherwise. */
    private IndexBuild indexBuild;

    private long backoffNanos;
    /** When the last whole frame arrived. */
    private long lastHeardNanos;
    /** When the applier's quiet interval started: the last frame, or the last quiet call. */
    private long quietFromNanos;

    private boolean authenticated;
    private boolean peerError;
    /** The term this connection's leader announced last (SHARD_INFO, HEARTBEAT) and this node accepted; -1: none. */
    private long leaderTerm = -1;
    /** An ACK that found the outbound buffer full (a leader reading nothing); it replaces earlier such ones. */
    private boolean ackPending;

    private long pendingAckLsn;
    private long pendingAckSeq;

    /** {@code onEnded} runs once, on the worker, when the session ends for good (stopped or failed). */
    LeaderSession(
            ReplicationClient client,
            Store store,
            int shardId,
            InetSocketAddress leader,
            ReplicationClientConfig config,
            ReplicaState replicaState,
            ReplicationMetrics metrics,
            byte[] nodeId,
            Runnable onEnded) {
        this.client = client;
        this.store = store;
        this.shardId = shardId;
        this.leader = leader;
        this.config = config;
        this.replicaState = replicaState;
        this.metrics = metrics;
        this.onEnded = onEnded;
        this.applier = new ShardApplier(shardId, StoreReplicaShard.of(store, shardId), replicaState, metrics);
        this.handshake = new LeaderHandshake(
                shardId, leader, config, LeaderHandshake.Position.of(shardId, replicaState, applier), metrics, nodeId);
        this.heartbeatNanos = Math.max(1, config.heartbeatInterval().toNanos());
        this.peerTimeoutNanos = config.peerTimeout().toNanos();
        this.backoffNanos = config.initialBackoff().toNanos();
        this.reader = frameReader(STAGING_BYTES);
        this.writer = new FrameWriter(ByteBuffer.allocate(OUTBOUND_BYTES).order(ByteOrder.LITTLE_ENDIAN));
    }

    /**
     * The reader of what a leader sends, with {@code stagingBytes} of staging, expecting the CHALLENGE. The
     * deterministic simulation reads the follower's inbound stream with it.
     */
    static FrameReader frameReader(int stagingBytes) {
        FrameReader r = new FrameReader(stagingBytes, stagingBytes, CHALLENGE_FRAMES, "");
        expectChallenge(r);
        return r;
    }

    /** The leader's first frame is its CHALLENGE (or an ERROR). */
    static void expectChallenge(FrameReader r) {
        r.accept(CHALLENGE_FRAMES, "as the leader's first frame (expected CHALLENGE)");
    }

    /** After the SYNC_REQUEST: a SHARD_INFO (or an ERROR). */
    static void expectShardInfo(FrameReader r) {
        r.accept(SHARD_INFO_FRAMES, "in answer to SYNC_REQUEST (expected SHARD_INFO)");
    }

    /** After the SHARD_INFO: the stream's frames. */
    static void expectStream(FrameReader r) {
        r.accept(STREAM_FRAMES, "from the leader after the handshake");
    }

    // ------------------------------------------------------------------------------------------ the worker's calls

    @Override
    public void adopted(Selector sel, long nowNs) {
        this.selector = sel;
        try {
            connect(nowNs);
        } catch (Throwable t) {
            failed(t, nowNs);
        }
    }

    @Override
    public int doWork(long nowNs, boolean stopping) {
        if (stopping) {
            stop();
            return 0;
        }
        try {
            return switch (state) {
                case NEW -> connect(nowNs);
                case BACKING_OFF -> nowNs - retryAtNanos >= 0 ? connect(nowNs) : 0;
                case CONNECTING, TLS_HANDSHAKE -> checkDeadline(nowNs);
                case AWAIT_CHALLENGE, AWAIT_SHARD_INFO, CATCHING_UP, STREAMING -> stream(nowNs);
                case BUILDING_INDEX -> indexBuilt(nowNs);
                case FAILED, STOPPED -> 0;
            };
        } catch (Throwable t) {
            failed(t, nowNs);
            return 1;
        }
    }

    @Override
    public void ready(SelectionKey k, long nowNs) {
        if (k != key || !k.isValid()) {
            return;
        }
        try {
            switch (state) {
                case CONNECTING -> {
                    if (k.isConnectable() && channel.finishConnect()) {
                        connected(nowNs);
                    }
                }
                case TLS_HANDSHAKE -> tlsHandshake(nowNs);
                case AWAIT_CHALLENGE, AWAIT_SHARD_INFO, CATCHING_UP, STREAMING -> {
                    if (k.isWritable()) {
                        flush();
                    }
                    if (k.isReadable()) {
                        receive(nowNs);
                    }
                }
                case BUILDING_INDEX -> {
                    if (k.isWritable()) {
                        flush();
                    }
                }
                default -> {
                    // no socket in the other states
                }
            }
        } catch (Throwable t) {
            failed(t, nowNs);
        }
    }

    @Override
    public long deadline(long nowNs) {
        return switch (state) {
            case NEW, FAILED, STOPPED -> nowNs;
            case BACKING_OFF -> retryAtNanos;
            case CONNECTING, TLS_HANDSHAKE -> deadlineNanos + 1;
            case AWAIT_CHALLENGE -> Math.min(deadlineNanos + 1, quietDeadline());
            case AWAIT_SHARD_INFO, CATCHING_UP, STREAMING ->
                Math.min(lastHeardNanos + peerTimeoutNanos + 1, quietDeadline());
            // the build's end wakes the worker (armWakeup); the poll only bounds a wake-up that came too early
            case BUILDING_INDEX -> nowNs + INDEX_BUILD_POLL_NANOS;
        };
    }

    /** The worker is about to block: a running index build wakes it when it ends. */
    @Override
    public boolean armWakeup(Runnable waker) {
        IndexBuild b = indexBuild;
        return b != null && b.armWakeup(waker);
    }

    @Override
    public void disarmWakeup(Runnable waker) {
        IndexBuild b = indexBuild;
        if (b != null) {
            b.disarmWakeup(waker);
        }
    }

    @Override
    public boolean isDone() {
        return state.ended();
    }

    /** The worker is stopping on its own (it failed, or the pool closes first): the shard is left stopped. */
    @Override
    public void shutdown() {
        if (!client.isClosed() && !state.ended()) {
            lastError = "INTERNAL: the replication worker driving this shard stopped";
            LOG.error("shard {}: replication from {} stopped: its worker stopped", shardId, leader);
            closeConnection();
            state(State.FAILED, "worker stopped");
            return;
        }
        stop();
    }

    // ------------------------------------------------------------------------------------------ connecting

    /** Opens a new connection to the leader. */
    private int connect(long nowNs) throws IOException {
        state(State.CONNECTING, "connecting to " + leader);
        deadlineNanos = nowNs + config.connectTimeout().toNanos();
        SocketChannel ch = SocketChannel.open();
        channel = ch;
        ch.configureBlocking(false);
        ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
        if (ch.connect(leader)) {
            connected(nowNs);
        } else {
            key = ch.register(selector, SelectionKey.OP_CONNECT, this);
        }
        return 1;
    }

    /** The TCP connection is up: TLS starts, or the replication handshake does. */
    private void connected(long nowNs) throws IOException {
        if (key == null) {
            key = channel.register(selector, SelectionKey.OP_READ, this);
        } else {
            key.interestOps(SelectionKey.OP_READ);
        }
        if (config.tls() == null) {
            transport = new PlainTransport(channel);
            transportReady(nowNs);
            return;
        }
        transport = new TlsTransport(channel, ReplicationTls.clientEngine(config.tls(), leader));
        deadlineNanos = nowNs + peerTimeoutNanos;
        state(State.TLS_HANDSHAKE, "connected");
        tlsHandshake(nowNs);
    }

    private void tlsHandshake(long nowNs) throws IOException {
        switch (transport.handshakeStep()) {
            case DONE -> transportReady(nowNs);
            case NEEDS_INPUT -> interest(SelectionKey.OP_READ);
            case NEEDS_OUTPUT -> interest(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
        }
    }

    /** Frames may flow: the leader speaks first (CHALLENGE). */
    private void transportReady(long nowNs) {
        backoffNanos = config.initialBackoff().toNanos();
        authenticated = false;
        peerError = false;
        ackPending = false;
        reader.reset();
        writer.clear();
        expectChallenge(reader);
        applier.connected();
        deadlineNanos = nowNs + peerTimeoutNanos;
        lastHeardNanos = nowNs;
        quietFromNanos = nowNs;
        interest(SelectionKey.OP_READ);
        state(State.AWAIT_CHALLENGE, "transport ready");
    }

    // ------------------------------------------------------------------------------------------ frames

    /** Takes what has arrived already, then the quiet interval and the timeouts. */
    private int stream(long nowNs) throws IOException {
        int work = 0;
        // past the peer timeout, the socket is read before the leader is called silent: a worker busy with another
        // shard (a long wipe or force) may not have read what the leader sent meanwhile
        if (reader.frameReady() || transport.inputBuffered() || nowNs - lastHeardNanos > peerTimeoutNanos) {
            work = receive(nowNs);
        }
        if (state.framed() && work == 0 && nowNs - quietDeadline() >= 0) {
            applier.onQuiet(nowNs, acks);
            quietFromNanos = nowNs;
            work = 1;
        }
        if (state.framed()) {
            checkDeadline(nowNs);
            if (!writer.isEmpty() || ackPending || transport.wantsWrite()) {
                flush();
            }
        }
        return work;
    }

    /**
     * Reads what the transport has (a few reads at most) and hands whole frames to the applier, at most {@link
     * #FRAMES_PER_PASS}.
     *
     * @return frames taken, plus one if input already taken from the socket is left for the next call
     */
    private int receive(long nowNs) throws IOException {
        int frames = 0;
        boolean drained = false;
        for (int reads = 0; state.reading(); reads++) {
            for (MessageType t; frames < FRAMES_PER_PASS && state.reading() && (t = reader.next()) != null; ) {
                frames++;
                frame(t, nowNs);
            }
            if (drained || frames >= FRAMES_PER_PASS || !state.reading() || reads >= READS_PER_PASS) {
                break;
            }
            int n = reader.fill(transport);
            if (n < 0) {
                throw new EOFException("peer closed the connection" + (reader.inputPending() ? " inside a frame" : ""));
            }
            if (n == 0) {
                break;
            }
            bytesIn.add(n);
            // a short read found the socket empty: a read after the frames would find nothing (one more system call
            // per wake-up), and bytes arriving meanwhile make the selector report the socket again
            drained = reader.lastFillShort();
        }
        if (!state.framed()) {
            return frames;
        }
        if (!writer.isEmpty() || ackPending || transport.wantsWrite()) {
            flush();
        }
        return frames + (reader.frameReady() || transport.inputBuffered() ? 1 : 0);
    }

    private void frame(MessageType type, long nowNs) throws IOException {
        lastHeardNanos = nowNs;
        quietFromNanos = nowNs;
        switch (state) {
            case AWAIT_CHALLENGE -> challenge(type, nowNs);
            case AWAIT_SHARD_INFO -> shardInfo(type, nowNs);
            case CATCHING_UP, STREAMING -> streamFrame(type, nowNs);
            default -> throw new IllegalStateException("a frame in state " + state);
        }
    }

    /** The leader's opening CHALLENGE: checked, and answered with the SYNC_REQUEST. */
    private void challenge(MessageType type, long nowNs) throws IOException {
        if (type == MessageType.ERROR) {
            throw leaderError();
        }
        SyncRequest req = handshake.answer(reader.payload());
        req.encode(writer.begin(MessageType.SYNC_REQUEST, req.length()));
        flush();
        expectShardInfo(reader);
        lastHeardNanos = nowNs;
        state(State.AWAIT_SHARD_INFO, "SYNC_REQUEST sent from LSN " + req.fromLsn());
    }

    /** The leader's SHARD_INFO: authenticated, its shape and term checked, then the applier prepares the catch-up. */
    private void shardInfo(MessageType type, long nowNs) throws IOException {
        if (type == MessageType.ERROR) {
            throw leaderError();
        }
        ShardInfo info = handshake.authenticate(reader.payload());
        authenticated = true;
        LeaderHandshake.checkShape(info, store.meta());
        checkTerm(info.term());
        client.leaderResp(info.respHost().isEmpty() ? leader.getHostString() : info.respHost(), info.respPort());
        store.persistReplicaMark();
        applier.onShardInfo(info, nowNs);
        expectStream(reader);
        state(State.CATCHING_UP, "SHARD_INFO announced " + info.mode());
    }

    private void streamFrame(MessageType type, long nowNs) throws IOException {
        ByteBuffer p = reader.payload();
        switch (type) {
            case SLOT_BATCH ->
                applier.onBatch(
                        p, reader.payloadArray(), reader.inputPending() || transport.inputBuffered(), nowNs, acks);
            case CAUGHT_UP -> {
                CaughtUp c = CaughtUp.decode(p);
                if (applier.indexToBuild()) {
                    indexBuild = IndexBuild.start(shardId, applier::buildIndex, c);
                    state(State.BUILDING_INDEX, "first copy complete to LSN " + c.lsn() + ", its index building");
                    interest(writeInterest());
                } else {
                    caughtUp(c, nowNs);
                }
            }
            case HEARTBEAT -> {
                Heartbeat heartbeat = Heartbeat.decode(p);
                // a higher term is durable before anything further is acknowledged
                checkTerm(heartbeat.term());
                applier.onHeartbeat(heartbeat.leaderLsn(), nowNs, acks);
            }
            case ERROR -> throw leaderError();
            default -> throw new IllegalStateException("the frame reader refuses " + type + " while streaming");
        }
    }

    private void caughtUp(CaughtUp c, long nowNs) throws IOException {
        applier.onCaughtUp(c, nowNs, acks);
        state(State.STREAMING, "caught up to LSN " + c.lsn());
    }

    /** Takes the CAUGHT_UP that started the index build once the build has ended, and reads the socket again. */
    private int indexBuilt(long nowNs) throws IOException {
        IndexBuild b = indexBuild;
        if (!b.done()) {
            return 0;
        }
        indexBuild = null;
        if (b.failure() != null) {
            failed(b.failure(), nowNs);
            return 1;
        }
        // the socket went unread while the index was built: the leader's silence counts from now
        lastHeardNanos = nowNs;
        quietFromNanos = nowNs;
        caughtUp(b.caughtUp(), nowNs);
        interest(SelectionKey.OP_READ | writeInterest());
        return 1 + stream(nowNs);
    }

    /**
     * Applies the node's term rule to a leader's term; a refusal (STALE_TERM) is told to the leader in an ERROR frame
     * before it ends the connection.
     */
    private void checkTerm(long announced) {
        try {
            client.termGuard().check(announced);
            leaderTerm = announced;
        } catch (ProtocolException e) {
            if (e.code() == ErrorCode.STALE_TERM) {
                metrics.staleTerm.increment();
            }
            sendErrorQuietly(e.code(), e.getMessage());
            throw e;
        }
    }

    private ProtocolException leaderError() {
        ErrorMessage err = ErrorMessage.decode(reader.payload());
        // frames after the handshake carry no proof either (without TLS): an ERROR may be forged at any time
        peerError = true;
        return new ProtocolException(err.code(), "leader refused: " + err.sanitized());
    }

    // ------------------------------------------------------------------------------------------ sending

    /** The applier's acknowledgement: queued and written at once, as far as the socket takes it. */
    private void sendAck(long appliedLsn, long batchSeq) throws IOException {
        if (writer.hasRoom(FrameWriter.frameSize(Ack.LENGTH))) {
            new Ack(appliedLsn, batchSeq).encode(writer.begin(MessageType.ACK, Ack.LENGTH));
        } else {
            pendingAckLsn = appliedLsn;
            pendingAckSeq = batchSeq;
            ackPending = true;
        }
        flush();
    }

    private void flush() throws IOException {
        if (ackPending && writer.hasRoom(FrameWriter.frameSize(Ack.LENGTH))) {
            new Ack(pendingAckLsn, pendingAckSeq).encode(writer.begin(MessageType.ACK, Ack.LENGTH));
            ackPending = false;
        }
        writer.flush(transport);
        interest((state.reading() ? SelectionKey.OP_READ : 0) | writeInterest());
    }

    private int writeInterest() {
        return writer.blocked() ? SelectionKey.OP_WRITE : 0;
    }

    /** Queues an ERROR frame and writes what the socket takes now; failures are ignored (the connection ends). */
    private void sendErrorQuietly(ErrorCode code, String message) {
        try {
            byte[] p = new ErrorMessage(code, message).encode();
            if (writer.hasRoom(FrameWriter.frameSize(p.length))) {
                writer.frame(MessageType.ERROR, p);
            }
            flush();
        } catch (IOException | RuntimeException ignored) {
            // the leader may already be gone
        }
    }

    private void interest(int ops) {
        if (key != null && key.isValid() && key.interestOps() != ops) {
            key.interestOps(ops);
        }
    }

    // ------------------------------------------------------------------------------------------ time

    /** When the applier wants {@link ShardApplier#onQuiet} if no frame arrives first. */
    private long quietDeadline() {
        return quietFromNanos + applier.quietAfterNanos(heartbeatNanos);
    }

    /** Ends the connection attempt or the connection whose wait ran out. */
    private int checkDeadline(long nowNs) throws IOException {
        switch (state) {
            case CONNECTING -> {
                if (nowNs - deadlineNanos > 0) {
                    throw new SocketTimeoutException("connect to " + leader + " timed out after "
                            + config.connectTimeout().toMillis() + " ms");
                }
            }
            case TLS_HANDSHAKE -> {
                if (nowNs - deadlineNanos > 0) {
                    throw new ProtocolException(
                            ErrorCode.TIMEOUT,
                            "TLS handshake with the leader not completed within "
                                    + config.peerTimeout().toMillis() + " ms");
                }
            }
            case AWAIT_CHALLENGE -> {
                if (nowNs - deadlineNanos > 0) {
                    throw new ProtocolException(
                            ErrorCode.TIMEOUT,
                            "leader sent no CHALLENGE within "
                                    + config.peerTimeout().toMillis() + " ms");
                }
            }
            case AWAIT_SHARD_INFO, CATCHING_UP, STREAMING -> {
                if (nowNs - lastHeardNanos > peerTimeoutNanos) {
                    throw new ProtocolException(
                            ErrorCode.TIMEOUT,
                            "leader silent for more than "
                                    + config.peerTimeout().toMillis() + " ms");
                }
            }
            default -> {
                // nothing to wait for
            }
        }
        return 0;
    }

    // ------------------------------------------------------------------------------------------ ending

    /**
     * Ends the connection after a failure: a permanent refusal by a trusted leader fails the shard, anything else
     * backs off and retries.
     */
    private void failed(Throwable t, long nowNs) {
        closeConnection();
        if (state.ended()) {
            return;
        }
        if (client.isClosed()) {
            state(State.STOPPED, "closed while failing: " + t);
            return;
        }
        switch (t) {
            case ProtocolException e -> {
                lastError = e.code() + ": " + e.getMessage();
                // with a secret, nothing a peer said before it proved the secret can be trusted, so a forged
                // refusal (or a fake leader) may delay this follower but never stop it
                boolean trusted = config.secret() == null || (authenticated && !peerError);
                if (e.code().permanent() && trusted) {
                    LOG.warn("shard {}: replication from {} stopped: {}", shardId, leader, e.getMessage());
                    state(State.FAILED, e.code().name());
                    return;
                }
                LOG.warn(
                        "shard {}: replication from {} interrupted{}: {}",
                        shardId,
                        leader,
                        trusted ? "" : " before the leader proved the secret (retrying)",
                        e.getMessage());
            }
            case SSLException e -> {
                lastError = "TLS: " + e.getMessage();
                LOG.warn("shard {}: TLS with {} failed: {}", shardId, leader, e.getMessage());
            }
            case IOException e -> {
                lastError = e.toString();
                LOG.info("shard {}: connection to {} lost: {}", shardId, leader, e.toString());
            }
            case RuntimeException e -> {
                lastError = e.toString();
                LOG.info("shard {}: connection to {} lost: {}", shardId, leader, e.toString());
            }
            default -> {
                lastError = "INTERNAL: " + t;
                LOG.error("shard {}: replication from {} failed", shardId, leader, t);
            }
        }
        backOff(nowNs);
    }

    /** Waits a jittered, doubling delay (capped) before the next attempt. */
    private void backOff(long nowNs) {
        long jittered = backoffNanos / 2 + ThreadLocalRandom.current().nextLong(backoffNanos / 2 + 1);
        retryAtNanos = nowNs + jittered;
        backoffNanos = Math.min(backoffNanos * 2, config.maxBackoff().toNanos());
        state(State.BACKING_OFF, "retry in " + TimeUnit.NANOSECONDS.toMillis(jittered) + " ms");
    }

    /**
     * The client closed: tells the leader (if the socket takes the frame at once) and ends the session. A node that
     * has seen a higher term than the leader's since it accepted it (a coordinator named another leader, and the node
     * is being re-pointed) says STALE_TERM rather than SHUTDOWN: the leader was replaced, and learns it from every
     * follower that leaves it so, not only from one whose next heartbeat happened to arrive first.
     */
    private void stop() {
        if (state.ended()) {
            return;
        }
        if (state.framed()) {
            long seen = client.termGuard().highest();
            if (leaderTerm >= 0 && seen > leaderTerm) {
                metrics.staleTerm.increment();
                sendErrorQuietly(
                        ErrorCode.STALE_TERM,
                        "follower leaving: it has seen term " + seen + ", above this leader's term " + leaderTerm);
            } else {
                sendErrorQuietly(ErrorCode.SHUTDOWN, "follower stopping");
            }
        }
        closeConnection();
        state(State.STOPPED, "client closed");
    }

    private void closeConnection() {
        if (indexBuild != null) {
            // the shard is the build's until it ends: a reconnect may wipe it
            indexBuild.await();
            indexBuild = null;
        }
        if (key != null) {
            key.cancel();
            key = null;
        }
        if (transport != null) {
            transport.close();
        } else if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // closing
            }
        }
        transport = null;
        channel = null;
        // a term belongs to the connection that announced it: the next one announces its own
        leaderTerm = -1;
    }

    /** The one place the session's state changes; {@code reason} goes to the debug log. */
    private void state(State next, String reason) {
        State was = state;
        if (was == next || was.ended()) {
            return;
        }
        state = next;
        LOG.debug("shard {}: {} -> {} ({})", shardId, was, next, reason);
        if (next.ended()) {
            onEnded.run();
        }
    }

    // ------------------------------------------------------------------------------------------ any thread

    /** A snapshot of this shard's replication. Any thread. */
    ShardStatus status() {
        long appliedNow = replicaState.appliedLsn(shardId);
        long lead = Math.max(applier.leaderLsn(), appliedNow);
        long since = applier.behindSinceNanos();
        long lagMillis =
                since == 0 || appliedNow >= lead ? 0 : TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - since);
        return new ShardStatus(
                shardId, state.reported, appliedNow, lead, lead - appliedNow, lagMillis, bytesIn.sum(), lastError);
    }

    /**
     * Settles the session after it ended (see {@link ShardApplier#settleOnStop()}): a follower stopped cleanly
     * reopens where it was, and promotion learns whether the shard stopped at a consistent point. Called once, after
     * the session ended, by the closing thread.
     */
    void settleOnStop() {
        consistentAtStop = applier.settleOnStop();
    }

    /** What {@link #settleOnStop()} found: true if the shard stopped at a consistent point. */
    boolean consistentAtStop() {
        return consistentAtStop;
    }

    long bytesReceived() {
        return bytesIn.sum();
    }
}
