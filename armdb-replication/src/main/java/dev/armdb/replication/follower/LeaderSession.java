package dev.armdb.replication.follower;

import dev.armdb.replication.ReplicationMetrics;
import dev.armdb.replication.ReplicationSecret;
import dev.armdb.replication.ReplicationTls;
import dev.armdb.replication.protocol.Ack;
import dev.armdb.replication.protocol.CaughtUp;
import dev.armdb.replication.protocol.Challenge;
import dev.armdb.replication.protocol.ErrorCode;
import dev.armdb.replication.protocol.ErrorMessage;
import dev.armdb.replication.protocol.FrameChannel;
import dev.armdb.replication.protocol.Heartbeat;
import dev.armdb.replication.protocol.MessageType;
import dev.armdb.replication.protocol.ProtocolException;
import dev.armdb.replication.protocol.ProtocolVersion;
import dev.armdb.replication.protocol.ShardInfo;
import dev.armdb.replication.protocol.SyncRequest;
import dev.armdb.store.Store;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One shard's replication on the follower: connects to the leader, handshakes, applies slot batches, records
 * and acknowledges the applied LSN, and reconnects with capped, jittered exponential backoff. Runs on its own
 * thread; status is readable from any thread.
 */
final class LeaderSession implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(LeaderSession.class);
    private static final java.security.SecureRandom NONCES = new java.security.SecureRandom();

    /** Where the session is. */
    enum State {
        CONNECTING,
        CATCHING_UP,
        STREAMING,
        BACKING_OFF,
        FAILED,
        STOPPED
    }

    private final ReplicationClient client;
    private final Store store;
    private final int shardId;
    private final InetSocketAddress leader;
    private final ReplicationClientConfig config;
    private final ReplicaState replicaState;
    private final ReplicationMetrics metrics;
    private final byte[] nodeId;
    private final ShardApplier applier;
    private final LongAdder bytesIn = new LongAdder();
    private final LongAdder bytesOut = new LongAdder();

    private volatile State state = State.CONNECTING;
    private volatile boolean consistentAtStop;
    private volatile String lastError = "";
    private volatile FrameChannel channel;
    private volatile Thread thread;

    private byte[] followerNonce;
    private byte[] sentRequest;
    private boolean authenticated;
    private boolean peerError;

    LeaderSession(
            ReplicationClient client,
            Store store,
            int shardId,
            InetSocketAddress leader,
            ReplicationClientConfig config,
            ReplicaState replicaState,
            ReplicationMetrics metrics,
            byte[] nodeId) {
        this.client = client;
        this.store = store;
        this.shardId = shardId;
        this.leader = leader;
        this.config = config;
        this.replicaState = replicaState;
        this.metrics = metrics;
        this.nodeId = nodeId;
        this.applier = new ShardApplier(shardId, StoreReplicaShard.of(store, shardId), replicaState, metrics);
    }

    @Override
    public void run() {
        thread = Thread.currentThread();
        long backoff = config.initialBackoff().toNanos();
        while (!client.isClosed()) {
            state = State.CONNECTING;
            try (Socket plain = new Socket()) {
                plain.connect(leader, (int) config.connectTimeout().toMillis());
                plain.setSoTimeout((int) config.peerTimeout().toMillis());
                Socket socket = ReplicationTls.clientSocket(config.tls(), plain, leader);
                FrameChannel ch = new FrameChannel(socket, bytesIn, bytesOut);
                ch.stallLimitMillis(config.peerTimeout().toMillis());
                channel = ch;
                backoff = config.initialBackoff().toNanos();
                follow(ch);
            } catch (ProtocolException e) {
                lastError = e.code() + ": " + e.getMessage();
                // with a secret, nothing a peer said before it proved the secret can be trusted, so a forged
                // refusal (or a fake leader) may delay this follower but never stop it
                boolean trusted = config.secret() == null || (authenticated && !peerError);
                if (e.code().permanent() && trusted) {
                    state = State.FAILED;
                    LOG.warn("shard {}: replication from {} stopped: {}", shardId, leader, e.getMessage());
                    return;
                }
                LOG.warn(
                        "shard {}: replication from {} interrupted{}: {}",
                        shardId,
                        leader,
                        trusted ? "" : " before the leader proved the secret (retrying)",
                        e.getMessage());
            } catch (javax.net.ssl.SSLException e) {
                if (client.isClosed()) {
                    break;
                }
                lastError = "TLS: " + e.getMessage();
                LOG.warn("shard {}: TLS with {} failed: {}", shardId, leader, e.getMessage());
            } catch (IOException | RuntimeException e) {
                if (client.isClosed()) {
                    break;
                }
                lastError = e.toString();
                LOG.info("shard {}: connection to {} lost: {}", shardId, leader, e.toString());
            } finally {
                channel = null;
            }
            if (client.isClosed()) {
                break;
            }
            state = State.BACKING_OFF;
            long jittered = backoff / 2 + ThreadLocalRandom.current().nextLong(backoff / 2 + 1);
            LockSupport.parkNanos(this, jittered);
            backoff = Math.min(backoff * 2, config.maxBackoff().toNanos());
        }
        state = State.STOPPED;
    }

    private void follow(FrameChannel ch) throws IOException {
        authenticated = false;
        peerError = false;
        ch.readTimeoutMillis(heartbeatMillis());
        applier.connected();
        Challenge challenge = awaitChallenge(ch);
        followerNonce = new byte[Challenge.NONCE_BYTES];
        NONCES.nextBytes(followerNonce);
        SyncRequest req = new SyncRequest(
                ProtocolVersion.CURRENT,
                shardId,
                replicaState.leaderDatabaseId(shardId),
                applier.fromLsn(),
                nodeId,
                replicaState.leaderEpoch(shardId),
                applier.heldLsn(),
                followerNonce,
                leader.getHostString(),
                leader.getPort(),
                SyncRequest.announcedHost(config.respAddress()),
                SyncRequest.announcedPort(config.respAddress()),
                new byte[ReplicationSecret.PROOF_BYTES]);
        if (config.secret() != null) {
            req = req.withProof(config.secret()
                    .proof(SyncRequest.PROOF_ROLE, challenge.nonce(), req.toBytes(), req.signedLength()));
        }
        SyncRequest request = req;
        sentRequest = request.toBytes();
        ch.send(MessageType.SYNC_REQUEST, request.length(), request::encode);
        ShardApplier.AckSink acks = (lsn, seq) -> ch.send(MessageType.ACK, Ack.LENGTH, new Ack(lsn, seq)::encode);
        long lastHeard = System.nanoTime();
        boolean handshaken = false;
        while (!client.isClosed()) {
            MessageType type;
            // a deferred ack goes out when nothing more arrives within its delay
            ch.readTimeoutMillis((int) Math.max(
                    1,
                    TimeUnit.NANOSECONDS.toMillis(
                            applier.quietAfterNanos(config.heartbeatInterval().toNanos()))));
            try {
                type = ch.receive();
            } catch (SocketTimeoutException e) {
                if (System.nanoTime() - lastHeard > config.peerTimeout().toNanos()) {
                    throw new ProtocolException(
                            ErrorCode.TIMEOUT,
                            "leader silent for more than "
                                    + config.peerTimeout().toMillis() + " ms");
                }
                applier.onQuiet(System.nanoTime(), acks);
                continue;
            }
            long now = System.nanoTime();
            lastHeard = now;
            if (!handshaken) {
                expectShardInfo(type, ch, now);
                handshaken = true;
                state = State.CATCHING_UP;
                continue;
            }
            switch (type) {
                case SLOT_BATCH -> applier.onBatch(ch.payload(), ch.payloadArray(), ch.inputPending(), now, acks);
                case CAUGHT_UP -> {
                    applier.onCaughtUp(CaughtUp.decode(ch.payload()), now, acks);
                    state = State.STREAMING;
                }
                case HEARTBEAT -> {
                    Heartbeat heartbeat = Heartbeat.decode(ch.payload());
                    // a higher term is durable before anything further is acknowledged
                    client.termGuard().check(heartbeat.term(), ch);
                    applier.onHeartbeat(heartbeat.leaderLsn(), now, acks);
                }
                case ERROR -> throw leaderError(ch);
                default ->
                    throw new ProtocolException(
                            ErrorCode.MALFORMED, "unexpected " + type + " from the leader after the handshake");
            }
        }
    }

    /**
     * Reads the leader's opening Challenge and checks that both sides agree on authentication: a follower with a
     * secret never follows a leader that cannot prove it holds the same one.
     */
    private Challenge awaitChallenge(FrameChannel ch) throws IOException {
        ch.readTimeoutMillis((int) Math.max(1, config.peerTimeout().toMillis()));
        MessageType type;
        try {
            type = ch.receive();
        } catch (SocketTimeoutException e) {
            throw new ProtocolException(
                    ErrorCode.TIMEOUT,
                    "leader sent no CHALLENGE within " + config.peerTimeout().toMillis() + " ms");
        } finally {
            ch.readTimeoutMillis(heartbeatMillis());
        }
        if (type == MessageType.ERROR) {
            throw leaderError(ch);
        }
        if (type != MessageType.CHALLENGE) {
            throw new ProtocolException(
                    ErrorCode.MALFORMED, "expected CHALLENGE as the leader's first frame, got " + type);
        }
        Challenge c = Challenge.decode(ch.payload());
        if (config.secret() != null && !c.authRequired()) {
            throw new ProtocolException(
                    ErrorCode.AUTH_FAILED,
                    "leader " + leader + " has no replication secret, so it cannot prove it is the leader this"
                            + " follower's secret expects; refusing to follow it");
        }
        if (config.secret() == null && c.authRequired()) {
            throw new ProtocolException(
                    ErrorCode.AUTH_FAILED,
                    "leader " + leader + " requires a replication secret; give this follower the leader's secret");
        }
        return c;
    }

    /** Refuses a ShardInfo whose proof does not match this follower's secret (a leader without the secret). */
    private void authenticateLeader(ShardInfo info) {
        ReplicationSecret secret = config.secret();
        if (secret == null) {
            return;
        }
        if (!secret.verifies(
                ShardInfo.PROOF_ROLE, followerNonce, sentRequest, info.toBytes(), info.signedLength(), info.proof())) {
            metrics.authFailures.increment();
            throw new ProtocolException(
                    ErrorCode.AUTH_FAILED,
                    "leader " + leader + " failed authentication: its replication secret differs from this follower's");
        }
    }

    private int heartbeatMillis() {
        return (int) Math.max(1, config.heartbeatInterval().toMillis());
    }

    private void expectShardInfo(MessageType type, FrameChannel ch, long nowNs) {
        if (type == MessageType.ERROR) {
            throw leaderError(ch);
        }
        if (type != MessageType.SHARD_INFO) {
            throw new ProtocolException(ErrorCode.MALFORMED, "expected SHARD_INFO, got " + type);
        }
        ShardInfo info = ShardInfo.decode(ch.payload());
        authenticateLeader(info);
        authenticated = true;
        checkShape(info);
        client.termGuard().check(info.term(), ch);
        client.leaderResp(info.respHost().isEmpty() ? leader.getHostString() : info.respHost(), info.respPort());
        store.persistReplicaMark();
        applier.onShardInfo(info, nowNs);
    }

    private void checkShape(ShardInfo info) {
        var meta = store.meta();
        mismatch("shard count", info.shardCount(), meta.shardCount());
        mismatch("key size", info.keySize(), meta.keySize());
        mismatch("value size", info.valueSize(), meta.valueSize());
        mismatch("slot size", info.slotSize(), meta.slotSize());
        mismatch("shard routing", info.routing(), meta.routing().code());
    }

    private static void mismatch(String what, int leaderValue, int followerValue) {
        if (leaderValue != followerValue) {
            throw new ProtocolException(
                    ErrorCode.MISMATCH,
                    what + " mismatch: leader " + leaderValue + ", follower " + followerValue
                            + "; this follower cannot replicate that leader");
        }
    }

    private ProtocolException leaderError(FrameChannel ch) {
        ErrorMessage err = ErrorMessage.decode(ch.payload());
        // frames after the handshake carry no proof either (without TLS): an ERROR may be forged at any time
        peerError = true;
        return new ProtocolException(err.code(), "leader refused: " + err.sanitized());
    }

    /** A snapshot of this shard's replication. Any thread. */
    ShardStatus status() {
        long appliedNow = replicaState.appliedLsn(shardId);
        long lead = Math.max(applier.leaderLsn(), appliedNow);
        long since = applier.behindSinceNanos();
        long lagMillis =
                since == 0 || appliedNow >= lead ? 0 : TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - since);
        return new ShardStatus(
                shardId, state.name(), appliedNow, lead, lead - appliedNow, lagMillis, bytesIn.sum(), lastError);
    }

    /** Ends the current connection; the thread notices the client is closed and stops. */
    void stop() {
        FrameChannel ch = channel;
        if (ch != null) {
            ch.sendErrorAndClose(ErrorCode.SHUTDOWN, "follower stopping");
        }
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    /**
     * Settles the session after its thread ended (see {@link ShardApplier#settleOnStop()}): a follower stopped
     * cleanly reopens where it was, and promotion learns whether the shard stopped at a consistent point. Called once,
     * after the thread ended.
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
