package dev.armdb.cluster;

import dev.armdb.ArmDbCorruptException;
import dev.armdb.cluster.FailoverDecision.Decision;
import dev.armdb.cluster.FailoverDecision.Kind;
import dev.armdb.cluster.FailoverDecision.Policy;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's controller, run by whichever node holds the controller latch: for every group it reads the group
 * state and the member znodes, applies {@link FailoverDecision}, and writes the result with compare-and-set on the
 * state znode's version (creation for a bootstrap), so that a controller acting on a stale read loses instead of
 * overwriting. It keeps, per group, since when the leader has been unusable and since when the member set has been
 * stable, measured on the monotonic clock from its own observations (a new controller starts these clocks afresh).
 *
 * <p>Threading: confined to the node's cluster thread.
 */
final class Controller {
    private static final Logger LOG = LoggerFactory.getLogger(Controller.class);

    private final CuratorFramework zk;
    private final Policy policy;
    private final LongSupplier wallMillis;
    private final LongSupplier nanoClock;
    private final Map<String, GroupClock> clocks = new HashMap<>();
    private final ClusterMetrics metrics;

    /** What the controller has seen of one group. */
    private static final class GroupClock {
        long leaderUnusableSince = -1;
        String leaderSeenUnusable = "";
        List<String> memberIds = List.of();
        long membersSince;
    }

    Controller(CuratorFramework zk, Policy policy, LongSupplier wallMillis, LongSupplier nanoClock) {
        this(zk, policy, wallMillis, nanoClock, new ClusterMetrics());
    }

    /** A controller that counts the failovers it writes in {@code metrics}. */
    Controller(
            CuratorFramework zk,
            Policy policy,
            LongSupplier wallMillis,
            LongSupplier nanoClock,
            ClusterMetrics metrics) {
        this.zk = zk;
        this.policy = policy;
        this.wallMillis = wallMillis;
        this.nanoClock = nanoClock;
        this.metrics = metrics;
    }

    /** Forgets what was observed: called when this node (re)gains the controller role. */
    void reset() {
        clocks.clear();
    }

    /** Failovers this controller wrote. */
    long failovers() {
        return metrics.failovers.sum();
    }

    /** Decides for every group once; returns the decisions by group. */
    Map<String, Decision> doWork() throws Exception {
        Map<String, Decision> out = new HashMap<>();
        if (zk.checkExists().forPath(GroupPaths.GROUPS) == null) {
            return out;
        }
        for (String g : zk.getChildren().forPath(GroupPaths.GROUPS)) {
            out.put(g, decide(g));
        }
        return out;
    }

    /** Decides for group {@code g} and writes the result; returns the decision. */
    Decision decide(String g) throws Exception {
        Stat stat = new Stat();
        GroupState state = readState(g, stat);
        List<MemberInfo> members = readMembers(zk, g);
        long now = nanoClock.getAsLong();
        GroupClock c = clocks.computeIfAbsent(g, k -> {
            GroupClock gc = new GroupClock();
            gc.membersSince = now;
            return gc;
        });
        List<String> ids = members.stream().map(MemberInfo::nodeId).sorted().toList();
        if (!ids.equals(c.memberIds)) {
            c.memberIds = ids;
            c.membersSince = now;
        }
        boolean usable = FailoverDecision.leaderUsable(state, members);
        String leader = state == null ? "" : state.leader();
        if (usable || !leader.equals(c.leaderSeenUnusable)) {
            c.leaderUnusableSince = usable ? -1 : now;
            c.leaderSeenUnusable = usable ? "" : leader;
        }
        long unusableMillis = c.leaderUnusableSince < 0 ? -1 : (now - c.leaderUnusableSince) / 1_000_000;
        boolean quorum = zk.getZookeeperClient().isConnected();
        Decision d = FailoverDecision.decide(
                new FailoverDecision.Input(
                        state,
                        members,
                        wallMillis.getAsLong(),
                        unusableMillis,
                        (now - c.membersSince) / 1_000_000,
                        quorum),
                policy);
        if (d.kind() != Kind.NONE) {
            write(g, d, state == null ? -1 : stat.getVersion());
        }
        return d;
    }

    /**
     * Writes {@code d}'s state for group {@code g} if the state znode still has {@code version} (-1: if there is none
     * yet).
     *
     * @return true if written; false if another writer changed the state since it was read (nothing written)
     */
    boolean write(String g, Decision d, int version) throws Exception {
        byte[] bytes = GroupStateLayout.encode(d.next());
        try {
            if (version < 0) {
                zk.create()
                        .creatingParentContainersIfNeeded()
                        .withMode(CreateMode.PERSISTENT)
                        .forPath(GroupPaths.state(g), bytes);
            } else {
                zk.setData().withVersion(version).forPath(GroupPaths.state(g), bytes);
            }
        } catch (KeeperException.BadVersionException | KeeperException.NodeExistsException e) {
            LOG.warn(
                    "group {}: group state changed under the controller ({}); deciding again on the next tick",
                    g,
                    e.code());
            return false;
        }
        if (d.kind() == Kind.FAILOVER) {
            metrics.failovers.increment();
            LOG.warn("group {}: {}", g, d.reason());
        } else {
            LOG.info(
                    "group {}: {} -> leader {} term {} ISR {}",
                    g,
                    d.reason(),
                    d.next().leader(),
                    d.next().term(),
                    d.next().isr());
        }
        return true;
    }

    /** The group state, its znode's version in {@code stat}; null if there is none. */
    private GroupState readState(String g, Stat stat) throws Exception {
        try {
            return GroupStateLayout.decode(zk.getData().storingStatIn(stat).forPath(GroupPaths.state(g)));
        } catch (KeeperException.NoNodeException e) {
            return null;
        }
    }

    /** The members that are present and readable; a damaged one is left out (with a warning). */
    static List<MemberInfo> readMembers(CuratorFramework zk, String g) throws Exception {
        List<MemberInfo> out = new ArrayList<>();
        List<String> names;
        try {
            names = zk.getChildren().forPath(GroupPaths.members(g));
        } catch (KeeperException.NoNodeException e) {
            return out;
        }
        for (String n : names) {
            try {
                MemberInfo m = MemberLayout.decode(zk.getData().forPath(GroupPaths.member(g, n)));
                if (m.nodeId().equals(n)) {
                    out.add(m);
                } else {
                    LOG.warn("group {}: member znode {} names node {}; ignored", g, n, m.nodeId());
                }
            } catch (KeeperException.NoNodeException e) {
                // its session ended between the listing and the read
            } catch (ArmDbCorruptException e) {
                LOG.warn("group {}: member znode {} unreadable: {}", g, n, e.getMessage());
            }
        }
        return out;
    }
}
