package dev.armdb.replication.leader;

import dev.armdb.ArmDbException;
import dev.armdb.FixedStore;
import dev.armdb.replication.ReplicationMetrics;
import dev.armdb.replication.ReplicationTls;
import dev.armdb.replication.follower.ReplicaLineage;
import dev.armdb.replication.net.ByteTransport;
import dev.armdb.replication.net.FrameChannel;
import dev.armdb.replication.net.PlainTransport;
import dev.armdb.replication.net.SessionWorkers;
import dev.armdb.replication.net.TlsTransport;
import dev.armdb.replication.protocol.ErrorCode;
import dev.armdb.replication.protocol.ProtocolException;
import dev.armdb.store.Store;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leader side of replication: accepts follower connections (one per follower per shard) and runs a {@link
 * FollowerSession} for each. Any number of followers per shard; each session has its own feed position, so a
 * slow follower slows neither the leader's writers nor other followers.
 *
 * <p>Nothing a peer can exhaust is spent before it authenticates: connections still in their handshake are capped
 * (in all and per source address; more are closed at once), each runs on a virtual thread with small buffers (and,
 * with TLS, its engine's record buffers), and a
 * watchdog closes any whose whole handshake (TLS included) has not finished within the peer timeout. Only an
 * authenticated session gets full-size buffers and a place on a worker.
 *
 * <p>Thread-safe. Owns an acceptor thread, a watchdog thread and a fixed pool of {@linkplain
 * ReplicationServerConfig#workerThreads worker threads} that drive every session, plain TCP or TLS, over
 * non-blocking sockets ({@link SessionWorkers}); no session has a thread of its own after its handshake. {@link
 * #close()} stops them all. Binds to loopback unless told otherwise.
 */
public final class ReplicationServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicationServer.class);

    private final Store store;
    private final ReplicationServerConfig config;
    private final ServerSocket serverSocket;
    private final Thread acceptor;
    private final SessionWorkers workers;
    private final Set<FollowerSession> sessions = ConcurrentHashMap.newKeySet();
    private final Set<FollowerSession> pending = ConcurrentHashMap.newKeySet();
    private final java.util.Map<java.net.InetAddress, Integer> pendingBySource = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicInteger pendingCount =
            new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.ScheduledExecutorService watchdog;
    private final ReplicationMetrics metrics = new ReplicationMetrics();
    private final Object ackMonitor = new Object();
    private final ReplicaLineage lineage;
    private final PeerAddresses addresses;
    private volatile Runnable ackListener;
    /** Threads in {@link #awaitCount}: while there are any, sessions read acks as they arrive. */
    private final AtomicInteger ackWaiters = new AtomicInteger();

    private volatile boolean closed;

    private ReplicationServer(Store store, ReplicationServerConfig config) throws IOException {
        this.store = store;
        this.config = config;
        this.lineage = loadLineage(store);
        this.addresses = new PeerAddresses(config.advertise());
        // sockets come from channels, so every session (TLS ones through an SSLEngine) can be handed to the workers
        this.serverSocket = ServerSocketChannel.open().socket();
        serverSocket.setReuseAddress(true);
        serverSocket.bind(config.bind(), 1024);
        this.workers = new SessionWorkers(
                config.workerThreads(), "armdb-repl-worker-" + serverSocket.getLocalPort(), () -> closed);
        this.watchdog = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform()
                .daemon()
                .name("armdb-repl-handshake-watchdog")
                .unstarted(r));
        this.acceptor = Thread.ofPlatform()
                .daemon()
                .name("armdb-repl-accept-" + serverSocket.getLocalPort())
                .unstarted(this::acceptLoop);
    }

    /**
     * Starts serving {@code leader}'s shards.
     *
     * @throws ArmDbException if the address cannot be bound
     */
    public static ReplicationServer start(FixedStore leader, ReplicationServerConfig config) {
        try {
            ReplicationServer s = new ReplicationServer(leader.engine(), config);
            s.workers.start();
            s.acceptor.start();
            LOG.info("replication server for {} listening on {}", leader.path(), s.address());
            return s;
        } catch (IOException e) {
            throw new ArmDbException("cannot listen for followers on " + config.bind() + ": " + e.getMessage(), e);
        }
    }

    /** The lineage a promotion left, or null; a damaged one only costs followers a full copy. */
    private static ReplicaLineage loadLineage(Store store) {
        try {
            ReplicaLineage l = ReplicaLineage.load(store.dir());
            if (l != null && l.shards() != store.shardCount()) {
                LOG.warn(
                        "{}: the replica lineage names {} shards, the collection has {}; ignored",
                        store.dir(),
                        l.shards(),
                        store.shardCount());
                return null;
            }
            return l;
        } catch (ArmDbException e) {
            LOG.warn("{}; followers of the leader this node was promoted from will copy everything", e.getMessage());
            return null;
        }
    }

    /** The addresses a follower's proof may name. */
    PeerAddresses addresses() {
        return addresses;
    }

    /** The worker threads that drive every session after its handshake. */
    SessionWorkers workers() {
        return workers;
    }

    /** What this node inherited when it was promoted from a follower, or null. */
    ReplicaLineage lineage() {
        return lineage;
    }

    private void acceptLoop() {
        while (!closed) {
            Socket socket = null;
            try {
                socket = serverSocket.accept();
                admit(socket);
            } catch (Throwable e) {
                if (!closed) {
                    // one connection's failure (even an Error) must not end the loop: no follower could reconnect
                    LOG.warn("accepting a follower failed: {}", e.toString());
                    closeQuietly(socket);
                }
            }
        }
    }

    /** Starts the handshake of an accepted connection, or closes it if too many are already in their handshake. */
    private void admit(Socket socket) throws IOException {
        java.net.InetAddress source = socket.getInetAddress();
        if (!reservePending(source)) {
            metrics.connectionsRefused.increment();
            LOG.debug("replication connection from {} refused: too many handshakes in progress", source);
            closeQuietly(socket);
            return;
        }
        FollowerSession session;
        try {
            SocketChannel sc = socket.getChannel();
            ByteTransport transport = config.tls() == null
                    ? new PlainTransport(sc)
                    : new TlsTransport(sc, ReplicationTls.serverEngine(config.tls()));
            FrameChannel channel = new FrameChannel(
                    socket,
                    transport.blockingInput(),
                    transport.blockingOutput(),
                    metrics.bytesReceived,
                    metrics.bytesSent,
                    FrameChannel.SMALL_BUFFER);
            session = new FollowerSession(this, store, sc, transport, channel, config, source);
        } catch (IOException | RuntimeException e) {
            releasePending(source);
            throw e;
        }
        pending.add(session);
        session.watchdog(watchdog.schedule(
                session::handshakeExpired, config.peerTimeout().toNanos(), java.util.concurrent.TimeUnit.NANOSECONDS));
        try {
            Thread.ofVirtual().name("armdb-repl-handshake").start(session);
        } catch (Throwable e) {
            sessionEnded(session);
            throw e;
        }
    }

    private boolean reservePending(java.net.InetAddress source) {
        if (pendingCount.incrementAndGet() > config.maxUnauthenticated()) {
            pendingCount.decrementAndGet();
            return false;
        }
        boolean[] ok = {false};
        pendingBySource.compute(source, (k, n) -> {
            int now = n == null ? 0 : n;
            if (now >= config.maxUnauthenticatedPerSource()) {
                return n;
            }
            ok[0] = true;
            return now + 1;
        });
        if (!ok[0]) {
            pendingCount.decrementAndGet();
        }
        return ok[0];
    }

    private void releasePending(java.net.InetAddress source) {
        pendingCount.decrementAndGet();
        pendingBySource.computeIfPresent(source, (k, n) -> n <= 1 ? null : n - 1);
    }

    /**
     * Moves a session that completed its handshake out of the capped set; false if the server is closing (the
     * session must end).
     */
    boolean authenticated(FollowerSession s) {
        if (pending.remove(s)) {
            releasePending(s.source());
            s.cancelWatchdog();
            synchronized (sessions) {
                if (sessions.size() >= config.maxSessions()) {
                    metrics.sessionsRefused.increment();
                    throw new ProtocolException(
                            ErrorCode.INTERNAL,
                            "the leader serves " + config.maxSessions() + " follower sessions already (its limit);"
                                    + " retry later");
                }
                sessions.add(s);
            }
        }
        if (closed) {
            sessions.remove(s);
            return false;
        }
        return true;
    }

    /** Connections in their handshake now. */
    public int handshakesInProgress() {
        return pendingCount.get();
    }

    private static void closeQuietly(Socket s) {
        if (s != null) {
            try {
                s.close();
            } catch (IOException | RuntimeException ignored) {
                // closing a connection we refuse
            }
        }
    }

    /** The address the server listens on (with the real port when bound to port 0). */
    public InetSocketAddress address() {
        return (InetSocketAddress) serverSocket.getLocalSocketAddress();
    }

    /**
     * The {@code host:port} names followers may dial besides the bound address, as configured ({@link
     * ReplicationServerConfig#advertise}): a cluster member publishes the first as its replication address. Any
     * thread.
     */
    public List<String> advertise() {
        return config.advertise();
    }

    /** The server's counters. */
    public ReplicationMetrics metrics() {
        return metrics;
    }

    /** Every open session's status. */
    public List<FollowerStatus> status() {
        List<FollowerStatus> list = new ArrayList<>();
        for (FollowerSession s : sessions) {
            list.add(s.status());
        }
        return list;
    }

    /**
     * Waits until at least {@code followers} distinct follower nodes have acknowledged applying {@code lsn} of
     * {@code shard} (opt-in semi-synchronous writes: call it with the LSN a put returned). Several sessions of one
     * node (a reconnect racing its old session) count once.
     *
     * @return true if enough followers acknowledged in time, false on timeout
     */
    public boolean awaitReplicated(int shard, long lsn, int followers, Duration timeout) {
        return awaitCount(() -> countAcked(shard, lsn), followers, timeout);
    }

    /** Distinct follower nodes whose acknowledged LSN of {@code shard} is at least {@code lsn}. */
    public int countAcked(int shard, long lsn) {
        return AckedFollowers.count(sessions, shard, lsn);
    }

    /**
     * Distinct follower nodes that acknowledged, on every shard {@code i} with {@code lsns[i] > 0}, at least {@code
     * lsns[i]}: the replicas holding all of a set of writes spread over shards (what Redis' WAIT counts). Nodes that
     * hold only some shards' writes are not counted. Any thread.
     *
     * @return the count; with no positive entry in {@code lsns}, the number of distinct connected follower nodes
     */
    public int countAckedAll(long[] lsns) {
        return AckedFollowers.countAll(sessions, lsns);
    }

    /**
     * The highest LSN follower node {@code followerId} (hex, as {@link FollowerStatus#followerId()}) acknowledged on
     * {@code shard} over its open sessions there, or -1 if it has no open session on that shard. Any thread.
     */
    public long ackedLsn(String followerId, int shard) {
        return AckedFollowers.ackedBy(sessions, followerId, shard);
    }

    /**
     * Sets the action run after every acknowledgement a follower sends and every session's end (null: none), for a
     * caller that tracks acknowledgements without a thread blocked in {@link #awaitReplicated}. It runs on a worker
     * thread that drives sessions: it must be quick and must not block (wake a thread of the caller's, for instance).
     */
    public void ackListener(Runnable listener) {
        ackListener = listener;
        // the sessions switch to reading acks as they arrive at their next pass
        workers.wakeAll();
    }

    /**
     * Waits until {@code followers} distinct follower nodes acknowledged every shard's LSN in {@code lsns} (see
     * {@link #countAckedAll}), or {@code timeout} passed. Any thread.
     *
     * @return true if they did in time
     */
    public boolean awaitReplicatedAll(long[] lsns, int followers, Duration timeout) {
        return awaitCount(() -> countAckedAll(lsns), followers, timeout);
    }

    /**
     * Waits until {@code count} reaches {@code followers}, woken by every ACK, or {@code timeout} passed. While it
     * waits the sessions read acks as they arrive (see {@link #acksWanted}); the first waiter wakes the workers so
     * that acks already delivered are read at once.
     */
    private boolean awaitCount(java.util.function.IntSupplier count, int followers, Duration timeout) {
        if (count.getAsInt() >= followers) {
            return true;
        }
        if (ackWaiters.getAndIncrement() == 0) {
            workers.wakeAll();
        }
        try {
            return awaitCountWatched(count, followers, timeout);
        } finally {
            ackWaiters.decrementAndGet();
        }
    }

    private boolean awaitCountWatched(java.util.function.IntSupplier count, int followers, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (ackMonitor) {
            while (count.getAsInt() < followers) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || closed) {
                    return false;
                }
                try {
                    ackMonitor.wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            return true;
        }
    }

    /**
     * True while someone waits for acks ({@link #awaitReplicated} and the like, or an {@link #ackListener}): sessions
     * then read them as they arrive rather than every {@link ReplicationServerConfig#ackReadInterval}. Any thread.
     */
    boolean acksWanted() {
        return ackWaiters.get() > 0 || ackListener != null;
    }

    void acked() {
        synchronized (ackMonitor) {
            ackMonitor.notifyAll();
        }
        Runnable l = ackListener;
        if (l != null) {
            l.run();
        }
    }

    void sessionEnded(FollowerSession s) {
        if (pending.remove(s)) {
            releasePending(s.source());
            s.cancelWatchdog();
        }
        sessions.remove(s);
        acked();
    }

    boolean isClosed() {
        return closed;
    }

    /** Stops accepting, ends every session (followers get a SHUTDOWN error), and waits briefly for threads. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            serverSocket.close();
        } catch (IOException ignored) {
            // closing
        }
        for (FollowerSession s : pending) {
            s.close();
        }
        for (FollowerSession s : sessions) {
            s.close();
        }
        watchdog.shutdownNow();
        workers.close();
        try {
            acceptor.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        acked();
    }
}
