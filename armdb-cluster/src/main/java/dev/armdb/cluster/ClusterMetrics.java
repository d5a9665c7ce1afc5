package dev.armdb.cluster;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Plain counters and gauges of one cluster node, named after the system ({@code armdb.cluster.*}); a node's {@code
 * /metrics} (through armdb-micrometer) and its INFO cluster section read them. Counters only grow; gauges hold what the
 * node last saw. Adds nothing to the write path but one {@link LongAdder} increment per write the fence refuses.
 * The STALE_TERM counts are carried over from the node's replication clients and servers, which are replaced at every
 * re-point and promotion, once per cluster tick ({@link StaleTermTally}).
 *
 * <p>Thread-safe: any thread may add or set, any thread may read.
 */
public final class ClusterMetrics {
    /** Automatic failovers this node wrote as the cluster's controller. */
    public final LongAdder failovers = new LongAdder();
    /** Writes this node's fence refused while it was (or had been) the named leader: suspended, lease out, lost. */
    public final LongAdder fencedWrites = new LongAdder();
    /** Times this node became the cluster's controller. */
    public final LongAdder controllerElections = new LongAdder();
    /**
     * Replication sessions this node, as a follower, refused with STALE_TERM: their leader's term was lower than the
     * highest this node had seen (a replaced leader still streaming to it). Summed over the node's replication clients.
     */
    public final LongAdder staleTermSent = new LongAdder();
    /**
     * Replication sessions a follower ended with STALE_TERM while this node led them: this node had been replaced (a
     * zombie). Summed over the node's replication servers.
     */
    public final LongAdder staleTermReceived = new LongAdder();

    private volatile long term;
    private volatile long isrSize;
    private volatile boolean controller;

    /** Records the group state this node read last (null: none yet). */
    public void observe(GroupState state) {
        term = state == null ? 0 : state.term();
        isrSize = state == null ? 0 : state.isr().size();
    }

    /** Records whether this node holds the controller role now. */
    public void controller(boolean isController) {
        controller = isController;
    }

    /** The group's term in the state this node read last, 0 before the first. */
    public long term() {
        return term;
    }

    /** The in-sync followers in the state this node read last, 0 before the first. */
    public long isrSize() {
        return isrSize;
    }

    /** Every counter by its metric name, for export. */
    public Map<String, Long> counters() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("armdb.cluster.failovers", failovers.sum());
        m.put("armdb.cluster.fenced_writes", fencedWrites.sum());
        m.put("armdb.cluster.controller_elections", controllerElections.sum());
        m.put("armdb.cluster.stale_term_sent", staleTermSent.sum());
        m.put("armdb.cluster.stale_term_received", staleTermReceived.sum());
        return m;
    }

    /** Every gauge by its metric name, for export. */
    public Map<String, Long> gauges() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("armdb.cluster.term", term);
        m.put("armdb.cluster.isr_size", isrSize);
        m.put("armdb.cluster.controller", controller ? 1L : 0L);
        return m;
    }
}
