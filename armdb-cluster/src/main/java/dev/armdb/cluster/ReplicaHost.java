package dev.armdb.cluster;

import dev.armdb.FixedMap;
import dev.armdb.replication.follower.ReplicationClient;
import dev.armdb.replication.leader.ReplicationServer;
import java.net.InetSocketAddress;

/**
 * What a {@link ClusterMember} drives: one collection and its replication, switched between leading (a replication
 * server) and following (a replication client). Two hosts exist: armdb-server's {@code Node} with its RESP front-end
 * ({@link ClusterNode}), and an embedder's collection with no front-end ({@link EmbeddedHost}).
 *
 * <p>Threading: {@link #follow}, {@link #promoteTo} and {@link #stoppedLeading} from the member's cluster thread
 * only; {@link #close} once, from the thread closing the member; the getters from any thread (a replication client
 * read after it was replaced is closed: only the cluster thread reads one's status).
 */
interface ReplicaHost {
    /** The collection. */
    FixedMap map();

    /** The replication server while leading (and serving replication), else null. */
    ReplicationServer replicationServer();

    /** The replication client while following, else null. */
    ReplicationClient replicationClient();

    /** The replication address followed, or null. */
    InetSocketAddress leader();

    /** True while following. */
    default boolean isFollower() {
        return replicationClient() != null;
    }

    /** Follows the leader whose replication server is at {@code address}; user writes become refused. */
    void follow(InetSocketAddress address);

    /**
     * Stops following and leads under exactly {@code term}, or above it if the collection's term already is (see
     * {@code Node.promoteTo}); a writable collection only raises its term.
     */
    void promoteTo(long term);

    /** {@code host:port} of the front-end clients use (RESP), or the empty string if there is none. */
    String clientAddress();

    /** This node stopped leading: the host lets its clients know (a RESP front-end closes their connections). */
    void stoppedLeading();

    /** Stops replication and the front-end, and closes the collection. */
    void close();
}
