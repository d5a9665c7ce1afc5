package dev.armdb.cluster;

import dev.armdb.ArmDbException;
import dev.armdb.FixedConfig;
import dev.armdb.FixedMap;
import dev.armdb.replication.follower.ReplicationClient;
import dev.armdb.replication.follower.ReplicationClientConfig;
import dev.armdb.replication.leader.ReplicationServer;
import dev.armdb.replication.leader.ReplicationServerConfig;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An embedder's collection and its replication, with no client front-end: a replication server while it leads, a
 * replication client while it follows, as armdb-server's {@code Node} runs them (the same calls, without RESP).
 *
 * <p>Threading: role changes are serialised by this object's lock (the member's cluster thread makes them); the
 * getters read volatile fields from any thread.
 */
final class EmbeddedHost implements ReplicaHost {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedHost.class);

    private final FixedMap map;
    private final ReplicationServerConfig serverConfig;
    private final ReplicationClientConfig clientConfig;
    private volatile ReplicationServer server;
    private volatile ReplicationClient client;
    private volatile InetSocketAddress leader;
    private boolean closed;

    private EmbeddedHost(FixedMap map, ReplicationServerConfig server, ReplicationClientConfig client) {
        this.map = map;
        this.serverConfig = server;
        this.clientConfig = client;
    }

    /**
     * Opens (or creates) the collection in {@code dir} ({@code config} null: an existing one with its stored sizes)
     * and starts its replication server, as a node that leads until told otherwise (its writes are refused until the
     * group state names it: the member's gate says so).
     */
    static EmbeddedHost open(
            Path dir, FixedConfig config, ReplicationServerConfig server, ReplicationClientConfig client) {
        FixedMap map = config == null ? FixedMap.open(dir) : FixedMap.open(dir, config);
        EmbeddedHost h = new EmbeddedHost(map, server, client);
        try {
            h.lead();
            return h;
        } catch (RuntimeException e) {
            h.close();
            throw e;
        }
    }

    private void lead() {
        server = ReplicationServer.start(map, serverConfig);
    }

    @Override
    public FixedMap map() {
        return map;
    }

    @Override
    public ReplicationServer replicationServer() {
        return server;
    }

    @Override
    public ReplicationClient replicationClient() {
        return client;
    }

    @Override
    public InetSocketAddress leader() {
        return leader;
    }

    @Override
    public synchronized void follow(InetSocketAddress address) {
        checkOpen();
        stopReplication();
        leader = address;
        client = ReplicationClient.start(map, address, clientConfig);
        LOG.info("{}: following {}", map.path(), address);
    }

    @Override
    public synchronized void promoteTo(long term) {
        checkOpen();
        if (term < 1) {
            throw new IllegalArgumentException("a leader's term is at least 1, got " + term);
        }
        ReplicationClient c = client;
        if (c == null && !map.engine().isReplica()) {
            map.engine().raiseTerm(term);
            return;
        }
        map.engine().raiseTerm(term - 1);
        if (c != null) {
            c.promote();
            client = null;
            leader = null;
            lead();
        } else {
            ReplicationClient.promoteReplica(map);
        }
        LOG.info(
                "{}: promoted to leader under term {}", map.path(), map.engine().term());
    }

    @Override
    public String clientAddress() {
        return "";
    }

    @Override
    public void stoppedLeading() {
        // no front-end: the member's role listeners tell the application
    }

    private void checkOpen() {
        if (closed) {
            throw new ArmDbException("the cluster member of " + map.path() + " is closed");
        }
    }

    private void stopReplication() {
        if (server != null) {
            server.close();
            server = null;
        }
        if (client != null) {
            client.close();
            client = null;
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            stopReplication();
        } finally {
            map.close();
        }
    }
}
