package dev.armdb.replication.follower;

import dev.armdb.Durability;
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
import dev.armdb.replication.protocol.SlotBatchLayout;
import dev.armdb.replication.protocol.SyncRequest;
import dev.armdb.store.Shard;
import dev.armdb.store.SlotLayout;
import dev.armdb.store.Store;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.Arrays;
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
    /** At most this many batches go unacknowledged while more are queued (a quarter of the default window). */
    private static final int ACK_EVERY_BATCHES = 4;
    /** At most this long between acks while batches keep arriving. */
    private static final long ACK_MAX_DELAY_NANOS = 1_000_000;
    /**
     * Under GROUP, group intervals a consistent point waits for the collection's group commit before the session
     * forces the shard itself (a group commit that fell behind, e.g. many shards each forcing slowly).
     */
    private static final int GROUP_FORCE_PATIENCE = 10;

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
    private final Shard shard;
    private final int shardId;
    private final InetSocketAddress leader;
    private final ReplicationClientConfig config;
    private final ReplicaState replicaState;
    private final ReplicationMetrics metrics;
    private final byte[] nodeId;
    private final LongAdder bytesIn = new LongAdder();
    private final LongAdder bytesOut = new LongAdder();
    private final java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    private final java.util.function.LongPredicate forcedSince;

    private volatile State state = State.CONNECTING;
    private volatile long leaderLsn;
    /** The newest consistent point this session reached (see {@link #advanceTo}); -1 before the first. */
    private volatile long consistentLsn = -1;

    private volatile boolean consistentAtStop;

    private volatile long behindSinceNanos;
    private volatile String lastError = "";
    private volatile FrameChannel channel;
    private volatile Thread thread;

    private long applied;
    private ShardInfo info;
    private long knownLeaderLsn;
    private long lastBatchSeq;
    private boolean caughtUp;
    /** This connection copies the shard from scratch (its copy mark is set until CAUGHT_UP). */
    private boolean copying;

    private long lastAckedBatchSeq;
    private long lastAckedLsn;
    private long lastAckNanos;
    private final DurablePoints durablePoints = new DurablePoints();
    private boolean ackDeferred;
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
        this.shard = store.shard(shardId);
        this.shardId = shardId;
        this.leader = leader;
        this.config = config;
        this.replicaState = replicaState;
        this.metrics = metrics;
        this.nodeId = nodeId;
        this.forcedSince = shard::forcedSince;
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
        ackDeferred = false;
        authenticated = false;
        peerError = false;
        ch.readTimeoutMillis(heartbeatMillis());
        applied = replicaState.appliedLsn(shardId);
        lastBatchSeq = 0;
        lastAckedBatchSeq = 0;
        lastAckedLsn = -1;
        durablePoints.clear();
        caughtUp = false;
        copying = false;
        Challenge challenge = awaitChallenge(ch);
        followerNonce = new byte[Challenge.NONCE_BYTES];
        NONCES.nextBytes(followerNonce);
        SyncRequest req = new SyncRequest(
                ProtocolVersion.CURRENT,
                shardId,
                replicaState.leaderDatabaseId(shardId),
                applied,
                nodeId,
                replicaState.leaderEpoch(shardId),
                Math.max(applied, shard.lastLsn()),
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
        long lastHeard = System.nanoTime();
        ShardInfo info = null;
        while (!client.isClosed()) {
            MessageType type;
            try {
                type = ch.receive();
            } catch (SocketTimeoutException e) {
                if (System.nanoTime() - lastHeard > config.peerTimeout().toNanos()) {
                    throw new ProtocolException(
                            ErrorCode.TIMEOUT,
                            "leader silent for more than "
                                    + config.peerTimeout().toMillis() + " ms");
                }
                if (info != null) {
                    // a deferred ack's delay ran out (the stream paused), or the leader is idle
                    maybeForceAndAck(ch, !ackDeferred);
                }
                continue;
            }
            lastHeard = System.nanoTime();
            if (info == null) {
                info = expectShardInfo(type, ch);
                continue;
            }
            switch (type) {
                case SLOT_BATCH -> applyBatch(ch);
                case CAUGHT_UP -> caughtUp(ch, CaughtUp.decode(ch.payload()));
                case HEARTBEAT -> {
                    leaderLsn = Heartbeat.decode(ch.payload()).leaderLsn();
                    knownLeaderLsn = Math.max(knownLeaderLsn, leaderLsn);
                    trackLag();
                    maybeForceAndAck(ch, true);
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

    private ShardInfo expectShardInfo(MessageType type, FrameChannel ch) {
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
        client.leaderResp(info.respHost().isEmpty() ? leader.getHostString() : info.respHost(), info.respPort());
        store.persistReplicaMark();
        leaderLsn = info.leaderLsn();
        this.info = info;
        knownLeaderLsn = info.leaderLsn();
        boolean otherDb = !Arrays.equals(info.databaseId(), replicaState.leaderDatabaseId(shardId));
        boolean full = info.mode() == ShardInfo.CatchUpMode.FULL
                || (applied == 0 && shard.slotCount() > 0)
                || store.copyIncomplete(shardId);
        copying = full || (applied == 0 && info.mode() != ShardInfo.CatchUpMode.BACKLOG);
        if (copying) {
            // durable before the first byte changes: a crash from here to CAUGHT_UP empties the shard on reopen
            store.beginCopy(shardId);
        }
        if (full) {
            LOG.info(
                    "shard {}: full resync from {} (leader database {}, leader LSN {}, local LSN {})",
                    shardId,
                    leader,
                    java.util.HexFormat.of().formatHex(info.databaseId()),
                    info.leaderLsn(),
                    applied);
            shard.wipe();
            metrics.resyncsFull.increment();
        }
        if (full || otherDb) {
            replicaState.resetTo(shardId, info.databaseId());
            applied = 0;
        }
        // what is applied from here on is the history of this leader epoch
        replicaState.leaderEpoch(shardId, info.epoch());
        if (applied == 0 && shard.slotCount() == 0 && info.mode() != ShardInfo.CatchUpMode.BACKLOG) {
            // a first copy: images go straight to their slots and the index is built once at CAUGHT_UP
            shard.beginBulkLoad();
        }
        state = State.CATCHING_UP;
        trackLag();
        return info;
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

    private void applyBatch(FrameChannel ch) throws IOException {
        ByteBuffer p = ch.payload();
        byte[] bytes = ch.payloadArray();
        int slotSize = store.meta().slotSize();
        int entry = SlotBatchLayout.entrySize(slotSize);
        if (p.remaining() < SlotBatchLayout.HEADER_SIZE) {
            throw new ProtocolException(
                    ErrorCode.MALFORMED,
                    "SLOT_BATCH payload must be at least " + SlotBatchLayout.HEADER_SIZE + " bytes, got "
                            + p.remaining());
        }
        long seq = p.getLong(SlotBatchLayout.SEQ_OFFSET);
        long upTo = p.getLong(SlotBatchLayout.UP_TO_LSN_OFFSET);
        int count = p.getInt(SlotBatchLayout.COUNT_OFFSET);
        long expected = SlotBatchLayout.HEADER_SIZE + (long) count * entry;
        if (count < 0 || expected != p.remaining()) {
            throw new ProtocolException(
                    ErrorCode.MALFORMED,
                    "SLOT_BATCH count " + count + " needs " + expected + " payload bytes, got " + p.remaining());
        }
        long slotBound = slotIdBound(upTo);
        for (int i = 0, at = SlotBatchLayout.HEADER_SIZE; i < count; i++, at += entry) {
            int slot = p.getInt(at);
            if (slot < 0 || slot >= slotBound) {
                throw new ProtocolException(
                        ErrorCode.MALFORMED,
                        "SLOT_BATCH entry " + i + ": slot id must be in 0.." + (slotBound - 1)
                                + " (SHARD_INFO's slot count plus one per leader LSN since), got " + slot);
            }
            if (!SlotLayout.imageCrcMatches(crc, bytes, at + SlotBatchLayout.ENTRY_HEADER_SIZE, slotSize)) {
                throw new ProtocolException(
                        ErrorCode.MALFORMED, "SLOT_BATCH entry " + i + " (slot " + slot + ") fails its CRC");
            }
        }
        try {
            shard.applyImages(bytes, SlotBatchLayout.HEADER_SIZE, count, entry, true);
        } catch (IllegalArgumentException e) {
            throw new ProtocolException(ErrorCode.MALFORMED, "SLOT_BATCH rejected: " + e.getMessage());
        }
        metrics.slotsApplied.add(count);
        lastBatchSeq = seq;
        if (caughtUp) {
            advanceTo(upTo);
            leaderLsn = Math.max(leaderLsn, upTo);
        }
        trackLag();
        // coalesce acks (each one wakes a leader thread): at most ACK_EVERY_BATCHES batches or ACK_MAX_DELAY_NANOS
        // go unacknowledged, so the leader's window never stalls and a WAIT waits at most that much longer
        if (seq - lastAckedBatchSeq >= ACK_EVERY_BATCHES || System.nanoTime() - lastAckNanos >= ACK_MAX_DELAY_NANOS) {
            maybeForceAndAck(ch, false);
        } else {
            if (store.config().durability() == Durability.NONE && caughtUp) {
                replicaState.appliedLsn(shardId, applied, false);
            }
            if (!ch.inputPending() && !ackDeferred) {
                // nothing more queued: the ack goes out when the next read finds nothing within the delay
                ackDeferred = true;
                ch.readTimeoutMillis((int) (ACK_MAX_DELAY_NANOS / 1_000_000));
            }
        }
    }

    /**
     * The first slot id a batch may not name: SHARD_INFO's slot count plus one per LSN the leader is known to have
     * reached since (each LSN allocates at most one new slot), capped by the configured maximum. A leader that
     * names a slot beyond it is refused, so a forged batch cannot make this follower grow its file.
     */
    private long slotIdBound(long batchUpTo) {
        long known = Math.max(knownLeaderLsn, batchUpTo);
        long grown = Math.max(0, known - info.leaderLsn());
        long bound = (long) info.slotCount() + Math.min(grown, Integer.MAX_VALUE) + 1;
        return Math.min(bound, store.config().maxSlotsPerShard());
    }

    /**
     * Moves the applied position to {@code upTo} if that is a consistent point: every image this shard holds is at
     * most {@code upTo} old. Images arrive out of LSN order (a scan, or a feed entry whose slot changed again before
     * it was read), and until the log has been replayed past the newest of them the shard matches no single leader
     * state, so nothing is recorded, acknowledged or promoted there. A copy from scratch ends at its first
     * consistent point.
     */
    private void advanceTo(long upTo) {
        if (upTo < applied || upTo < shard.lastLsn()) {
            return;
        }
        if (copying) {
            store.finishCopy(shardId);
            copying = false;
        }
        applied = upTo;
        consistentLsn = upTo;
        if (store.config().durability() == Durability.GROUP) {
            durablePoints.reached(upTo, shard.forceMark(), System.nanoTime());
        }
    }

    private void caughtUp(FrameChannel ch, CaughtUp c) throws IOException {
        shard.finishBulkLoad();
        advanceTo(c.lsn());
        caughtUp = true;
        leaderLsn = Math.max(leaderLsn, c.lsn());
        state = State.STREAMING;
        LOG.info(
                "shard {}: caught up to LSN {} ({} slots scanned, {} sent)",
                shardId,
                c.lsn(),
                c.slotsScanned(),
                c.slotsSent());
        trackLag();
        maybeForceAndAck(ch, false);
    }

    /**
     * Records and acknowledges the applied LSN once it is as durable as the collection's mode promises: SYNC
     * forces now; GROUP waits for the collection's group commit to cover it (forcing here only when idle, or when
     * no group force covered it within an interval); NONE records at once. An ACK goes out when it says something
     * new (a newer LSN, or {@link #ACK_EVERY_BATCHES} batches since the last), or when idle (it is also the
     * follower's heartbeat).
     */
    private void maybeForceAndAck(FrameChannel ch, boolean idle) throws IOException {
        Durability d = store.config().durability();
        long recorded = replicaState.appliedLsn(shardId);
        if (d == Durability.SYNC) {
            shard.forceApplied();
            if (applied != recorded) {
                replicaState.appliedLsn(shardId, applied, true);
            }
        } else if (d == Durability.GROUP) {
            recordGroupDurable(recorded, idle);
        } else if (applied != recorded) {
            replicaState.appliedLsn(shardId, applied, false);
        }
        long ackLsn = caughtUp ? replicaState.appliedLsn(shardId) : 0;
        if (idle || ackLsn != lastAckedLsn || lastBatchSeq - lastAckedBatchSeq >= ACK_EVERY_BATCHES) {
            ch.send(MessageType.ACK, Ack.LENGTH, new Ack(ackLsn, lastBatchSeq)::encode);
            lastAckedBatchSeq = lastBatchSeq;
            lastAckedLsn = ackLsn;
            lastAckNanos = System.nanoTime();
        }
        // while a point waits for the group commit, come back within an interval to acknowledge it
        ackDeferred = durablePoints.pending();
        ch.readTimeoutMillis(ackDeferred ? groupIntervalMillis() : heartbeatMillis());
    }

    /**
     * GROUP: records the newest consistent point a completed force covers (usually the group commit's). Forces here
     * when the stream is idle, or when the oldest waiting point has waited {@link #GROUP_FORCE_PATIENCE} group intervals (a group commit
     * that fell behind). The record itself is not forced: a power loss can only take it back to an earlier
     * consistent point, whose slots are durable too, and the session resumes from there.
     */
    private void recordGroupDurable(long recorded, boolean idle) {
        long durable = durablePoints.takeDurable(forcedSince);
        if (applied != recorded
                && (idle
                        || durablePoints.waitedNanos(System.nanoTime())
                                >= GROUP_FORCE_PATIENCE * groupIntervalNanos())) {
            shard.forceApplied();
            durablePoints.clear();
            durable = applied;
        }
        if (durable > recorded) {
            replicaState.appliedLsn(shardId, durable, false);
        }
    }

    private long groupIntervalNanos() {
        return store.config().groupInterval().toNanos();
    }

    private int groupIntervalMillis() {
        return (int) Math.max(
                1, Math.min(heartbeatMillis(), store.config().groupInterval().toMillis()));
    }

    private void trackLag() {
        if (applied >= leaderLsn) {
            behindSinceNanos = 0;
        } else if (behindSinceNanos == 0) {
            behindSinceNanos = System.nanoTime();
        }
    }

    /** A snapshot of this shard's replication. Any thread. */
    ShardStatus status() {
        long appliedNow = replicaState.appliedLsn(shardId);
        long lead = Math.max(leaderLsn, appliedNow);
        long since = behindSinceNanos;
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
     * Settles the session after its thread ended: records the consistent point it reached, forced, if newer than
     * the recorded one (a stop between two group forces), so a follower stopped cleanly reopens where it was; then
     * notes whether the shard's contents equal one leader state (its newest image no newer than that point), which
     * promotion requires. Called once, after the thread ended.
     */
    void settleOnStop() {
        if (consistentLsn > replicaState.appliedLsn(shardId) && !copying) {
            shard.forceApplied();
            replicaState.appliedLsn(shardId, consistentLsn, true);
        }
        consistentAtStop = !copying && Math.max(consistentLsn, replicaState.appliedLsn(shardId)) >= shard.lastLsn();
    }

    /** What {@link #settleOnStop()} found: true if the shard stopped at a consistent point. */
    boolean consistentAtStop() {
        return consistentAtStop;
    }

    long bytesReceived() {
        return bytesIn.sum();
    }
}
