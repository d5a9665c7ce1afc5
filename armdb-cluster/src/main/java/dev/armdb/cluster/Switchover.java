package dev.armdb.cluster;

import dev.armdb.ArmDbCorruptException;
import dev.armdb.ArmDbException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.BoundedExponentialBackoffRetry;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A planned switchover of a group's leadership to a chosen follower, with no copy and no loss: {@code armdb cluster
 * switchover} ({@link #run}) and the leader's part ({@link ClusterNode}) meet in the group's switchover znode ({@link
 * SwitchoverLayout}).
 *
 * <ol>
 *   <li>The operator's side checks the target (a follower of the leader in its term, durability GROUP or SYNC, clean
 *       start) and creates the request, in one transaction with a check of the state's version.
 *   <li>The leader refuses writes (its gate, then every shard's lock, so writes already past the gate finish),
 *       waits until no reply waits for acknowledgements, forces everything and records its last LSNs in the request.
 *   <li>Once the target reports exactly those LSNs applied on every shard, the operator's side writes, in one
 *       transaction, the group state naming the target under a higher term (empty ISR) and the request as done.
 *   <li>The target promotes itself under that term and, seeing the request done for it, takes writes without waiting
 *       out a lease (the old leader stopped before the term was written); the old leader follows it and catches up by
 *       a scan of what changed since (it holds exactly the history the target inherited).
 * </ol>
 *
 * <p>The leader takes writes again only after a round in which it read no request stopping it and then read a state
 * naming it: removing a request (abandoning it) and completing it are each one write, so a leader that finds the
 * request gone after it was completed also finds the new state. A request the operator's side abandons is removed at
 * once; one left behind (that side died) is removed by the leader {@value #ABANDON_AFTER_DEADLINE_MILLIS} ms after
 * its deadline.
 *
 * <p>Threading: {@link #run} on the caller's thread; the helpers on a node's cluster thread.
 */
public final class Switchover {
    private static final Logger LOG = LoggerFactory.getLogger(Switchover.class);
    /** How long after a request's deadline its leader removes it and takes writes again. */
    static final long ABANDON_AFTER_DEADLINE_MILLIS = 5_000;

    private static final long POLL_MILLIS = 50;

    /** A request as read, with its znode's version; {@code request} null if it was unreadable. */
    record Read(SwitchoverRequest request, int version) {}

    /**
     * What a switchover did.
     *
     * @param from the old leader
     * @param to the new leader
     * @param fromTerm the old leader's term
     * @param toTerm the new leader's term
     * @param lsns the last LSN per shard of the old leader, which the new one had applied exactly
     * @param pausedMillis from the request to the new leader reporting itself writable
     * @param oldLeaderFollows true if the old leader was seen streaming from the new one before the timeout
     */
    public record Outcome(
            String from,
            String to,
            long fromTerm,
            long toTerm,
            List<Long> lsns,
            long pausedMillis,
            boolean oldLeaderFollows) {}

    private Switchover() {}

    /** The group's switchover request, or null if there is none. */
    static Read read(CuratorFramework zk, String group) throws Exception {
        Stat stat = new Stat();
        byte[] bytes;
        try {
            bytes = zk.getData().storingStatIn(stat).forPath(GroupPaths.switchover(group));
        } catch (KeeperException.NoNodeException e) {
            return null;
        }
        try {
            return new Read(SwitchoverLayout.decode(bytes), stat.getVersion());
        } catch (ArmDbCorruptException e) {
            LOG.warn("group {}: switchover znode unreadable: {}", group, e.getMessage());
            return new Read(null, stat.getVersion());
        }
    }

    /** Replaces the request read as {@code read} with {@code next}; false if it changed or went since. */
    static boolean update(CuratorFramework zk, String group, Read read, SwitchoverRequest next) throws Exception {
        try {
            zk.setData()
                    .withVersion(read.version())
                    .forPath(GroupPaths.switchover(group), SwitchoverLayout.encode(next));
            LOG.info("group {}: {}", group, next);
            return true;
        } catch (KeeperException.BadVersionException | KeeperException.NoNodeException e) {
            return false;
        }
    }

    /** Removes the request read as {@code read}, unless it changed or went since. */
    static void remove(CuratorFramework zk, String group, Read read, String why) throws Exception {
        try {
            zk.delete().withVersion(read.version()).forPath(GroupPaths.switchover(group));
            LOG.info(
                    "group {}: removed {}: {}",
                    group,
                    read.request() == null ? "an unreadable switchover" : read.request(),
                    why);
        } catch (KeeperException.BadVersionException | KeeperException.NoNodeException e) {
            // changed or gone: looked at again next round
        }
    }

    /** True if {@code read} is a completed switchover to {@code nodeId} into {@code state}'s term. */
    static boolean handedOverTo(Read read, String nodeId, GroupState state) {
        SwitchoverRequest r = read == null ? null : read.request();
        return r != null
                && r.phase() == SwitchoverRequest.Phase.DONE
                && r.target().equals(nodeId)
                && r.toTerm() == state.term();
    }

    /**
     * Hands the leadership of {@code group} to {@code target}, waiting at most {@code timeout} in all; reports each step
     * to {@code progress}.
     *
     * @param connectString ZooKeeper's connect string with the cluster's chroot, as nodes are given it
     * @throws ArmDbException if the switchover was refused or did not complete in time; the leader then takes writes
     *     again (the message says what was not reached)
     */
    public static Outcome run(
            String connectString, String group, String target, Duration timeout, Consumer<String> progress) {
        NodeIds.check(group, "group");
        NodeIds.check(target, "target node id");
        long deadline = System.nanoTime() + timeout.toNanos();
        CuratorFramework zk = connect(connectString, timeout);
        try {
            zk.start();
            if (!zk.blockUntilConnected((int) Math.max(1, timeout.toMillis()), TimeUnit.MILLISECONDS)) {
                throw new ArmDbException(
                        "cannot reach ZooKeeper at " + connectString + " within " + timeout.toMillis() + " ms");
            }
            return new Operator(zk, group, target, timeout, deadline, progress).run();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ArmDbException("switchover of group " + group + " interrupted", e);
        } catch (ArmDbException e) {
            throw e;
        } catch (Exception e) {
            throw new ArmDbException("switchover of group " + group + " to " + target + " failed: " + e, e);
        } finally {
            zk.close();
        }
    }

    private static CuratorFramework connect(String connectString, Duration timeout) {
        int slash = connectString.indexOf('/');
        String servers = slash < 0 ? connectString : connectString.substring(0, slash);
        String namespace = slash < 0 ? null : connectString.substring(slash + 1);
        int millis = (int) Math.min(Integer.MAX_VALUE, Math.max(1_000, timeout.toMillis()));
        return CuratorFrameworkFactory.builder()
                .connectString(servers)
                .namespace(namespace == null || namespace.isEmpty() ? null : namespace)
                .sessionTimeoutMs(millis)
                .connectionTimeoutMs(millis)
                .retryPolicy(new BoundedExponentialBackoffRetry(100, 1_000, 3))
                .build();
    }

    /** The operator's side of one switchover. */
    private static final class Operator {
        private final CuratorFramework zk;
        private final String group;
        private final String target;
        private final Duration timeout;
        private final long deadline;
        private final Consumer<String> progress;
        private long lastReport;
        private String lastReported = "";

        Operator(
                CuratorFramework zk,
                String group,
                String target,
                Duration timeout,
                long deadline,
                Consumer<String> progress) {
            this.zk = zk;
            this.group = group;
            this.target = target;
            this.timeout = timeout;
            this.deadline = deadline;
            this.progress = progress;
        }

        Outcome run() throws Exception {
            Stat stat = new Stat();
            GroupState state = requestStop(stat);
            long started = System.nanoTime();
            String leader = state.leader();
            long[] lsns;
            GroupState next;
            try {
                lsns = awaitTargetAtLeaderLsns(state);
                next = complete(state, lsns);
            } catch (Exception e) {
                abandon();
                throw e;
            }
            progress.accept("group " + group + ": " + target + " named leader in term " + next.term());
            long pausedMillis = awaitNewLeader(next, started);
            boolean follows = awaitOldLeaderFollowing(leader, next);
            Read left = read(zk, group);
            if (left != null && left.request() != null && left.request().phase() == SwitchoverRequest.Phase.DONE) {
                remove(zk, group, left, "completed");
            }
            return new Outcome(
                    leader,
                    target,
                    state.term(),
                    next.term(),
                    Arrays.stream(lsns).boxed().toList(),
                    pausedMillis,
                    follows);
        }

        /** Checks the group and the target, and creates the request; returns the state it was checked against. */
        private GroupState requestStop(Stat stat) throws Exception {
            while (true) {
                GroupState state = readState(stat);
                List<MemberInfo> members = Controller.readMembers(zk, group);
                check(state, members);
                Read old = read(zk, group);
                if (old != null) {
                    SwitchoverRequest r = old.request();
                    if (r != null && r.stops(state.leader(), state.term())) {
                        throw new ArmDbException("group " + group + " has a switchover in progress already: " + r
                                + "; it ends by its deadline if nobody completes it");
                    }
                    remove(zk, group, old, "stale, before a new switchover");
                    checkTime("removing a stale switchover request");
                    continue;
                }
                long deadlineMillis =
                        System.currentTimeMillis() + Math.max(0, (deadline - System.nanoTime()) / 1_000_000);
                SwitchoverRequest request =
                        SwitchoverRequest.requested(state.leader(), target, state.term(), deadlineMillis);
                try {
                    zk.transaction()
                            .forOperations(
                                    zk.transactionOp()
                                            .check()
                                            .withVersion(stat.getVersion())
                                            .forPath(GroupPaths.state(group)),
                                    zk.transactionOp()
                                            .create()
                                            .forPath(GroupPaths.switchover(group), SwitchoverLayout.encode(request)));
                } catch (KeeperException.BadVersionException | KeeperException.NodeExistsException e) {
                    checkTime("creating the switchover request (the group state kept changing)");
                    continue;
                }
                progress.accept("group " + group + ": asked " + state.leader() + " (term " + state.term()
                        + ") to stop taking writes and hand over to " + target);
                return state;
            }
        }

        private GroupState readState(Stat stat) throws Exception {
            try {
                return GroupStateLayout.decode(zk.getData().storingStatIn(stat).forPath(GroupPaths.state(group)));
            } catch (KeeperException.NoNodeException e) {
                throw new ArmDbException("group " + group + " has no state in ZooKeeper (is the group name, and the"
                        + " chroot in --cluster, the one its nodes use?)");
            }
        }

        private void check(GroupState state, List<MemberInfo> members) {
            if (state.leader().isEmpty()) {
                throw new ArmDbException("group " + group + " has no leader to hand over from");
            }
            if (state.leader().equals(target)) {
                throw new ArmDbException(target + " leads group " + group + " already (term " + state.term() + ")");
            }
            MemberInfo leader = find(members, state.leader());
            if (leader == null || leader.replica()) {
                throw new ArmDbException("the leader " + state.leader() + " of group " + group + " is "
                        + (leader == null ? "not registered (down?)" : "not writable yet")
                        + ": a switchover needs a running leader (a dead one is replaced by the controller)");
            }
            MemberInfo t = find(members, target);
            if (t == null) {
                throw new ArmDbException(target + " is not a running member of group " + group + " (members: "
                        + members.stream().map(MemberInfo::nodeId).sorted().toList() + ")");
            }
            String why = FailoverDecision.ineligibility(t, state);
            if (why == null && !t.streaming()) {
                why = "does not stream every shard from " + state.leader() + " yet";
            }
            if (why != null) {
                throw new ArmDbException("cannot hand group " + group + " over to " + target + ": it " + why);
            }
        }

        /**
         * Waits until the leader stopped and recorded its LSNs, and the target applied exactly those on every shard.
         */
        private long[] awaitTargetAtLeaderLsns(GroupState state) throws Exception {
            Stat stat = new Stat();
            while (true) {
                Read read = read(zk, group);
                SwitchoverRequest r = read == null ? null : read.request();
                if (r == null || !r.stops(state.leader(), state.term())) {
                    throw new ArmDbException("the switchover request of group " + group + " went away: the leader "
                            + state.leader() + " abandoned it (deadline passed) or the group changed");
                }
                GroupState now = readState(stat);
                if (!now.leader().equals(state.leader()) || now.term() != state.term()) {
                    throw new ArmDbException("group " + group + " changed during the switchover: " + now.reason());
                }
                MemberInfo t = find(Controller.readMembers(zk, group), target);
                if (r.phase() == SwitchoverRequest.Phase.STOPPED && t != null) {
                    String why = FailoverDecision.ineligibility(t, state);
                    if (why != null) {
                        throw new ArmDbException("cannot hand group " + group + " over to " + target + ": it " + why);
                    }
                    if (t.streaming() && Arrays.equals(t.appliedLsns(), r.stoppedLsns())) {
                        progress.accept(target + " applied exactly " + state.leader() + "'s LSNs "
                                + Arrays.toString(r.stoppedLsns()));
                        return r.stoppedLsns();
                    }
                    report(target + " at " + (t.streaming() ? "" : "(not streaming) ")
                            + Arrays.toString(t.appliedLsns()) + ", " + state.leader() + " stopped at "
                            + Arrays.toString(r.stoppedLsns()));
                } else if (t == null) {
                    throw new ArmDbException(target + " left group " + group + " during the switchover");
                } else {
                    report("waiting for " + state.leader() + " to stop taking writes and to finish those under way");
                }
                checkTime("waiting for " + target + " to apply exactly " + state.leader() + "'s last writes");
                Thread.sleep(POLL_MILLIS);
            }
        }

        /** Names the target leader under a higher term and marks the request done, in one transaction. */
        private GroupState complete(GroupState checked, long[] lsns) throws Exception {
            Stat stat = new Stat();
            while (true) {
                GroupState state = readState(stat);
                if (!state.leader().equals(checked.leader()) || state.term() != checked.term()) {
                    throw new ArmDbException("group " + group + " changed during the switchover: " + state.reason());
                }
                Read read = read(zk, group);
                if (read == null || read.request() == null || !read.request().stops(state.leader(), state.term())) {
                    throw new ArmDbException("the switchover request of group " + group
                            + " went away before it completed (deadline passed?)");
                }
                long term = state.term();
                for (MemberInfo m : Controller.readMembers(zk, group)) {
                    term = Math.max(term, m.term());
                }
                term++;
                GroupState next = new GroupState(
                        term,
                        target,
                        List.of(),
                        state.minInsync(),
                        state.lastFailoverMillis(),
                        "switchover: " + state.leader() + " -> " + target + " at LSNs " + Arrays.toString(lsns)
                                + " (planned)",
                        state.lastFailoverReason());
                try {
                    zk.transaction()
                            .forOperations(
                                    zk.transactionOp()
                                            .setData()
                                            .withVersion(stat.getVersion())
                                            .forPath(GroupPaths.state(group), GroupStateLayout.encode(next)),
                                    zk.transactionOp()
                                            .setData()
                                            .withVersion(read.version())
                                            .forPath(
                                                    GroupPaths.switchover(group),
                                                    SwitchoverLayout.encode(
                                                            read.request().done(term))));
                    return next;
                } catch (KeeperException.BadVersionException | KeeperException.NoNodeException e) {
                    // the leader changed its ISR, or touched the request: look again
                    checkTime("writing the new leader (the group state kept changing)");
                }
            }
        }

        /** Waits until the new leader reports itself writable in its term; returns the time since the request. */
        private long awaitNewLeader(GroupState next, long started) throws Exception {
            while (true) {
                MemberInfo t = find(Controller.readMembers(zk, group), target);
                if (t != null && !t.replica() && t.term() == next.term()) {
                    long millis = (System.nanoTime() - started) / 1_000_000;
                    progress.accept(target + " leads group " + group + " in term " + next.term() + "; writes were"
                            + " paused about " + millis + " ms");
                    return millis;
                }
                report("waiting for " + target + " to promote itself");
                if (System.nanoTime() - deadline > 0) {
                    throw new ArmDbException("the switchover of group " + group + " to " + target + " was written"
                            + " (term " + next.term() + "), but " + target + " did not report itself leader within "
                            + timeout.toMillis() + " ms; it promotes when it next reads the group state");
                }
                Thread.sleep(POLL_MILLIS);
            }
        }

        /** Waits (until the deadline) for the old leader to stream from the new one; false if it did not yet. */
        private boolean awaitOldLeaderFollowing(String old, GroupState next) throws Exception {
            while (System.nanoTime() - deadline < 0) {
                MemberInfo o = find(Controller.readMembers(zk, group), old);
                if (o != null && o.replica() && o.following().equals(target) && o.streaming()) {
                    progress.accept(old + " follows " + target);
                    return true;
                }
                report("waiting for " + old + " to follow " + target);
                Thread.sleep(POLL_MILLIS);
            }
            return false;
        }

        /** Removes the request, so that the leader takes writes again. */
        private void abandon() {
            try {
                Read read = read(zk, group);
                if (read != null && read.request() != null && read.request().phase() != SwitchoverRequest.Phase.DONE) {
                    zk.delete().forPath(GroupPaths.switchover(group));
                    progress.accept("switchover abandoned; the leader takes writes again");
                }
            } catch (Exception e) {
                progress.accept("could not remove the switchover request (" + e + "); the leader takes writes"
                        + " again " + ABANDON_AFTER_DEADLINE_MILLIS + " ms after its deadline");
            }
        }

        private void checkTime(String what) {
            if (System.nanoTime() - deadline > 0) {
                throw new ArmDbException("switchover of group " + group + " to " + target + " timed out after "
                        + timeout.toMillis() + " ms " + what);
            }
        }

        /** Reports {@code what} when it changed, or once a second. */
        private void report(String what) {
            long now = System.nanoTime();
            if (!what.equals(lastReported) || now - lastReport > 1_000_000_000L) {
                lastReported = what;
                lastReport = now;
                progress.accept(what);
            }
        }

        private static MemberInfo find(List<MemberInfo> members, String id) {
            for (MemberInfo m : members) {
                if (m.nodeId().equals(id)) {
                    return m;
                }
            }
            return null;
        }
    }
}
