package dev.armdb.cluster;

import java.time.Duration;

/**
 * How a node takes part in a replica group coordinated through ZooKeeper. Immutable; the {@code with...} methods
 * return changed copies.
 *
 * @param connectString ZooKeeper's connect string, {@code host:port[,host:port...][/chroot]}
 * @param group the replica group's name
 * @param nodeId this node's id in the group (unique in the group, stable across restarts)
 * @param minInsync in-sync followers this node asks for when it leads
 * @param sessionTimeout ZooKeeper session timeout: a leader whose session ends is replaced after it plus the grace
 * @param lease how long a leader keeps accepting writes after its last confirmed ZooKeeper round trip; shorter than
 *     the session timeout, so that an isolated leader stops before its session can expire and a successor start
 * @param tick how often the node refreshes its member znode, reads the group state and (as controller) decides
 * @param grace how long the controller waits after the leader became unusable (longer than the tick)
 * @param block at most one automatic failover per group within this period
 * @param isrLag how long an in-sync follower may go without acknowledging what the leader had written before the
 *     leader removes it from the ISR (and acknowledges writes without it); a few replication heartbeats
 */
public record ClusterConfig(
        String connectString,
        String group,
        String nodeId,
        int minInsync,
        Duration sessionTimeout,
        Duration lease,
        Duration tick,
        Duration grace,
        Duration block,
        Duration isrLag) {
    /** Checks names and the ordering tick &lt; grace, lease &lt; session timeout, tick &lt; ISR lag. */
    public ClusterConfig {
        if (connectString == null || connectString.isBlank()) {
            throw new IllegalArgumentException("a ZooKeeper connect string (host:port[/chroot]) is needed, got none");
        }
        NodeIds.check(group, "group");
        NodeIds.check(nodeId, "node id");
        if (minInsync < 0) {
            throw new IllegalArgumentException("minInsync must be >= 0, got " + minInsync);
        }
        if (lease.compareTo(sessionTimeout) >= 0 || lease.isNegative() || lease.isZero()) {
            throw new IllegalArgumentException("the leader lease must be positive and shorter than the session timeout "
                    + sessionTimeout.toMillis() + " ms, got " + lease.toMillis() + " ms");
        }
        if (tick.isNegative() || tick.isZero() || grace.compareTo(tick) <= 0) {
            throw new IllegalArgumentException("the grace period must be longer than the tick " + tick.toMillis()
                    + " ms (so that members' last reports are final), got " + grace.toMillis() + " ms");
        }
        if (isrLag.compareTo(tick) <= 0) {
            throw new IllegalArgumentException("the ISR lag bound must be longer than the tick " + tick.toMillis()
                    + " ms (the leader checks its followers every tick), got " + isrLag.toMillis() + " ms");
        }
    }

    /**
     * Defaults: 6 s session, 3 s lease, 200 ms tick, 500 ms grace, 30 s block, no in-sync followers asked for, and an
     * ISR lag bound of 2 s (eight of replication's 250 ms heartbeats, each of which a follower acknowledges). A
     * failover takes session timeout + grace + tick + lease, about 9.7 s: under twice the session timeout with room
     * for a loaded machine; a leader refuses writes after 3 s without a ZooKeeper round trip.
     */
    public static ClusterConfig of(String connectString, String group, String nodeId) {
        return new ClusterConfig(
                connectString,
                group,
                nodeId,
                0,
                Duration.ofSeconds(6),
                Duration.ofSeconds(3),
                Duration.ofMillis(200),
                Duration.ofMillis(500),
                Duration.ofSeconds(30),
                Duration.ofSeconds(2));
    }

    /** This configuration asking for {@code n} in-sync followers. */
    public ClusterConfig withMinInsync(int n) {
        return new ClusterConfig(connectString, group, nodeId, n, sessionTimeout, lease, tick, grace, block, isrLag);
    }

    /** This configuration with other timings. */
    public ClusterConfig withTimings(
            Duration session, Duration newLease, Duration newTick, Duration newGrace, Duration newBlock) {
        return new ClusterConfig(
                connectString, group, nodeId, minInsync, session, newLease, newTick, newGrace, newBlock, isrLag);
    }

    /** This configuration with another ISR lag bound. */
    public ClusterConfig withIsrLag(Duration lag) {
        return new ClusterConfig(
                connectString, group, nodeId, minInsync, sessionTimeout, lease, tick, grace, block, lag);
    }
}
