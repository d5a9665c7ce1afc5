package dev.armdb.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.cluster.ClusterStatus;
import dev.armdb.cluster.GroupState;
import dev.armdb.cluster.StandaloneZooKeeper;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Failover faults on real {@code serve --cluster} processes (three nodes, {@code --min-insync 1}, short timings:
 * session 3 s, lease 2 s, tick 100 ms, grace 500 ms, block 15 s), so that SIGKILL and SIGSTOP are real, with a
 * writer per node and the {@link FaultHistory} checker after every scenario: the accept windows the nodes report never
 * overlap across terms, every acknowledged write is on every node after healing (or overwritten by a later one), no
 * refused write is, and the digests of all nodes are equal.
 *
 * <ul>
 *   <li>the leader SIGSTOPped past its session timeout, then SIGCONT: it refuses the write that waited in its socket,
 *       its accepts ended before the successor's began, it follows the successor and converges; the follower that
 *       stayed up resumes from the successor without a full copy;
 *   <li>the leader's replication links to its followers cut, ZooKeeper intact (each node publishes a proxy in front of
 *       its replication port as its replication address; the proxy tells the followers' connections apart by their
 *       processes): one follower cut leaves the ISR before a write is acknowledged without it and writes go on, all on
 *       the follower still in sync; both cut, writes get {@code -NOREPLICAS}; no failover; after the heal both rejoin;
 *   <li>the leader's ZooKeeper session expired by the server while the process runs: its accepts end within its lease
 *       of the expiry, the controller fails over, the old leader opens a new session, follows and converges;
 *   <li>the leader cut from ZooKeeper alone (its proxy drops every byte): its accepts end within its lease of the
 *       cut, before the successor's; after the heal it follows and converges; the followers that leave it for the
 *       successor refuse it with STALE_TERM (counted, asserted in every round);
 *   <li>two leaders killed faster than the block period: the second failover waits for the block period, so terms
 *       rise by exactly two;
 *   <li>two of three ZooKeeper servers killed (a quorum lost): the leader's accepts end within its lease, no failover,
 *       the same leader writes again once the servers are back;
 *   <li>the same for longer than the session timeout, so that every node's ZooKeeper client gives its session up:
 *       no write is acknowledged anywhere from a lease after the loss until the servers are back, then a leader
 *       writes again and the group converges.
 * </ul>
 *
 * <p>The default suite runs each scenario once ({@code -Darmdb.fault.rounds=N}, {@code -Psoak}: 200 rounds); half the
 * writes go to keys no other write sets, the other half to a small shared key space; the writers' keys are drawn
 * from a seed printed at the start ({@code -Darmdb.fault.seed=N} repeats it). Every wait is
 * bounded; on a failure the end of every node's log is printed.
 */
class ClusterFaultSystemTest {
    private static final long SEED = Long.getLong("armdb.fault.seed", System.nanoTime());
    private static final int ROUNDS = Integer.getInteger("armdb.fault.rounds", 1);
    private static final String GROUP = "faults";
    private static final String CHROOT = "/armdb-faults";
    private static final long SESSION_MILLIS = 3_000;
    private static final long LEASE_MILLIS = 2_000;
    private static final long GRACE_MILLIS = 500;
    private static final long BLOCK_MILLIS = 15_000;
    private static final List<String> OPTIONS = List.of(
            "--min-insync",
            "1",
            "--session-timeout",
            SESSION_MILLIS + "ms",
            "--lease",
            LEASE_MILLIS + "ms",
            "--cluster-tick",
            "100ms",
            "--failover-grace",
            GRACE_MILLIS + "ms",
            "--failover-block",
            BLOCK_MILLIS + "ms");
    private static final List<String> IDS = List.of("n1", "n2", "n3");
    /** Keys per MGET when the values of the load's keys are read. */
    private static final int MGET_KEYS = 500;

    @TempDir
    Path tmp;

    private final List<NodeProcess> nodes = new ArrayList<>();
    private final Map<String, FaultProxy> zkLinks = new HashMap<>();
    private final Map<String, FaultProxy> replLinks = new HashMap<>();
    private final Map<String, List<FaultProxy>> ensembleLinks = new HashMap<>();
    private final Random random = new Random(SEED);
    private StandaloneZooKeeper zk;
    private TestingCluster ensemble;
    private GroupWatch status;
    private CuratorFramework zkReader;
    private FaultHistory history;
    private FaultLoad load;

    @BeforeAll
    static void quietZooKeeper() {
        ClusterStatusCommand.quietZooKeeperLogs();
        System.out.printf("ClusterFaultSystemTest: seed %d (-Darmdb.fault.seed), %d round(s)%n", SEED, ROUNDS);
    }

    @AfterEach
    void stopEverything() throws Exception {
        if (load != null) {
            load.close();
        }
        for (NodeProcess n : nodes) {
            n.close();
        }
        if (status != null) {
            status.close();
        }
        if (zkReader != null) {
            zkReader.close();
        }
        zkLinks.values().forEach(FaultProxy::close);
        replLinks.values().forEach(FaultProxy::close);
        ensembleLinks.values().forEach(l -> l.forEach(FaultProxy::close));
        if (zk != null) {
            zk.close();
        }
        if (ensemble != null) {
            ensemble.close();
        }
    }

    @Test
    void aPausedLeaderAZooKeeperCutAndKillsFasterThanTheBlockPeriod() throws Exception {
        zk = StandaloneZooKeeper.start(tmp.resolve("zk"), new InetSocketAddress("127.0.0.1", 0));
        for (String id : IDS) {
            // each node reaches ZooKeeper through a proxy of its own, so that one node can be cut off alone
            FaultProxy p = new FaultProxy(zk.address());
            zkLinks.put(id, p);
            // and its followers reach its replication port through another, which it publishes as its replication
            // address; a fixed port, so that the proxy's target holds across promotions and restarts
            int replPort = TestPorts.free();
            FaultProxy r = new FaultProxy(new InetSocketAddress("127.0.0.1", replPort));
            replLinks.put(id, r);
            List<String> options = new ArrayList<>(OPTIONS);
            options.addAll(List.of("--repl-port", "" + replPort, "--repl-advertise", r.connectString()));
            nodes.add(NodeProcess.start(id, tmp.resolve(id), p.connectString() + CHROOT, GROUP, options));
        }
        status = new GroupWatch(zk.connectString() + CHROOT, GROUP);
        // reads the owner of a node's ephemeral member znode: its session
        zkReader = CuratorFrameworkFactory.newClient(zk.connectString(), new RetryOneTime(100));
        zkReader.start();
        guarded(() -> {
            awaitFormed();
            long zombieRefusals = 0;
            for (int round = 1; round <= ROUNDS; round++) {
                pausedLeaderIsFencedAndConverges(round);
                replicationCutShrinksTheIsrWithoutFailover(round);
                expiredLeaderSessionFailsOver(round);
                long refusals = leaderCutFromZooKeeperStopsWithinItsLease(round);
                assertThat(refusals)
                        .as("STALE_TERM refusals of the zombie of round %d by the followers leaving it", round)
                        .isPositive();
                zombieRefusals += refusals;
                killsFasterThanTheBlockPeriodDoNotFlap(round);
            }
            System.out.printf(
                    "STALE_TERM refusals of the leaders cut from ZooKeeper: %d in %d round(s)%n",
                    zombieRefusals, ROUNDS);
        });
    }

    @Test
    void losingTheZooKeeperQuorumStopsWritesWithinTheLeaseWithoutFailover() throws Exception {
        List<InstanceSpec> specs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            specs.add(new InstanceSpec(
                    Files.createDirectories(tmp.resolve("zk" + i)).toFile(),
                    -1,
                    -1,
                    -1,
                    true,
                    -1,
                    StandaloneZooKeeper.TICK_MILLIS,
                    -1));
        }
        ensemble = new TestingCluster(specs);
        ensemble.start();
        for (String id : IDS) {
            // a proxy per server shows which server the node's session uses at first (nothing is cut here)
            List<FaultProxy> proxies = new ArrayList<>();
            for (InstanceSpec spec : specs) {
                proxies.add(new FaultProxy(new InetSocketAddress("127.0.0.1", spec.getPort())));
            }
            ensembleLinks.put(id, proxies);
            String connect = String.join(
                            ",", proxies.stream().map(FaultProxy::connectString).toList())
                    + CHROOT;
            nodes.add(NodeProcess.start(id, tmp.resolve(id), connect, GROUP, OPTIONS));
        }
        status = new GroupWatch(ensemble.getConnectString() + CHROOT, GROUP);
        guarded(() -> {
            awaitFormed();
            for (int round = 1; round <= ROUNDS; round++) {
                quorumLossStopsWritesWithoutFailover(round, specs);
                longQuorumLossStopsWritesAndConverges(round, specs);
            }
        });
    }

    /** Scenario: SIGSTOP of the leader past its session timeout, then SIGCONT. */
    private void pausedLeaderIsFencedAndConverges(int round) throws Exception {
        startLoad("paused leader, round " + round);
        GroupState before = awaitState();
        String old = before.leader();
        awaitAcked(old, System.nanoTime(), 20);
        NodeProcess victim = node(old);
        // where each follower's log stands: the one not named successor must resume without a copy
        Map<String, Integer> logsBefore = new HashMap<>();
        for (NodeProcess n : nodes) {
            logsBefore.put(n.id(), n.log().length());
        }
        long pausedAt = System.nanoTime();
        victim.pause();
        // a write that waits in the paused leader's socket: the first thing it meets when it resumes
        Thread probe = load.probe(victim, random.nextLong());
        GroupState after = awaitSuccessorWriting(before, pausedAt);
        Thread.sleep(500);
        victim.resume();
        probe.join(FaultLoad.REPLY_TIMEOUT_MILLIS + 5_000L);
        assertThat(history.writes())
                .as("the write sent to %s while it was paused", old)
                .filteredOn(w -> w.writer().equals(probe.getName()))
                .singleElement()
                .satisfies(w -> assertThat(w.outcome()).as(w.toString()).isEqualTo(FaultHistory.Outcome.REFUSED));
        awaitHealed();
        assertNoneAckedOn(old, pausedAt);
        assertThat(after.term()).isEqualTo(before.term() + 1);
        NodeProcess bystander = nodes.stream()
                .filter(n -> !n.id().equals(old) && !n.id().equals(after.leader()))
                .findFirst()
                .orElseThrow();
        assertResumedWithoutACopy(bystander, logsBefore.get(bystander.id()), after.leader());
        check("paused leader " + old + ", successor " + after.leader());
    }

    /**
     * The follower {@code n}, which stayed up through a failover, caught up with the successor on every shard again
     * without a full copy: it followed the old leader's history, a prefix of the successor's (the failover picks the
     * in-sync follower with the most applied), so a backlog or a partial scan is enough. Reads its log from {@code
     * logFrom} on.
     */
    private void assertResumedWithoutACopy(NodeProcess n, int logFrom, String successor) throws IOException {
        String since = n.log().substring(logFrom);
        long caughtUp =
                since.lines().filter(l -> l.contains(": caught up to LSN ")).count();
        System.out.printf(
                "  %s, which stayed up, caught up with %s on %d shard session(s) since the fault, %d full resync(s)%n",
                n.id(),
                successor,
                caughtUp,
                since.lines().filter(l -> l.contains(": full resync ")).count());
        assertThat(caughtUp)
                .as("%s's shard sessions caught up since the fault", n.id())
                .isPositive();
        assertThat(since.lines())
                .as("%s re-pointed at the successor %s without a full copy", n.id(), successor)
                .noneMatch(l -> l.contains(": full resync "));
    }

    /**
     * Scenario: the leader's link to ZooKeeper blackholed, replication and clients untouched. Returns the STALE_TERM
     * refusals the followers counted meanwhile: the zombie streams to them until they re-point at the successor, and
     * one that has read the new term by then refuses it.
     */
    private long leaderCutFromZooKeeperStopsWithinItsLease(int round) throws Exception {
        startLoad("leader cut from ZooKeeper, round " + round);
        GroupState before = awaitState();
        String old = before.leader();
        awaitAcked(old, System.nanoTime(), 20);
        long staleBefore = staleTermsSent();
        long cut = System.nanoTime();
        zkLinks.get(old).blackhole();
        GroupState after = awaitSuccessorWriting(before, cut);
        Thread.sleep(500);
        zkLinks.get(old).heal();
        awaitHealed();
        load.sampleOnce();
        FaultHistory.Window w = history.windowsOf(old).get(before.term());
        assertThat(w).as("accepts of %s in term %d", old, before.term()).isNotNull();
        assertThat(w.last() - cut)
                .as("%s accepted its last write this long after the cut (lease %d ms)", old, LEASE_MILLIS)
                .isLessThan(TimeUnit.MILLISECONDS.toNanos(LEASE_MILLIS));
        assertNoneAckedOn(old, cut + TimeUnit.MILLISECONDS.toNanos(LEASE_MILLIS));
        assertThat(after.term()).isEqualTo(before.term() + 1);
        check("leader " + old + " cut from ZooKeeper, successor " + after.leader());
        return staleTermsSent() - staleBefore;
    }

    /**
     * Scenario: the leader's ZooKeeper session expired by the server while the process runs and reaches ZooKeeper (its
     * connection is closed, its client learns of the expiry when it reconnects). Its member znode goes with the session,
     * so the controller fails over once the grace has passed; the old leader refuses writes as soon as its connection
     * is SUSPENDED (well within its lease of the expiry), opens a new session, follows the successor and converges.
     */
    private void expiredLeaderSessionFailsOver(int round) throws Exception {
        startLoad("leader's session expired, round " + round);
        GroupState before = awaitState();
        // within the block period after a failover the controller would not fail over, and the old leader, back
        // under a new session, would lead on in its term (also safe); this scenario is about the failover
        long blockLeft = before.lastFailoverMillis() + BLOCK_MILLIS + 500 - System.currentTimeMillis();
        if (before.lastFailoverMillis() > 0 && blockLeft > 0) {
            System.out.printf(Locale.ROOT, "  waiting %d ms for the block period to end%n", blockLeft);
            Thread.sleep(blockLeft);
        }
        String old = before.leader();
        awaitAcked(old, System.nanoTime(), 20);
        long session = sessionOf(old);
        assertThat(session).as("%s's session (owner of its member znode)", old).isNotZero();
        long expired = System.nanoTime();
        zk.expireSession(session);
        // the old leader's own writer soon waits on a reply its followers never acknowledge (they turn to the
        // successor); writes on connections of their own, one every 100 ms, show what its fence does meanwhile
        List<Thread> probes = new ArrayList<>();
        // when the member znode is back under a new session, looked for between the probes too
        long[] back = new long[1];
        BooleanSupplier backNow = () -> {
            long now = sessionOf(old);
            back[0] = System.nanoTime();
            return now != 0 && now != session;
        };
        boolean seen = false;
        for (int i = 0; i < 15; i++) {
            probes.add(load.probe(node(old), random.nextLong()));
            Thread.sleep(100);
            seen = seen || backNow.getAsBoolean();
        }
        if (!seen) {
            await("a new session of " + old, 60, backNow);
        }
        System.out.printf(
                "  %s's member znode back under a new session %d ms after the expiry%n",
                old, (back[0] - expired) / 1_000_000);
        assertThat(back[0] - expired)
                .as("%s's member znode was gone for less than the grace (%d ms): no failover is due", old, GRACE_MILLIS)
                .isGreaterThan(TimeUnit.MILLISECONDS.toNanos(GRACE_MILLIS + 300));
        GroupState after = awaitSuccessorWriting(before, expired);
        assertThat(after.term()).as("a failover").isEqualTo(before.term() + 1);
        for (Thread p : probes) {
            p.join(FaultLoad.REPLY_TIMEOUT_MILLIS + 5_000L);
        }
        long fenced = expired + TimeUnit.MILLISECONDS.toNanos(LEASE_MILLIS / 2);
        assertThat(history.writes())
                .as("writes sent to %s on connections of their own from half a lease after the expiry", old)
                .filteredOn(x -> x.writer().startsWith("fault-probe-") && x.start() - fenced > 0)
                .isNotEmpty()
                .allSatisfy(x -> assertThat(x.outcome()).as(x.toString()).isEqualTo(FaultHistory.Outcome.REFUSED));
        awaitHealed();
        load.sampleOnce();
        FaultHistory.Window w = history.windowsOf(old).get(before.term());
        assertThat(w).as("accepts of %s in term %d", old, before.term()).isNotNull();
        System.out.printf("  %s's last accept %d ms after the expiry%n", old, (w.last() - expired) / 1_000_000);
        // the lease bounds it whatever the connection does; here the server closed the connection with the session,
        // so the node saw it SUSPENDED at once: half the lease leaves a loaded machine room
        assertThat(w.last() - expired)
                .as(
                        "%s accepted its last write this long after the server expired its session and closed its"
                                + " connection (half its lease: %d ms)",
                        old, LEASE_MILLIS / 2)
                .isLessThan(TimeUnit.MILLISECONDS.toNanos(LEASE_MILLIS / 2));
        assertThat(history.windowsOf(old).keySet())
                .as("terms %s accepted writes in", old)
                .allMatch(t -> t <= before.term());
        assertNoneAckedOn(old, fenced);
        check("session of leader " + old + " expired, successor " + after.leader());
    }

    /**
     * Scenario: the leader's replication links cut, ZooKeeper intact ({@code --min-insync 1}). One follower cut: it
     * leaves the ISR in ZooKeeper before any write is acknowledged without it, writes go on, every acknowledged write is
     * on the follower still in sync. Both cut: writes are refused ({@code -NOREPLICAS}), none acknowledged. No failover
     * throughout; after the heal both rejoin the ISR and writes are acknowledged again.
     */
    private void replicationCutShrinksTheIsrWithoutFailover(int round) throws Exception {
        startLoad("leader cut from its followers, round " + round);
        await("both followers in the ISR", 60, () -> {
            GroupState s = state();
            return s != null && !s.leader().isEmpty() && s.isr().size() == IDS.size() - 1;
        });
        GroupState before = awaitState();
        String leader = before.leader();
        List<String> followers = IDS.stream().filter(id -> !id.equals(leader)).toList();
        String cut = followers.get(random.nextInt(followers.size()));
        String kept =
                followers.stream().filter(id -> !id.equals(cut)).findFirst().orElseThrow();
        awaitAcked(leader, System.nanoTime(), 20);
        FaultProxy link = replLinks.get(leader);

        int connections = link.cut(s -> fromNode(s, cut));
        // no write begun from now on can be acknowledged by the cut follower
        long cutAt = System.nanoTime();
        long stillNamed = awaitIsr(before, List.of(kept));
        System.out.printf(
                Locale.ROOT,
                "  %s's link to %s cut (%d connections): out of the ISR %d ms later, last seen in it %d ms after the"
                        + " cut%n",
                cut,
                leader,
                connections,
                (System.nanoTime() - cutAt) / 1_000_000,
                (stillNamed - cutAt) / 1_000_000);
        assertNoneAckedBefore(leader, cutAt, stillNamed, cut);
        awaitAcked(leader, System.nanoTime(), 20);
        assertNoFailover(before);
        // every write acknowledged so far, before and after the cut, is on the follower still in sync
        load.close();
        long onKept = history.assertAcknowledgedWritesKept(valuesOn(kept));
        System.out.printf(Locale.ROOT, "  %d acknowledged writes all on %s%n", onKept, kept);

        load = new FaultLoad(nodes, history, random.nextLong());
        awaitAcked(leader, System.nanoTime(), 20);
        link.blackhole();
        long bothCut = System.nanoTime();
        long keptStillNamed = awaitIsr(before, List.of());
        long emptied = System.nanoTime();
        System.out.printf(
                Locale.ROOT, "  %s's link cut too: the ISR empty %d ms later%n", kept, (emptied - bothCut) / 1_000_000);
        await(
                "writes refused for want of in-sync replicas",
                30,
                () -> history.writes().stream()
                                .filter(w -> w.node().equals(leader)
                                        && w.start() - emptied > 0
                                        && w.reply() != null
                                        && w.reply().startsWith("-NOREPLICAS Not enough"))
                                .count()
                        >= 10);
        assertNoneAckedBefore(leader, bothCut, keptStillNamed, kept);
        assertThat(history.writes())
                .as("writes acknowledged by %s after both links were cut", leader)
                .noneMatch(w -> w.node().equals(leader)
                        && w.outcome() == FaultHistory.Outcome.ACKED
                        && w.start() - bothCut > 0);
        assertNoFailover(before);

        link.heal();
        long healed = System.nanoTime();
        awaitIsr(before, followers);
        awaitAcked(leader, healed, 20);
        System.out.printf(
                Locale.ROOT,
                "  healed: both back in the ISR and writes acknowledged %d ms later%n",
                (System.nanoTime() - healed) / 1_000_000);
        assertNoFailover(before);
        awaitHealed();
        check("leader " + leader + " cut from " + cut + ", then from " + kept + " too");
    }

    /** True if {@code proxyEnd}, a connection a proxy accepted, comes from node {@code id}'s current process. */
    private boolean fromNode(Socket proxyEnd, String id) {
        return ChildProcesses.socketOwner(proxyEnd, List.of(node(id).pid())) >= 0;
    }

    /**
     * Waits until the state names exactly {@code isr} (in any order) in {@code before}'s term; returns the start time
     * of the last read that still named another ISR: the ZooKeeper write that changed it came after that.
     */
    private long awaitIsr(GroupState before, List<String> isr) throws InterruptedException {
        long[] stillOther = {System.nanoTime()};
        await("ISR " + isr + " in term " + before.term(), 60, () -> {
            long readAt = System.nanoTime();
            GroupState s = state();
            if (s == null) {
                return false;
            }
            assertThat(s.term()).as("term while the ISR changes: no failover").isEqualTo(before.term());
            if (new TreeSet<>(s.isr()).equals(new TreeSet<>(isr))) {
                return true;
            }
            stillOther[0] = readAt;
            return false;
        });
        return stillOther[0];
    }

    /**
     * No write to {@code leader} begun after {@code cutAt} was acknowledged before {@code stillNamed}, while ZooKeeper
     * still named {@code cut} in the ISR: such a write would have been acknowledged without it (its link was cut).
     */
    private void assertNoneAckedBefore(String leader, long cutAt, long stillNamed, String cut) {
        assertThat(history.writes())
                .as(
                        "writes %s acknowledged after %s was cut (at %d) and before ZooKeeper dropped it from the ISR"
                                + " (named at %d)",
                        leader, cut, cutAt, stillNamed)
                .noneMatch(w -> w.node().equals(leader)
                        && w.outcome() == FaultHistory.Outcome.ACKED
                        && w.start() - cutAt > 0
                        && w.end() - stillNamed < 0);
    }

    private void assertNoFailover(GroupState before) throws InterruptedException {
        GroupState now = awaitState();
        assertThat(now.term()).as("no failover: term").isEqualTo(before.term());
        assertThat(now.leader()).as("no failover: leader").isEqualTo(before.leader());
        assertThat(now.lastFailoverMillis()).as("no failover").isEqualTo(before.lastFailoverMillis());
    }

    /** The ZooKeeper session of node {@code id}: the owner of its ephemeral member znode (0 if it has none now). */
    private long sessionOf(String id) {
        try {
            // the member znode's path: docs/cluster.md, "Znodes"
            Stat st = zkReader.checkExists().forPath(CHROOT + "/groups/" + GROUP + "/members/" + id);
            return st == null ? 0 : st.getEphemeralOwner();
        } catch (Exception e) {
            return 0;
        }
    }

    /** STALE_TERM refusals the nodes' INFO reports, summed (no node restarts within the scenario that reads it). */
    private long staleTermsSent() {
        long sum = 0;
        for (NodeProcess n : nodes) {
            String v = field(info(n), "armdb_cluster_stale_term_sent");
            sum += v.equals("?") ? 0 : Long.parseLong(v);
        }
        return sum;
    }

    /** Scenario: the leader killed, then its successor killed again within the block period. */
    private void killsFasterThanTheBlockPeriodDoNotFlap(int round) throws Exception {
        startLoad("kills faster than the block period, round " + round);
        GroupState s0 = awaitState();
        String first = s0.leader();
        awaitAcked(first, System.nanoTime(), 20);
        long killed = System.nanoTime();
        node(first).kill();
        GroupState s1 = awaitSuccessorWriting(s0, killed);
        assertThat(s1.term()).isEqualTo(s0.term() + 1);
        node(first).restart();
        String second = s1.leader();
        await("an in-sync follower of " + second, 60, () -> {
            GroupState s = state();
            return s != null && s.term() == s1.term() && !s.isr().isEmpty();
        });
        long killedWallMillis = System.currentTimeMillis();
        node(second).kill();
        long earliestWithoutBlock = killedWallMillis + SESSION_MILLIS + GRACE_MILLIS;
        assertThat(earliestWithoutBlock)
                .as(
                        "the second kill came %d ms after the failover: too late to show the block period",
                        killedWallMillis - s1.lastFailoverMillis())
                .isLessThan(s1.lastFailoverMillis() + BLOCK_MILLIS - 2_000);
        TreeSet<Long> terms = new TreeSet<>();
        await("a failover once the block period is over", BLOCK_MILLIS / 1_000 + 60, () -> {
            GroupState s = state();
            if (s != null) {
                terms.add(s.term());
            }
            return s != null && s.term() > s1.term();
        });
        GroupState s2 = awaitState();
        assertThat(s2.term()).as("terms seen %s", terms).isEqualTo(s1.term() + 1);
        assertThat(terms).containsExactly(s1.term(), s2.term());
        assertThat(s2.lastFailoverMillis() - s1.lastFailoverMillis())
                .as("time between the two failovers (block period %d ms)", BLOCK_MILLIS)
                .isGreaterThanOrEqualTo(BLOCK_MILLIS);
        node(second).restart();
        awaitHealed();
        check("killed " + first + " then " + second + "; failovers to " + s1.leader() + " and " + s2.leader());
    }

    /** Scenario: two of the three ZooKeeper servers killed for longer than the lease, then restarted. */
    private void quorumLossStopsWritesWithoutFailover(int round, List<InstanceSpec> specs) throws Exception {
        startLoad("ZooKeeper quorum lost, round " + round);
        GroupState before = awaitState();
        String leader = before.leader();
        awaitAcked(leader, System.nanoTime(), 20);
        // odd rounds keep the leader's own server, which then has no quorum; even rounds kill it. Which server the
        // session uses is seen on the proxies, unless Curator's ensemble tracker moved the session to a server's own
        // address (then the victims are drawn at random)
        int server = serverOf(leader);
        int n = specs.size();
        int kept;
        if (server < 0) {
            kept = random.nextInt(n);
        } else if (round % 2 == 1) {
            kept = server;
        } else {
            kept = (server + 1 + random.nextInt(n - 1)) % n;
        }
        List<InstanceSpec> victims = new ArrayList<>(specs);
        victims.remove(kept);
        System.out.printf(
                "  %s uses ZooKeeper server %s; killing %s%n",
                leader,
                server < 0 ? "?" : specs.get(server).getServerId(),
                victims.stream().map(InstanceSpec::getServerId).toList());
        long lost = killServers(victims);
        // shorter than the session: the servers come back before any session could expire
        Thread.sleep(LEASE_MILLIS + 500);
        // the leader takes writes again in the same term once the quorum is back: its record is read before
        long lastBeforeRestart = lastAccept(node(leader), before.term());
        long restored = restartServers(victims);
        awaitAcked(leader, restored, 20);
        load.sampleOnce();
        System.out.printf(
                "  %s's last accept before the restart %d ms after the quorum was lost%n",
                leader, (lastBeforeRestart - lost) / 1_000_000);
        assertStoppedWithinTheLease(leader, lastBeforeRestart, lost);
        assertThat(history.writes().stream()
                        .filter(x -> x.node().equals(leader)
                                && x.start() - lost - TimeUnit.MILLISECONDS.toNanos(LEASE_MILLIS) > 0
                                && x.end() - restored < 0))
                .as("writes on %s from a lease after the loss until the restart", leader)
                .isNotEmpty()
                .noneMatch(x -> x.outcome() == FaultHistory.Outcome.ACKED);
        GroupState after = awaitState();
        assertThat(after.term()).as("no failover").isEqualTo(before.term());
        assertThat(after.leader()).isEqualTo(leader);
        assertThat(after.lastFailoverMillis()).isEqualTo(before.lastFailoverMillis());
        awaitHealed();
        check("quorum lost with leader " + leader + ": ZooKeeper servers "
                + victims.stream().map(InstanceSpec::getServerId).toList() + " killed and restarted");
    }

    /**
     * Scenario: two of the three ZooKeeper servers killed for longer than the session timeout, then restarted. Every
     * node's ZooKeeper client gives its session up meanwhile (Curator reports it lost once the session timeout has
     * passed without a connection), so the leader stops leading, not only writing; the controller can decide
     * nothing while the quorum is gone. Once it is back the group must lead and write again, failing over or not,
     * with the checker's guarantees: never two leaders, no acknowledged write lost, the nodes converged.
     */
    private void longQuorumLossStopsWritesAndConverges(int round, List<InstanceSpec> specs) throws Exception {
        startLoad("ZooKeeper quorum lost for longer than the session timeout, round " + round);
        GroupState before = awaitState();
        String leader = before.leader();
        awaitAcked(leader, System.nanoTime(), 20);
        int kept = random.nextInt(specs.size());
        List<InstanceSpec> victims = new ArrayList<>(specs);
        victims.remove(kept);
        long lost = killServers(victims);
        Thread.sleep(SESSION_MILLIS + LEASE_MILLIS);
        long lastBeforeRestart = lastAccept(node(leader), before.term());
        long restored = restartServers(victims);
        System.out.printf(
                "  ZooKeeper without a quorum for %d ms; %s's last accept %d ms after the quorum was lost%n",
                (restored - lost) / 1_000_000, leader, (lastBeforeRestart - lost) / 1_000_000);
        assertStoppedWithinTheLease(leader, lastBeforeRestart, lost);
        assertThat(history.writes().stream()
                        .filter(x -> x.start() - lost - TimeUnit.MILLISECONDS.toNanos(LEASE_MILLIS) > 0
                                && x.end() - restored < 0))
                .as("writes on any node from a lease after the loss until the restart")
                .isNotEmpty()
                .noneMatch(x -> x.outcome() == FaultHistory.Outcome.ACKED);
        await("a leader acknowledging writes again after the quorum is back", 60, () -> {
            GroupState s = state();
            return s != null && !s.leader().isEmpty() && history.ackedOn(s.leader(), restored) >= 20;
        });
        GroupState after = awaitState();
        System.out.printf(
                "  after the restart: %s leads in term %d (before: %s in term %d), writing again %d ms after it%n",
                after.leader(),
                after.term(),
                leader,
                before.term(),
                (firstAckedSince(after.leader(), restored) - restored) / 1_000_000);
        awaitHealed();
        check("quorum lost for " + (SESSION_MILLIS + LEASE_MILLIS) + " ms with leader " + leader
                + ": ZooKeeper servers "
                + victims.stream().map(InstanceSpec::getServerId).toList()
                + " killed and restarted");
    }

    /**
     * Kills the ensemble servers {@code victims} one after the other; returns when the last kill returned, by when the
     * quorum was lost (while the second server was being killed, at the latest).
     */
    private long killServers(List<InstanceSpec> victims) throws Exception {
        long killing = System.nanoTime();
        for (InstanceSpec s : victims) {
            assertThat(ensemble.killServer(s))
                    .as("killed ZooKeeper server %d", s.getServerId())
                    .isTrue();
            System.out.printf(
                    "  killed ZooKeeper server %d %d ms after the first kill began%n",
                    s.getServerId(), (System.nanoTime() - killing) / 1_000_000);
        }
        return System.nanoTime();
    }

    /** Restarts the ensemble servers {@code victims}; returns when the restarts began. */
    private long restartServers(List<InstanceSpec> victims) throws Exception {
        long restored = System.nanoTime();
        for (InstanceSpec s : victims) {
            assertThat(ensemble.restartServer(s))
                    .as("restarted ZooKeeper server %d", s.getServerId())
                    .isTrue();
        }
        return restored;
    }

    /** {@code leader}'s last accept ({@code lastAccept}) came less than a lease after the quorum was lost. */
    private static void assertStoppedWithinTheLease(String leader, long lastAccept, long lost) {
        assertThat(lastAccept - lost)
                .as("%s accepted a write this long after the quorum was lost (lease %d ms)", leader, LEASE_MILLIS)
                .isLessThan(TimeUnit.MILLISECONDS.toNanos(LEASE_MILLIS));
    }

    /** When {@code node} answered the first write it acknowledged of those begun after {@code sinceNanos}. */
    private long firstAckedSince(String node, long sinceNanos) {
        return history.writes().stream()
                .filter(w -> w.node().equals(node)
                        && w.outcome() == FaultHistory.Outcome.ACKED
                        && w.start() - sinceNanos > 0)
                .mapToLong(FaultHistory.Write::end)
                .min()
                .orElse(sinceNanos);
    }

    /** The index of the ensemble server node {@code id}'s session is connected to, -1 if unknown. */
    private int serverOf(String id) {
        List<FaultProxy> proxies = ensembleLinks.get(id);
        for (int i = 0; i < proxies.size(); i++) {
            if (proxies.get(i).connections() > 0) {
                return i;
            }
        }
        return -1;
    }

    private void startLoad(String scenario) {
        System.out.printf(Locale.ROOT, "--- %s%n", scenario);
        history = new FaultHistory();
        load = new FaultLoad(nodes, history, random.nextLong());
    }

    /**
     * The checks after a healed scenario: no two leaders, every acknowledged write kept and no refused one applied
     * (read from the leader with MGET; the digests of all nodes are equal).
     */
    private void check(String scenario) throws IOException, InterruptedException {
        load.sampleOnce();
        history.assertNeverTwoLeaders();
        GroupState s = awaitState();
        long checked = history.assertAcknowledgedWritesKept(valuesOn(s.leader()));
        assertThat(checked).as("acknowledged writes").isPositive();
        List<String> staleTerms = new ArrayList<>();
        for (NodeProcess n : nodes) {
            String info = info(n);
            staleTerms.add(n.id() + " sent " + field(info, "armdb_cluster_stale_term_sent") + " received "
                    + field(info, "armdb_cluster_stale_term_received"));
        }
        long refused = history.writes().stream()
                .filter(w -> w.outcome() == FaultHistory.Outcome.REFUSED)
                .count();
        System.out.printf(
                Locale.ROOT,
                "%s: %d acknowledged writes kept (%d writes, %d refused), accept windows %s, STALE_TERM %s%n",
                scenario,
                checked,
                history.writes().size(),
                refused,
                history.windows(),
                staleTerms);
    }

    /** The value of every key the load wrote, on node {@code id} (null: absent), read with MGETs of a few hundred. */
    private Map<String, String> valuesOn(String id) throws IOException {
        Map<String, String> values = new LinkedHashMap<>();
        List<String> keys = history.keys();
        try (RespLink link = new RespLink(node(id).resp(), 10_000)) {
            for (int from = 0; from < keys.size(); from += MGET_KEYS) {
                List<String> part = keys.subList(from, Math.min(keys.size(), from + MGET_KEYS));
                String[] mget = new String[part.size() + 1];
                mget[0] = "MGET";
                for (int i = 0; i < part.size(); i++) {
                    mget[i + 1] = part.get(i);
                }
                List<?> read = (List<?>) link.call(mget);
                for (int i = 0; i < part.size(); i++) {
                    values.put(part.get(i), (String) read.get(i));
                }
            }
        }
        return values;
    }

    /** A port free now on loopback (for a node's replication port, which its proxy must know before it starts). */

    /** Waits until a leader writes and both other nodes are in its ISR. */
    private void awaitFormed() throws InterruptedException {
        await("a leader with both followers in its ISR", 120, () -> {
            GroupState s = state();
            return s != null && !s.leader().isEmpty() && s.isr().size() == IDS.size() - 1;
        });
    }

    /**
     * Waits until the state names a leader other than {@code before}'s in a higher term and that leader acknowledged
     * writes begun after {@code sinceNanos}; returns that state.
     */
    private GroupState awaitSuccessorWriting(GroupState before, long sinceNanos) throws InterruptedException {
        await("a successor of " + before.leader() + " acknowledging writes", 60, () -> {
            GroupState s = state();
            return s != null
                    && s.term() > before.term()
                    && !s.leader().isEmpty()
                    && !s.leader().equals(before.leader())
                    && history.ackedOn(s.leader(), sinceNanos) >= 20;
        });
        GroupState s = awaitState();
        long ms = (System.nanoTime() - sinceNanos) / 1_000_000;
        System.out.printf(
                Locale.ROOT,
                "  %s named in term %d, writing %d ms after the fault (%s)%n",
                s.leader(),
                s.term(),
                ms,
                s.lastFailoverReason());
        return s;
    }

    /**
     * Waits until every node runs, follows the named leader in its term and streams every shard, and all digests are
     * equal (the writers stopped, so the followers reach the leader's LSNs).
     */
    private void awaitHealed() throws Exception {
        load.close();
        await("every node following the leader, streaming, digests equal", 120, () -> {
            ClusterStatus.Group g = group();
            if (g == null || g.state() == null || g.state().leader().isEmpty()) {
                return false;
            }
            GroupState s = g.state();
            for (String id : IDS) {
                ClusterStatus.Member m = g.members().stream()
                        .filter(x -> x.nodeId().equals(id))
                        .findFirst()
                        .orElse(null);
                if (m == null || m.info() == null || m.info().term() != s.term()) {
                    return false;
                }
                boolean ok = id.equals(s.leader())
                        ? !m.info().replica()
                        : m.info().following().equals(s.leader()) && m.info().streaming();
                if (!ok) {
                    return false;
                }
            }
            return digests().values().stream().distinct().count() == 1;
        });
    }

    /** Each node's {@code DEBUG DIGEST}, by node; a node that does not answer maps to its failure. */
    private Map<String, String> digests() {
        Map<String, String> d = new LinkedHashMap<>();
        for (NodeProcess n : nodes) {
            InetSocketAddress a = n.resp();
            try (RespLink link = new RespLink(a, 5_000)) {
                d.put(n.id(), String.valueOf(link.call("DEBUG", "DIGEST")));
            } catch (IOException | RuntimeException e) {
                d.put(n.id(), "unreadable: " + e);
            }
        }
        return d;
    }

    private String info(NodeProcess n) {
        try (RespLink link = new RespLink(n.resp(), 5_000)) {
            return String.valueOf(link.call("INFO", "cluster"));
        } catch (IOException e) {
            return "";
        }
    }

    /** The last accept time {@code n} reports now for {@code term}; fails if it reports none. */
    private long lastAccept(NodeProcess n, long term) {
        Matcher m = Pattern.compile(
                        "armdb_cluster_accepted\\d+:term=" + term + ",first_nanos=-?\\d+,last_nanos=(-?\\d+)")
                .matcher(info(n));
        assertThat(m.find()).as("%s reports accepts in term %d", n.id(), term).isTrue();
        return Long.parseLong(m.group(1));
    }

    private static String field(String info, String name) {
        for (String line : info.split("\r\n")) {
            if (line.startsWith(name + ":")) {
                return line.substring(name.length() + 1);
            }
        }
        return "?";
    }

    private void awaitAcked(String node, long sinceNanos, long n) throws InterruptedException {
        await(n + " writes acknowledged by " + node, 60, () -> history.ackedOn(node, sinceNanos) >= n);
    }

    private void assertNoneAckedOn(String node, long sinceNanos) {
        assertThat(history.writes())
                .as("writes acknowledged by %s after it was cut off", node)
                .noneMatch(w -> w.node().equals(node)
                        && w.outcome() == FaultHistory.Outcome.ACKED
                        && w.start() - sinceNanos > 0);
    }

    private GroupState awaitState() throws InterruptedException {
        GroupState[] s = new GroupState[1];
        await("the group state", 60, () -> (s[0] = state()) != null);
        return s[0];
    }

    private GroupState state() {
        return status.state();
    }

    private ClusterStatus.Group group() {
        return status.group();
    }

    private NodeProcess node(String id) {
        return nodes.stream().filter(n -> n.id().equals(id)).findFirst().orElseThrow();
    }

    private static void await(String what, long seconds, BooleanSupplier done) throws InterruptedException {
        GroupWatch.await(what, seconds, done);
    }

    /** Runs {@code body}; on a failure prints the end of every node's log first. */
    private void guarded(Body body) throws Exception {
        try {
            body.run();
        } catch (Exception | AssertionError e) {
            for (NodeProcess n : nodes) {
                System.out.printf("--- last lines of %s's log ---%n%s%n", n.id(), n.logTail(40));
            }
            throw e;
        }
    }

    private interface Body {
        void run() throws Exception;
    }
}
