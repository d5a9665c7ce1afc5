package dev.armdb.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.replication.ReplicationMetrics;
import org.junit.jupiter.api.Test;

/** STALE_TERM counts carried from replication clients and servers that come and go into the node's metrics. */
class StaleTermTallyTest {
    private final ClusterMetrics metrics = new ClusterMetrics();
    private final StaleTermTally tally = new StaleTermTally(metrics);

    @Test
    void countsOfReplacedClientsAndServersAreKeptAndNoneTwice() {
        ReplicationMetrics a = new ReplicationMetrics();
        ReplicationMetrics leader = new ReplicationMetrics();
        a.staleTerm.add(2);
        tally.observe(a, null);
        tally.observe(a, null);
        assertThat(metrics.staleTermSent.sum()).isEqualTo(2);

        // a counted one more before it was replaced by b, which counted one before the look
        a.staleTerm.increment();
        ReplicationMetrics b = new ReplicationMetrics();
        b.staleTerm.increment();
        tally.observe(b, null);
        assertThat(metrics.staleTermSent.sum()).isEqualTo(4);

        // the node is promoted: no client, a server told it was stale twice
        b.staleTerm.increment();
        leader.staleTerm.add(2);
        tally.observe(null, leader);
        tally.observe(null, leader);
        assertThat(metrics.staleTermSent.sum()).isEqualTo(5);
        assertThat(metrics.staleTermReceived.sum()).isEqualTo(2);
        assertThat(metrics.counters())
                .containsEntry("armdb.cluster.stale_term_sent", 5L)
                .containsEntry("armdb.cluster.stale_term_received", 2L);
    }
}
