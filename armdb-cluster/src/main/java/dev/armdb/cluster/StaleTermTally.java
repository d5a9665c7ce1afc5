package dev.armdb.cluster;

import dev.armdb.replication.ReplicationMetrics;
import dev.armdb.replication.follower.ReplicationClient;
import dev.armdb.replication.leader.ReplicationServer;
import java.util.concurrent.atomic.LongAdder;

/**
 * Carries the STALE_TERM counts of a node's replication client and server into its {@link ClusterMetrics}, which
 * outlive them: the node gets a new client at every re-point and a new server at every promotion, and each starts
 * counting from zero. What a replaced one counted after the last look is carried at the next look, which still holds
 * it.
 *
 * <p>Threading: {@link #observe} from the node's cluster thread only, which is also the only thread that replaces the
 * client and the server of a cluster node; call it at least once between two replacements.
 */
final class StaleTermTally {
    private final ClusterMetrics metrics;
    private final Source client = new Source();
    private final Source server = new Source();

    StaleTermTally(ClusterMetrics metrics) {
        this.metrics = metrics;
    }

    /**
     * Adds what the member's replication client and server (null: none runs) counted since the last look, and switches
     * to replaced ones.
     */
    void observe(ReplicationClient c, ReplicationServer s) {
        observe(c == null ? null : c.metrics(), s == null ? null : s.metrics());
    }

    /** As {@link #observe(ReplicationClient, ReplicationServer)} given the metrics of the client and server. */
    void observe(ReplicationMetrics clientMetrics, ReplicationMetrics serverMetrics) {
        client.carry(clientMetrics, metrics.staleTermSent);
        server.carry(serverMetrics, metrics.staleTermReceived);
    }

    /** One counted object and how much of its count was carried already. */
    private static final class Source {
        private ReplicationMetrics counted;
        private long carried;

        void carry(ReplicationMetrics now, LongAdder into) {
            if (counted != null) {
                long v = counted.staleTerm.sum();
                into.add(v - carried);
                carried = v;
            }
            if (now != counted) {
                counted = now;
                carried = 0;
                if (now != null) {
                    carried = now.staleTerm.sum();
                    into.add(carried);
                }
            }
        }
    }
}
