package dev.armdb.replication.follower;

import dev.armdb.ArmDbException;
import dev.armdb.FixedStore;
import dev.armdb.replication.ReplicationMetrics;
import dev.armdb.replication.net.SessionWorkers;
import dev.armdb.store.Store;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The follower side of replication: keeps a local collection in step with a leader, one connection and one
 * {@link LeaderSession} per shard. While it runs the collection is a read-only replica; {@link #promote()}
 * stops replication and makes it writable, continuing each shard's LSN sequence.
 *
 * <p>Thread-safe. Owns a small fixed pool of worker threads ({@link ReplicationClientConfig#workerThreads}, named
 * {@code armdb-repl-follower-N-i}) that drives every shard's session over non-blocking sockets, plain TCP or TLS;
 * no shard has a thread of its own.
 */
public final class ReplicationClient implements AutoCloseable {
    /** How long {@link #close()} waits for the sessions to end. */
    private static final long STOP_TIMEOUT_MILLIS = 60_000;
    /** Numbers the clients of this JVM, to name their worker threads. */
    private static final AtomicInteger CLIENTS = new AtomicInteger();

    private final Store store;
    private final ReplicaState replicaState;
    private final List<LeaderSession> sessions = new ArrayList<>();
    private final ReplicationMetrics metrics = new ReplicationMetrics();
    private final TermGuard termGuard;
    /** Counts down once per session when it ends for good (stopped or failed): it touches its shard no more. */
    private final CountDownLatch sessionsEnded;

    private final SessionWorkers workers;
    private volatile boolean closed;
    /** Every session ended within the stop timeout (set by {@link #close()}). */
    private volatile boolean stoppedCleanly;

    private volatile InetSocketAddress leaderResp;
    /**
     * Readers of the replica state on other threads ({@link #status()}, {@link #appliedLsn}) hold it shared; {@link
     * #close()} holds it exclusively to unmap the state, so that no reader touches the mapping after (a RESP client
     * asking ROLE while a failover promotes this node would otherwise fail).
     */
    private final ReentrantReadWriteLock stateReaders = new ReentrantReadWriteLock();
    /** Each shard's status when the client closed; null while it runs. Written under {@link #stateReaders}. */
    private volatile List<ShardStatus> statusAtClose;

    private ReplicationClient(Store store, ReplicaState replicaState, ReplicationClientConfig config)
            throws IOException {
        this.store = store;
        this.replicaState = replicaState;
        this.termGuard = new TermGuard(store::term, store::raiseTerm);
        this.sessionsEnded = new CountDownLatch(store.shardCount());
        this.workers = new SessionWorkers(
                config.workerThreads(), "armdb-repl-follower-" + CLIENTS.incrementAndGet(), this::isClosed);
    }

    /**
     * Starts following {@code leader} (its replication server's address) into {@code follower}, which must have
     * the leader's key size, value size, shard count and routing (checked on every handshake).
     */
    public static ReplicationClient start(
            FixedStore follower, InetSocketAddress leader, ReplicationClientConfig config) {
        Store store = follower.engine();
        store.checkOpen();
        boolean wasWritable = !store.isReplica();
        ReplicaState state = ReplicaState.open(store.dir(), store.shardCount());
        // following again changes this node's history: what it inherited at an earlier promotion no longer holds
        ReplicaLineage.clear(store.dir());
        store.replica(true);
        if (wasWritable) {
            recordOwnHistory(store, state);
        }
        ReplicationClient c;
        try {
            c = new ReplicationClient(store, state, config);
        } catch (IOException e) {
            state.close();
            throw new ArmDbException("cannot start replication from " + leader + ": " + e.getMessage(), e);
        }
        // the follower's own database id names the node: random at creation, kept across restarts and resyncs
        byte[] nodeId = store.meta().databaseId().clone();
        for (int s = 0; s < store.shardCount(); s++) {
            c.sessions.add(new LeaderSession(
                    c, store, s, leader, config, state, c.metrics, nodeId, c.sessionsEnded::countDown));
        }
        c.workers.start();
        for (LeaderSession session : c.sessions) {
            c.workers.adopt(session);
        }
        return c;
    }

    /**
     * Records that a collection which was writable until now holds its own history up to each shard's last LSN, as a
     * follower records what it applied from a leader: the leader it is about to follow, if it was promoted from a
     * follower of this node that had applied exactly that much ({@code replica.lineage}), then catches it up with a
     * scan of what changed since instead of a copy (a planned switchover's old leader). A leader that inherited less
     * copies as before. Everything is forced first, and user writes are already refused, so the positions are final
     * and durable before they are recorded.
     */
    private static void recordOwnHistory(Store store, ReplicaState state) {
        store.flush();
        byte[] own = store.meta().databaseId();
        for (int s = 0; s < store.shardCount(); s++) {
            state.resetTo(s, own);
            state.leaderEpoch(s, store.epoch());
            state.appliedLsn(s, store.view(s).lastLsn(), true);
        }
    }

    /**
     * The address the leader serves RESP clients on, as its last handshake said (its host, or the host this follower
     * dialed if the leader serves on a wildcard address); null before any handshake or if the leader has none.
     * Unresolved.
     */
    public InetSocketAddress leaderRespAddress() {
        return leaderResp;
    }

    void leaderResp(String host, int port) {
        leaderResp = port == 0 ? null : InetSocketAddress.createUnresolved(host, port);
    }

    /** Per-shard status; after {@link #close()}, the status at the close. Any thread. */
    public List<ShardStatus> status() {
        stateReaders.readLock().lock();
        try {
            List<ShardStatus> closedWith = statusAtClose;
            return closedWith != null ? closedWith : liveStatus();
        } finally {
            stateReaders.readLock().unlock();
        }
    }

    private List<ShardStatus> liveStatus() {
        List<ShardStatus> list = new ArrayList<>();
        for (LeaderSession s : sessions) {
            list.add(s.status());
        }
        return list;
    }

    /** The client's counters (bytes received is the sum of all shards). */
    public ReplicationMetrics metrics() {
        return metrics;
    }

    /** Bytes received from the leader so far, all shards. */
    public long bytesReceived() {
        long n = 0;
        for (LeaderSession s : sessions) {
            n += s.bytesReceived();
        }
        return n;
    }

    /** The LSN shard {@code shard} has fully applied and recorded (at the close, once closed). Any thread. */
    public long appliedLsn(int shard) {
        stateReaders.readLock().lock();
        try {
            List<ShardStatus> closedWith = statusAtClose;
            return closedWith != null ? closedWith.get(shard).appliedLsn() : replicaState.appliedLsn(shard);
        } finally {
            stateReaders.readLock().unlock();
        }
    }

    /**
     * Waits until shard {@code shard} has applied {@code lsn}.
     *
     * @return true if it did within {@code timeout}
     */
    public boolean awaitApplied(int shard, long lsn, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (appliedLsn(shard) < lsn) {
            if (System.nanoTime() > deadline || closed) {
                return false;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(200_000);
        }
        return true;
    }

    /** The node's term rule, shared by all shards' sessions. */
    TermGuard termGuard() {
        return termGuard;
    }

    /** This node's term: the highest term it has led under or seen from a leader (see {@code Store#term()}). */
    public long term() {
        return store.term();
    }

    boolean isClosed() {
        return closed;
    }

    /**
     * Stops replication; the collection stays a read-only replica (until {@link #promote()}). Returns once every
     * session has ended (or after {@link #STOP_TIMEOUT_MILLIS}, then {@link #promote()} refuses). Idempotent.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        workers.wakeAll();
        stoppedCleanly = awaitSessionsEnded();
        workers.close();
        if (stoppedCleanly) {
            for (LeaderSession s : sessions) {
                s.settleOnStop();
            }
        }
        stateReaders.writeLock().lock();
        try {
            statusAtClose = List.copyOf(liveStatus());
            replicaState.close();
        } finally {
            stateReaders.writeLock().unlock();
        }
    }

    /**
     * Waits for every session to end (each ends at its worker's next pass, or when the apply, wipe or force its worker
     * is running returns), up to {@link #STOP_TIMEOUT_MILLIS}.
     *
     * @return true if all ended
     */
    private boolean awaitSessionsEnded() {
        boolean interrupted = false;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(STOP_TIMEOUT_MILLIS);
        try {
            for (int i = 0; i < 1_000; i++) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return sessionsEnded.getCount() == 0;
                }
                try {
                    return sessionsEnded.await(left, TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            return sessionsEnded.getCount() == 0;
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Stops replication and makes the collection writable: every shard rebuilds its allocator from its slots and
     * continues its LSN sequence after the last applied LSN. Records the leader history it inherited ({@code
     * replica.lineage}), so followers of the same leader re-pointed at this node resume instead of copying everything.
     */
    public void promote() {
        ReplicaLineage lineage = ReplicaLineage.of(replicaState, store.shardCount(), store.epoch());
        close();
        // a session still applying (a long wipe or force) could change the shard under the promoted node
        if (!stoppedCleanly) {
            throw new ArmDbException("promotion of " + store.dir() + " refused: a replication session did not stop"
                    + " within " + STOP_TIMEOUT_MILLIS + " ms; the node stays a read-only replica, try again");
        }
        store.checkNoIncompleteCopy();
        for (int s = 0; s < sessions.size(); s++) {
            if (!sessions.get(s).consistentAtStop()) {
                throw betweenConsistentPoints(store, s);
            }
        }
        promote(store, lineage);
    }

    private static ArmDbException betweenConsistentPoints(Store store, int shard) {
        return new ArmDbException("promotion of " + store.dir() + " refused: shard " + shard + " holds images newer"
                + " than the last consistent point it reached (LSN "
                + store.shard(shard).lastLsn() + " applied out of"
                + " order); it matches no state its leader ever had. Follow the leader until it catches up, then"
                + " promote");
    }

    /**
     * Promotes a replica left by an earlier run (no client running), recording its lineage as {@link #promote()}
     * does. A no-op on a writable collection.
     */
    public static void promoteReplica(FixedStore replica) {
        Store store = replica.engine();
        if (!store.isReplica()) {
            return;
        }
        ReplicaLineage lineage = null;
        if (java.nio.file.Files.exists(store.dir().resolve(ReplicaStateLayout.FILE_NAME))) {
            store.checkNoIncompleteCopy();
            try (ReplicaState state = ReplicaState.open(store.dir(), store.shardCount())) {
                for (int s = 0; s < store.shardCount(); s++) {
                    if (state.appliedLsn(s) < store.shard(s).lastLsn()) {
                        throw betweenConsistentPoints(store, s);
                    }
                }
                lineage = ReplicaLineage.of(state, store.shardCount(), store.epoch());
            }
        }
        promote(store, lineage);
    }

    private static void promote(Store store, ReplicaLineage lineage) {
        try {
            store.promote();
        } catch (RuntimeException e) {
            throw new ArmDbException("promotion of " + store.dir() + " failed: " + e.getMessage(), e);
        }
        if (lineage != null) {
            lineage.write(store.dir());
        }
    }
}
