package dev.armdb.replication.leader;

import dev.armdb.changes.FeedCursor;
import dev.armdb.changes.ShardView;
import dev.armdb.replication.ReplicationMetrics;
import dev.armdb.replication.ReplicationSecret;
import dev.armdb.replication.follower.ReplicaLineage;
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
import dev.armdb.replication.protocol.ShardInfo.CatchUpMode;
import dev.armdb.replication.protocol.SlotBatchLayout;
import dev.armdb.replication.protocol.SyncRequest;
import dev.armdb.store.Store;
import java.io.EOFException;
import java.io.IOException;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One follower's replication of one shard, on the leader: handshake, catch-up (backlog or scan), then live
 * streaming from the shard's change feed. Runs on its own thread (the sender); a second thread reads the
 * follower's acks and heartbeats.
 *
 * <p>Design note: the session registers its change-feed cursor before it looks at any slot, so every mutation
 * after that point reaches the follower through the feed; the scan only has to cover what happened before.
 * A follower too slow for the feed is lapped, and the session falls back to a partial scan from the last LSN
 * it sent, never to a silent gap.
 */
final class FollowerSession implements Runnable {
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
    private final ReplicationServerConfig config;
    private final ReplicationMetrics metrics;
    private final long heartbeatNanos;
    private final long timeoutNanos;

    private volatile State state = State.AWAIT_SYNC_REQUEST;
    private volatile int shard = -1;
    private volatile String nodeId = "";
    private volatile String respHost = "";
    private volatile int respPort;
    private volatile long highestSentLsn;
    private volatile long ackedLsn;
    private volatile long ackedSeq;
    private volatile long lastHeardNanos = System.nanoTime();
    private volatile long sentUpTo;
    private volatile Thread sender;
    private volatile boolean awaitingWindow;
    private volatile String closeReason = "";
    private volatile java.util.concurrent.Future<?> watchdog;
    private final java.net.InetAddress source;

    private ShardView view;
    private FeedCursor cursor;
    private byte[] batch;
    private ByteBuffer batchView;
    private int slotSize;
    private int maxEntries;
    private int entries;
    private int batchPos;
    private long seq;
    private long lastSendNanos;

    FollowerSession(
            ReplicationServer server,
            Store store,
            FrameChannel channel,
            ReplicationServerConfig config,
            java.net.InetAddress source) {
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
     * authenticated. A good handshake hands the session to a platform thread ({@link #stream}); the handshake as a
     * whole is bounded by the server's watchdog, which closes the connection at the peer timeout.
     */
    @Override
    public void run() {
        boolean handedOff = false;
        try {
            // bounds a TLS handshake too, which runs inside the first send and reads the follower's hello
            channel.readTimeoutMillis((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(timeoutNanos)));
            byte[] leaderNonce = sendChallenge();
            SyncRequest req = awaitSyncRequest();
            authenticate(req, leaderNonce);
            ShardInfo info = handshake(req);
            if (!server.authenticated(this)) {
                throw new SocketException("server closed");
            }
            channel.enlargeBuffers();
            Thread.ofPlatform()
                    .daemon()
                    .name("armdb-repl-session-" + shard + "-" + channel.remote())
                    .start(() -> stream(req, info));
            handedOff = true;
        } catch (Throwable e) {
            failed(e);
        } finally {
            if (!handedOff) {
                ended();
            }
        }
    }

    /** Catch-up and streaming, on the session's own platform thread, with an ack reader beside it. */
    private void stream(SyncRequest req, ShardInfo info) {
        sender = Thread.currentThread();
        try {
            Thread.ofPlatform()
                    .daemon()
                    .name("armdb-repl-ack-" + shard + "-" + channel.remote())
                    .start(this::readAcks);
            catchUpAndStream(req, info);
        } catch (Throwable e) {
            failed(e);
        } finally {
            ended();
        }
    }

    /** Records why the session failed, logs it and tells the follower where that makes sense. */
    private void failed(Throwable t) {
        switch (t) {
            case ProtocolException e -> {
                metrics.protocolErrors.increment();
                closeReason = e.code() + ": " + e.getMessage();
                LOG.warn("replication session from {} (shard {}) refused: {}", channel.remote(), shard, e.getMessage());
                channel.sendErrorQuietly(e.code(), e.getMessage());
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
                    channel.sendErrorQuietly(ErrorCode.INTERNAL, t.getClass().getSimpleName());
                }
            }
        }
    }

    private void closed(IOException e) {
        closeReason = "connection closed: " + e.getMessage();
        LOG.debug("replication session from {} (shard {}) ended: {}", channel.remote(), shard, e.toString());
    }

    private void ended() {
        state = State.CLOSED;
        if (cursor != null) {
            cursor.close();
        }
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
        slotSize = view.slotSize();
        maxEntries = SlotBatchLayout.maxEntries(slotSize, config.batchBytes());
        int bytes = SlotBatchLayout.HEADER_SIZE + maxEntries * SlotBatchLayout.entrySize(slotSize);
        batch = new byte[bytes];
        batchView = ByteBuffer.wrap(batch).order(ByteOrder.LITTLE_ENDIAN);
        boolean sameDb = Arrays.equals(req.leaderDatabaseId(), store.meta().databaseId());
        long lastNow = view.lastLsn();
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
        CatchUpMode mode;
        if (inherited) {
            mode = CatchUpMode.PARTIAL_SCAN;
        } else if (req.fromLsn() > 0 && (!sameDb || req.fromLsn() > lastNow || untrusted)) {
            mode = CatchUpMode.FULL;
        } else if (req.fromLsn() > 0 && view.feed().covers(req.fromLsn())) {
            mode = CatchUpMode.BACKLOG;
        } else {
            mode = CatchUpMode.PARTIAL_SCAN;
        }
        // register the feed position before reading the slot count and before looking at any slot: every slot
        // allocated later is reached through the feed, so a scan of the slots counted here is enough
        cursor = mode == CatchUpMode.BACKLOG
                ? view.feed().openCursor(req.fromLsn())
                : view.feed().openCursor(view.lastLsn());
        if (mode == CatchUpMode.BACKLOG && !view.feed().covers(req.fromLsn())) {
            cursor.close();
            mode = CatchUpMode.PARTIAL_SCAN;
            cursor = view.feed().openCursor(view.lastLsn());
        }
        long leaderLsn = view.lastLsn();
        ShardInfo info = new ShardInfo(
                store.shardCount(),
                store.meta().keySize(),
                store.meta().valueSize(),
                slotSize,
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
        // the ack reader wakes every heartbeat interval to notice a silent follower (see readAcks)
        channel.readTimeoutMillis((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(heartbeatNanos)));
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

    private void catchUpAndStream(SyncRequest req, ShardInfo info) throws IOException {
        state = State.CATCHING_UP;
        long from = info.mode() == CatchUpMode.FULL ? 0 : req.fromLsn();
        try (FeedCursor c = cursor) {
            sentUpTo = from;
            // a follower may acknowledge what it holds (its from-LSN) before anything arrives; a FULL copy starts
            // from nothing, whatever LSN the follower announced
            highestSentLsn = from;
            if (info.mode() == CatchUpMode.BACKLOG) {
                metrics.resyncsBacklog.increment();
                sendCaughtUp(0, 0, from);
            } else {
                if (info.mode() == CatchUpMode.FULL) {
                    metrics.resyncsFull.increment();
                } else if (from > 0) {
                    metrics.resyncsPartial.increment();
                }
                scan(from, c.nextLsn() - 1, info.slotCount());
            }
            state = State.STREAMING;
            stream(c);
        }
    }

    private void scan(long from, long upTo, int count) throws IOException {
        long scanned = 0;
        long sent = 0;
        resetBatch();
        for (int slot = 0; slot < count; slot++) {
            checkAlive();
            int at = batchPos + SlotBatchLayout.ENTRY_HEADER_SIZE;
            long lsn = view.readSlotImage(slot, batch, at);
            scanned++;
            // every slot newer than the follower's position, superseded copies too: the follower's copy of that slot
            // may hold an older key whose tombstone this slot has since been reused for, and only this image ends it
            if (lsn > from) {
                batchView.putInt(batchPos, slot);
                batchPos += SlotBatchLayout.entrySize(slotSize);
                entries++;
                sent++;
                if (entries == maxEntries) {
                    flushBatch(from);
                }
            }
        }
        // counted before the last batch leaves, so a follower that has applied it never sees a stale count
        metrics.catchupSlotsScanned.add(scanned);
        metrics.catchupSlotsSent.add(sent);
        if (entries > 0) {
            flushBatch(from);
        }
        sendCaughtUp(scanned, sent, upTo);
    }

    private void sendCaughtUp(long scanned, long sent, long lsn) throws IOException {
        sentUpTo = lsn;
        // volatile write before the send: the follower's ack of it may be read before send() returns
        highestSentLsn = Math.max(highestSentLsn, lsn);
        channel.send(MessageType.CAUGHT_UP, CaughtUp.LENGTH, new CaughtUp(scanned, sent, lsn)::encode);
        lastSendNanos = System.nanoTime();
    }

    private void stream(FeedCursor cursor) throws IOException {
        resetBatch();
        lastSendNanos = System.nanoTime();
        while (!server.isClosed()) {
            checkAlive();
            int slot = cursor.poll();
            if (slot >= 0) {
                addFeedEntry(slot);
                if (entries == maxEntries) {
                    flushBatch(cursor.nextLsn() - 1);
                }
            } else if (slot == FeedCursor.LAPPED) {
                LOG.info("follower {} lapped on shard {}; partial scan from LSN {}", nodeId, shard, sentUpTo);
                long from = sentUpTo;
                cursor.resetAfter(view.lastLsn());
                int count = view.slotCount();
                // the leader LSN read after the slot count bounds every slot id sent from here on (the pending
                // entries and the scan), so it reaches the follower before any of them
                channel.send(
                        MessageType.HEARTBEAT,
                        Heartbeat.LENGTH,
                        new Heartbeat(view.lastLsn(), store.term(), System.nanoTime())::encode);
                if (entries > 0) {
                    flushBatch(sentUpTo);
                }
                metrics.resyncsPartial.increment();
                state = State.CATCHING_UP;
                scan(from, cursor.nextLsn() - 1, count);
                state = State.STREAMING;
                resetBatch();
            } else if (entries > 0 || cursor.nextLsn() - 1 > sentUpTo) {
                flushBatch(cursor.nextLsn() - 1);
            } else {
                long idle = System.nanoTime() - lastSendNanos;
                if (idle >= heartbeatNanos) {
                    channel.send(
                            MessageType.HEARTBEAT,
                            Heartbeat.LENGTH,
                            new Heartbeat(view.lastLsn(), store.term(), System.nanoTime())::encode);
                    lastSendNanos = System.nanoTime();
                } else {
                    cursor.await(heartbeatNanos - idle);
                }
            }
        }
        channel.sendErrorQuietly(ErrorCode.SHUTDOWN, "leader shutting down");
    }

    private void addFeedEntry(int slot) {
        int at = batchPos + SlotBatchLayout.ENTRY_HEADER_SIZE;
        if (view.readSlotImage(slot, batch, at) > 0) {
            batchView.putInt(batchPos, slot);
            batchPos += SlotBatchLayout.entrySize(slotSize);
            entries++;
            metrics.streamingEventsSent.increment();
        }
    }

    private void resetBatch() {
        entries = 0;
        batchPos = SlotBatchLayout.HEADER_SIZE;
    }

    private void flushBatch(long upTo) throws IOException {
        awaitWindow();
        seq++;
        batchView.putLong(SlotBatchLayout.SEQ_OFFSET, seq);
        batchView.putLong(SlotBatchLayout.UP_TO_LSN_OFFSET, upTo);
        batchView.putInt(SlotBatchLayout.COUNT_OFFSET, entries);
        // volatile write before the send: the follower's ack of it may be read before send() returns
        highestSentLsn = Math.max(highestSentLsn, upTo);
        channel.send(MessageType.SLOT_BATCH, batch, 0, batchPos);
        sentUpTo = upTo;
        lastSendNanos = System.nanoTime();
        resetBatch();
    }

    private void awaitWindow() throws IOException {
        if (seq - ackedSeq < config.window()) {
            return;
        }
        // volatile flag then re-check, against the ack reader's volatile ackedSeq then flag read: no lost wake-up
        awaitingWindow = true;
        try {
            while (seq - ackedSeq >= config.window()) {
                checkAlive();
                LockSupport.parkNanos(this, heartbeatNanos);
            }
        } finally {
            awaitingWindow = false;
        }
    }

    private void checkAlive() throws IOException {
        if (server.isClosed()) {
            throw new SocketException("server closed");
        }
        if (System.nanoTime() - lastHeardNanos > timeoutNanos) {
            throw new ProtocolException(
                    ErrorCode.TIMEOUT,
                    "follower silent for more than " + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms");
        }
    }

    private void readAcks() {
        try {
            while (state != State.CLOSED) {
                MessageType type;
                try {
                    type = channel.receive();
                } catch (java.net.SocketTimeoutException e) {
                    if (System.nanoTime() - lastHeardNanos > timeoutNanos) {
                        // the sender may be blocked writing to a follower that stopped reading: closing the
                        // socket unblocks it
                        closeReason = "TIMEOUT: follower silent for more than "
                                + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms";
                        LOG.info("follower on shard {} dropped: {}", shard, closeReason);
                        channel.close();
                        return;
                    }
                    continue;
                }
                lastHeardNanos = System.nanoTime();
                switch (type) {
                    case ACK -> {
                        Ack ack = Ack.decode(channel.payload());
                        long bound = highestSentLsn;
                        if (ack.appliedLsn() > bound) {
                            throw new ProtocolException(
                                    ErrorCode.MALFORMED,
                                    "ACK of LSN " + ack.appliedLsn() + " is above the highest LSN sent on this"
                                            + " session, " + bound);
                        }
                        if (ack.appliedLsn() > ackedLsn) {
                            ackedLsn = ack.appliedLsn();
                        }
                        ackedSeq = Math.max(ackedSeq, ack.batchSeq());
                        server.acked();
                        if (awaitingWindow) {
                            LockSupport.unpark(sender);
                        }
                    }
                    case HEARTBEAT -> Heartbeat.decode(channel.payload());
                    case ERROR -> {
                        ErrorMessage err = ErrorMessage.decode(channel.payload());
                        LOG.info("follower on shard {} ended the session: {} {}", shard, err.code(), err.sanitized());
                        channel.close();
                        return;
                    }
                    default ->
                        throw new ProtocolException(
                                ErrorCode.MALFORMED, "unexpected " + type + " from a follower after the handshake");
                }
            }
        } catch (ProtocolException e) {
            metrics.protocolErrors.increment();
            LOG.warn("follower on shard {} sent a bad frame: {}", shard, e.getMessage());
            channel.sendErrorAndClose(e.code(), e.getMessage());
        } catch (IOException e) {
            channel.close();
        }
    }

    /** Closes the connection; the session thread ends. */
    void close() {
        channel.close();
        Thread t = sender;
        if (t != null) {
            LockSupport.unpark(t);
        }
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
                ackedLsn,
                Math.max(0, leaderLsn - ackedLsn),
                channel.bytesOut(),
                closeReason);
    }

    int shard() {
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
    String nodeId() {
        return nodeId;
    }

    long ackedLsn() {
        return ackedLsn;
    }

    State state() {
        return state;
    }
}
