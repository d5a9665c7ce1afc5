package dev.armdb.cluster;

import dev.armdb.FixedMap;
import dev.armdb.replication.follower.ReplicationClient;
import dev.armdb.replication.leader.ReplicationServer;
import dev.armdb.server.Node;
import java.net.InetSocketAddress;

/**
 * armdb-server's {@link Node} as a {@link ClusterMember}'s host: the node's collection, replication and RESP
 * front-end. Threading: as {@link ReplicaHost}; {@link Node} serialises its role changes.
 */
record NodeHost(Node node) implements ReplicaHost {
    @Override
    public FixedMap map() {
        return node.map();
    }

    @Override
    public ReplicationServer replicationServer() {
        return node.replicationServer();
    }

    @Override
    public ReplicationClient replicationClient() {
        return node.replicationClient();
    }

    @Override
    public InetSocketAddress leader() {
        return node.leader();
    }

    @Override
    public boolean isFollower() {
        return node.isFollower();
    }

    @Override
    public void follow(InetSocketAddress address) {
        node.replicaOf(address);
    }

    @Override
    public void promoteTo(long term) {
        node.promoteTo(term);
    }

    @Override
    public String clientAddress() {
        return ClusterMember.hostPort(node.respAddress());
    }

    /**
     * Closes every RESP client connection, as Redis Sentinel has a demoted master do: clients that stayed connected
     * would be answered {@code -READONLY} on a connection that never breaks, and a client that looks for the leader
     * when it reconnects would never look again.
     */
    @Override
    public void stoppedLeading() {
        node.disconnectClients();
    }

    @Override
    public void close() {
        node.close();
    }
}
