package dev.armdb.replication.leader;

import dev.armdb.changes.ShardView;
import dev.armdb.replication.ReplicationMetrics;
import dev.armdb.replication.ReplicationSecret;
import dev.armdb.replication.follower.ReplicaLineage;
import dev.armdb.replication.net.ByteTransport;
import dev.armdb.replication.net.FrameChannel;
import dev.armdb.replication.protocol.Challenge;
import dev.armdb.replication.protocol.ErrorCode;
import dev.armdb.replication.protocol.MessageType;
import dev.armdb.replication.protocol.ProtocolException;
import dev.armdb.replication.protocol.ProtocolVersion;
import dev.armdb.replication.protocol.ShardInfo;
import dev.armdb.replication.protocol.ShardInfo.CatchUpMode;
import dev.armdb.replication.protocol.SyncRequest;
import dev.armdb.store.Store;
import java.io.EOFException;
import java.io.IOException;
import java.net.SocketException;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One follower's replication of one shard, on the leader: the handshake, then a {@link ShardStreamer} (the catch-up
 * and the live stream, a state machine) driven over the connection. The handshake runs on a virtual thread of its
 * own; the session is then driven by one of the server's {@link SessionWorkers} over a non-blocking socket
 * ({@link PooledStream}), through the same {@link ByteTransport} (plain TCP or TLS) the handshake used.
 */
final class FollowerSession implements Runnable, AckedFollowers.Acked {
    private static final Logger LOG = LoggerFactory.getLogger(FollowerSession.class);
    private static final java.security.SecureRandom NONCES = new java.security.SecureRandom();

    /** Where the session is. */
    enum State {
        /** The Challenge went out; the follower's SyncRequest (and proof) is awaited. */
        AWAIT_SYNC_REQUEST,
        CATCHING_UP,
        STREAMING,
        CLOSED
    }

    private final ReplicationServer server;
    private final Store store;
    private final FrameChannel channel;
    private final java.nio.channels.SocketChannel socket;
    private final ByteTransport transport;
    private final ReplicationServerConfig config;
    private final ReplicationMetrics metrics;
    private final long heartbeatNanos;
    private final long timeoutNanos;

    private volatile State state = State.AWAIT_SYNC_REQUEST;
    private volatile int shard = -1;
    private volatile String nodeId = "";
    private volatile String respHost = "";
    private volatile int respPort;
    private volatile long lastHeardNanos = System.nanoTime();
    private volatile String closeReason = "";
    private volatile java.util.concurrent.Future<?> watchdog;
    private final java.net.InetAddress source;

    private volatile ShardView view;
    private volatile ShardStreamer streamer;
    private volatile PooledStream stream;

    FollowerSession(
            ReplicationServer server,
            Store store,
            java.nio.channels.SocketChannel socket,
            ByteTransport transport,
            FrameChannel channel,
            ReplicationServerConfig config,
            java.net.InetAddress source) {
        this.socket = socket;
        this.transport = transport;
        this.server = server;
        this.source = source;
        this.store = store;
        this.channel = channel;
        this.config = config;
        this.metrics = server.metrics();
        this.heartbeatNanos = config.heartbeatInterval().toNanos();
        this.timeoutNanos = config.peerTimeout().toNanos();
        channel.stallLimitMillis(config.peerTimeout().toMillis());
    }

    /**
     * The handshake, on a virtual thread with small buffers: nothing a peer can exhaust is spent before it has
     * authenticated. The transport's own handshake (TLS) comes first, then the replication handshake over it; a good
     * one hands the session, with the same transport, to one of the server's workers ({@link PooledStream}). The
     * handshake as a whole is bounded by the server's watchdog, which closes the connection at the peer timeout.
     */
    @Override
    public void run() {
        boolean handedOff = false;
        try {
            channel.readTimeoutMillis((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(timeoutNanos)));
            transport.handshake();
            byte[] leaderNonce = sendChallenge();
            SyncRequest req = awaitSyncRequest();
            authenticate(req, leaderNonce);
            ShardInfo info = handshake(req);
            if (!server.authenticated(this)) {
                throw new SocketException("server closed");
            }
            stream = new PooledStream(
                    this,
                    streamer,
                    socket,
                    transport,
                    channel.takeBuffered(),
                    () -> streamer.start(info.mode(), req.fromLsn(), info.slotCount(), System.nanoTime()),
                    metrics,
                    timeoutNanos,
                    config.ackReadInterval().toNanos());
            state(State.CATCHING_UP, "handed to a worker");
            server.workers().adopt(stream);
            handedOff = true;
        } catch (Throwable e) {
            failed(e);
        } finally {
            if (!handedOff) {
                ended();
            }
        }
    }

    /** Records why the session failed, logs it and tells the follower where that makes sense. */
    private void failed(Throwable t) {
        ProtocolException e = describeFailure(t);
        if (e != null) {
            channel.sendErrorQuietly(e.code(), e.getMessage());
        }
    }

    /**
     * Records why the session failed and logs it.
     *
     * @return the error to send the follower, or null if none is due (the connection is gone, or TLS failed)
     */
    ProtocolException describeFailure(Throwable t) {
        switch (t) {
            case ProtocolException e -> {
                metrics.protocolErrors.increment();
                closeReason = e.code() + ": " + e.getMessage();
                LOG.warn("replication session from {} (shard {}) refused: {}", channel.remote(), shard, e.getMessage());
                return e;
            }
            case javax.net.ssl.SSLException e -> {
                closeReason = "TLS: " + e.getMessage();
                LOG.warn("replication session from {}: TLS failed: {}", channel.remote(), e.getMessage());
            }
            case EOFException e -> closed(e);
            case SocketException e -> closed(e);
            case IOException e -> {
                closeReason = "I/O error: " + e.getMessage();
                LOG.info("replication session from {} (shard {}) failed: {}", channel.remote(), shard, e.toString());
            }
            default -> {
                closeReason = "internal error: " + t;
                if (!server.isClosed() && !store.isClosed()) {
                    LOG.error("replication session from {} (shard {}) failed", channel.remote(), shard, t);
                    return new ProtocolException(
                            ErrorCode.INTERNAL, t.getClass().getSimpleName());
                }
            }
        }
        return null;
    }

    private void closed(IOException e) {
        closeReason = "connection closed: " + e.getMessage();
        LOG.debug("replication session from {} (shard {}) ended: {}", channel.remote(), shard, e.toString());
    }

    /** Ends the session: releases its feed cursor and connection and leaves the server's set. */
    void ended() {
        state(State.CLOSED, "ended");
        ShardStreamer s = streamer;
        if (s != null) {
            s.close();
        }
        transport.close();
        channel.close();
        server.sessionEnded(this);
    }

    /** Opens the session: the protocol version, whether a proof is required, and the nonce it must cover. */
    private byte[] sendChallenge() throws IOException {
        byte[] nonce = new byte[Challenge.NONCE_BYTES];
        NONCES.nextBytes(nonce);
        Challenge c = new Challenge(ProtocolVersion.CURRENT, config.secret() != null, nonce);
        channel.send(MessageType.CHALLENGE, Challenge.LENGTH, c::encode);
        return nonce;
    }

    /**
     * Refuses a follower whose proof does not match this leader's secret, or whose proof was made for a leader
     * address this leader does not answer on (a relay passing on another connection's handshake), before telling it
     * anything.
     */
    private void authenticate(SyncRequest req, byte[] leaderNonce) {
        ReplicationSecret secret = config.secret();
        if (secret == null) {
            return;
        }
        if (!secret.verifies(SyncRequest.PROOF_ROLE, leaderNonce, req.toBytes(), req.signedLength(), req.proof())) {
            metrics.authFailures.increment();
            throw new ProtocolException(
                    ErrorCode.AUTH_FAILED,
                    "follower " + channel.remote() + " failed authentication: its replication secret is missing or"
                            + " differs from the leader's");
        }
        if (!server.addresses().answersOn(channel.localAddress(), req.dialedHost(), req.dialedPort())) {
            metrics.authFailures.increment();
            throw new ProtocolException(
                    ErrorCode.AUTH_FAILED,
                    "follower " + channel.remote() + " dialed " + req.dialedHost() + ":" + req.dialedPort()
                            + ", which is not this leader (it answers on " + channel.localAddress()
                            + " and advertises " + config.advertise() + "): a relay, or a name missing from the"
                            + " leader's --repl-advertise");
        }
    }

    private SyncRequest awaitSyncRequest() throws IOException {
        channel.readTimeoutMillis((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(timeoutNanos)));
        MessageType type = channel.receive();
        if (type != MessageType.SYNC_REQUEST) {
            throw new ProtocolException(ErrorCode.MALFORMED, "expected SYNC_REQUEST as first frame, got " + type);
        }
        return SyncRequest.decode(channel.payload());
    }

    private ShardInfo handshake(SyncRequest req) throws IOException {
        nodeId = java.util.HexFormat.of().formatHex(req.nodeId());
        respHost = req.respHost().isEmpty() ? channel.remoteHost() : req.respHost();
        respPort = req.respPort();
        if (req.protocolVersion() != ProtocolVersion.CURRENT) {
            throw new ProtocolException(
                    ErrorCode.PROTOCOL_VERSION,
                    "protocol version mismatch: leader " + ProtocolVersion.CURRENT + ", follower "
                            + req.protocolVersion());
        }
        if (req.shard() < 0 || req.shard() >= store.shardCount()) {
            throw new ProtocolException(
                    ErrorCode.INVALID_SHARD,
                    "invalid shard id " + req.shard() + ": the leader has shards 0.." + (store.shardCount() - 1));
        }
        shard = req.shard();
        view = store.view(shard);
        boolean sameDb = Arrays.equals(req.leaderDatabaseId(), store.meta().databaseId());
        // a position synced before an unclean stop of this leader may hold writes the leader lost (and whose LSNs
        // it has reused since): only a full copy is safe then
        boolean untrusted = !store.trustsEpoch(req.leaderEpoch());
        // a follower of the leader this node was promoted from, holding nothing newer than what this node had
        // applied from it, holds a prefix of this node's history: a scan of what changed since catches it up
        ReplicaLineage lineage = server.lineage();
        boolean inherited = !sameDb
                && lineage != null
                && store.trustsEpoch(lineage.promotionEpoch())
                && lineage.inherits(
                        req.shard(), req.leaderDatabaseId(), req.leaderEpoch(), req.fromLsn(), req.heldLsn());
        CatchUpMode chosen = ShardStreamer.choose(
                inherited,
                sameDb,
                untrusted,
                req.fromLsn(),
                view.lastLsn(),
                view.feed().covers(req.fromLsn()));
        ShardStreamer s = new ShardStreamer(view, metrics, config.batchBytes(), config.window(), heartbeatNanos);
        streamer = s;
        // register the feed position before reading the slot count and before looking at any slot: every slot
        // allocated later is reached through the feed, so a scan of the slots counted here is enough
        CatchUpMode mode = s.open(chosen, req.fromLsn());
        long leaderLsn = view.lastLsn();
        ShardInfo info = new ShardInfo(
                store.shardCount(),
                store.meta().keySize(),
                store.meta().valueSize(),
                view.slotSize(),
                store.meta().routing().code(),
                view.slotCount(),
                store.meta().databaseId(),
                leaderLsn,
                mode,
                store.epoch(),
                store.term(),
                SyncRequest.announcedHost(config.respAddress()),
                SyncRequest.announcedPort(config.respAddress()),
                new byte[ReplicationSecret.PROOF_BYTES]);
        if (config.secret() != null) {
            info = info.withProof(config.secret()
                    .proof(ShardInfo.PROOF_ROLE, req.nonce(), req.toBytes(), info.toBytes(), info.signedLength()));
        }
        ShardInfo answer = info;
        channel.send(MessageType.SHARD_INFO, answer.length(), answer::encode);
        lastHeardNanos = System.nanoTime();
        LOG.info(
                "follower {} ({}) syncing shard {} from LSN {}: {}{}",
                nodeId,
                channel.remote(),
                shard,
                req.fromLsn(),
                mode,
                inherited ? " (it follows the leader this node was promoted from)" : "");
        return answer;
    }

    /** Follows the streamer's phase. */
    void phase(ShardStreamer.Phase p) {
        State next = p == ShardStreamer.Phase.STREAMING ? State.STREAMING : State.CATCHING_UP;
        if (state != next) {
            state(next, "stream phase " + p);
        }
    }

    /** The one place the session's state changes; {@code reason} goes to the debug log. */
    private void state(State next, String reason) {
        State was = state;
        if (was == next || was == State.CLOSED) {
            return;
        }
        state = next;
        LOG.debug("replication session from {} (shard {}): {} -> {} ({})", channel.remote(), shard, was, next, reason);
    }

    /** A whole frame arrived from the follower at {@code nowNs}. */
    void heard(long nowNs) {
        lastHeardNanos = nowNs;
    }

    /** True while someone waits for acks: the session reads them as they arrive. Any thread. */
    boolean acksWanted() {
        return server.acksWanted();
    }

    /** The follower acknowledged something: wakes the server's waiters. */
    void acked() {
        server.acked();
    }

    /** The leader's term, for heartbeats. */
    long term() {
        return store.term();
    }

    /** Records why the session ended, for status reports. */
    void closeReason(String reason) {
        closeReason = reason;
    }

    /** Closes the socket from any thread: a handshake blocked on it fails, a worker finds it closed. */
    void close() {
        channel.close();
    }

    /** A snapshot of this session for status reports. */
    FollowerStatus status() {
        ShardView v = view;
        long leaderLsn = v == null ? 0 : v.lastLsn();
        return new FollowerStatus(
                shard,
                nodeId,
                channel.remote(),
                respHost,
                respPort,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastHeardNanos),
                state.name(),
                ackedLsn(),
                Math.max(0, leaderLsn - ackedLsn()),
                channel.bytesOut() + (stream == null ? 0 : stream.bytesOut()),
                closeReason);
    }

    @Override
    public int shard() {
        return shard;
    }

    /** The address the connection came from. */
    java.net.InetAddress source() {
        return source;
    }

    void watchdog(java.util.concurrent.Future<?> f) {
        watchdog = f;
    }

    void cancelWatchdog() {
        java.util.concurrent.Future<?> f = watchdog;
        if (f != null) {
            f.cancel(false);
        }
    }

    /** Called by the watchdog at the peer timeout: a handshake still running then is cut off. */
    void handshakeExpired() {
        if (state == State.AWAIT_SYNC_REQUEST && !server.isClosed()) {
            closeReason = "TIMEOUT: handshake not completed within "
                    + config.peerTimeout().toMillis() + " ms";
            LOG.info("replication connection from {} dropped: {}", channel.remote(), closeReason);
            channel.close();
        }
    }

    /** The follower's node id, hex; empty before the handshake. */
    @Override
    public String nodeId() {
        return nodeId;
    }

    @Override
    public long ackedLsn() {
        ShardStreamer s = streamer;
        return s == null ? 0 : s.ackedLsn();
    }

    State state() {
        return state;
    }

    @Override
    public boolean open() {
        return state != State.CLOSED;
    }
}
