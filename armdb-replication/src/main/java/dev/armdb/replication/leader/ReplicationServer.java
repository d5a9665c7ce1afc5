package dev.armdb.replication.leader;

import dev.armdb.ArmDbException;
import dev.armdb.FixedStore;
import dev.armdb.replication.ReplicationMetrics;
import dev.armdb.replication.ReplicationTls;
import dev.armdb.replication.follower.ReplicaLineage;
import dev.armdb.replication.protocol.FrameChannel;
import dev.armdb.store.Store;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leader side of replication: accepts follower connections (one per follower per shard) and runs a {@link
 * FollowerSession} for each. Any number of followers per shard; each session has its own feed position, so a
 * slow follower slows neither the leader's writers nor other followers.
 *
 * <p>Thread-safe. Owns an acceptor thread and two threads per session; {@link #close()} stops them all. Binds to
 * loopback unless told otherwise.
 */
public final class ReplicationServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicationServer.class);

    private final Store store;
    private final ReplicationServerConfig config;
    private final ServerSocket serverSocket;
    private final Thread acceptor;
    private final Set<FollowerSession> sessions = ConcurrentHashMap.newKeySet();
    private final ReplicationMetrics metrics = new ReplicationMetrics();
    private final Object ackMonitor = new Object();
    private final ReplicaLineage lineage;
    private final PeerAddresses addresses;
    private volatile boolean closed;

    private ReplicationServer(Store store, ReplicationServerConfig config) throws IOException {
        this.store = store;
        this.config = config;
        this.lineage = loadLineage(store);
        this.addresses = new PeerAddresses(config.advertise());
        this.serverSocket = ReplicationTls.serverSocket(config.tls());
        serverSocket.setReuseAddress(true);
        serverSocket.bind(config.bind());
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

    /** What this node inherited when it was promoted from a follower, or null. */
    ReplicaLineage lineage() {
        return lineage;
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket socket = serverSocket.accept();
                FrameChannel channel = new FrameChannel(socket, metrics.bytesReceived, metrics.bytesSent);
                FollowerSession session = new FollowerSession(this, store, channel, config);
                sessions.add(session);
                Thread.ofPlatform()
                        .daemon()
                        .name("armdb-repl-session-" + socket.getRemoteSocketAddress())
                        .start(session);
            } catch (IOException e) {
                if (!closed) {
                    LOG.warn("accepting a follower failed: {}", e.toString());
                }
            }
        }
    }

    /** The address the server listens on (with the real port when bound to port 0). */
    public InetSocketAddress address() {
        return (InetSocketAddress) serverSocket.getLocalSocketAddress();
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
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (ackMonitor) {
            while (countAcked(shard, lsn) < followers) {
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

    /** Distinct follower nodes whose acknowledged LSN of {@code shard} is at least {@code lsn}. */
    public int countAcked(int shard, long lsn) {
        Set<String> nodes = new java.util.HashSet<>();
        for (FollowerSession s : sessions) {
            if (s.shard() == shard && s.ackedLsn() >= lsn && s.state() != FollowerSession.State.CLOSED) {
                nodes.add(s.nodeId());
            }
        }
        return nodes.size();
    }

    void acked() {
        synchronized (ackMonitor) {
            ackMonitor.notifyAll();
        }
    }

    void sessionEnded(FollowerSession s) {
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
        for (FollowerSession s : sessions) {
            s.close();
        }
        try {
            acceptor.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        acked();
    }
}
