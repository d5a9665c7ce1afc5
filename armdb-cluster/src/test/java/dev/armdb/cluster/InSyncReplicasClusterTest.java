package dev.armdb.cluster;

import static dev.armdb.cluster.TestGroup.key;
import static dev.armdb.cluster.TestGroup.value;
import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * In-sync replicas on three nodes in this JVM (ZooKeeper on loopback, each follower's replication link through a
 * proxy): a write is acknowledged only once every ISR member holds it (checked by reading the members right after the
 * OK); a follower whose link is cut, with ZooKeeper intact, leaves the ISR (written to ZooKeeper before a write is
 * acknowledged without it) and no failover happens; writes go on if {@code minInsync} allows, else get {@code
 * -NOREPLICAS}; after the link heals the follower rejoins. A follower with durability NONE, caught up and streaming,
 * never joins the ISR and is never chosen to lead. A follower that is also the controller dies: the leader drops it
 * from the ISR itself, writes go on, another node becomes the controller, and no failover happens.
 */
class InSyncReplicasClusterTest {
    @TempDir
    Path tmp;

    private TestGroup group;

    @AfterEach
    void stop() {
        if (group != null) {
            group.close();
        }
    }

    /** The follower of {@code leader} that is not {@code other}. */
    private ClusterNode followerOtherThan(ClusterNode leader, ClusterNode other) {
        return group.nodes().stream()
                .filter(n -> n != leader && n != other)
                .findFirst()
                .orElseThrow();
    }

    private void cut(ClusterNode follower) {
        for (LoopbackProxy p : group.linksOf(follower)) {
            p.blackhole();
        }
    }

    private void heal(ClusterNode follower) throws Exception {
        for (LoopbackProxy p : group.linksOf(follower)) {
            p.heal();
        }
    }

    @Test
    void aCutFollowerLeavesTheIsrWithoutAFailoverWritesGoOnAndItRejoinsAfterTheHeal() throws Exception {
        group = new TestGroup(tmp);
        ClusterNode leader = group.form(1);
        GroupState before = group.state();
        ClusterNode cut = followerOtherThan(leader, null);
        ClusterNode kept = followerOtherThan(leader, cut);
        String cutId = cut.member().nodeId();
        try (Resp r = new Resp(leader.node().respAddress())) {
            for (int i = 0; i < 100; i++) {
                assertThat(r.call("SET", key(i), value(i))).isEqualTo("+OK");
                group.assertOnIsr(key(i), value(i));
            }
            assertThat(group.state().isr()).as("nothing lagged yet").hasSize(2);

            cut(cut);
            long cutAt = System.nanoTime();
            for (int i = 100; i < 300; i++) {
                assertThat(r.call("SET", key(i), value(i)))
                        .as("write %d after the cut", i)
                        .isEqualTo("+OK");
                if (i == 100) {
                    System.out.printf(
                            "ISR: first write after the cut acknowledged %d ms later, without %s%n",
                            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - cutAt), cutId);
                    assertThat(group.state().isr())
                            .as("removed from the ISR in ZooKeeper before a write was acknowledged without it")
                            .containsExactly(kept.member().nodeId());
                }
                group.assertOnIsr(key(i), value(i));
                assertThat(TestGroup.get(kept, key(i))).isEqualTo(value(i));
            }
        }
        GroupState during = group.state();
        assertThat(during.leader()).as("no failover").isEqualTo(before.leader());
        assertThat(during.term()).as("no failover").isEqualTo(before.term());
        assertThat(during.lastFailoverMillis()).isEqualTo(before.lastFailoverMillis());
        assertThat(leader.acceptsWrites()).isTrue();

        heal(cut);
        TestGroup.await(
                "the healed follower back in the ISR",
                60,
                () -> group.state().isr().size() == 2 && leader.inSyncReplicas().contains(cutId));
        try (Resp r = new Resp(leader.node().respAddress())) {
            for (int i = 300; i < 350; i++) {
                assertThat(r.call("SET", key(i), value(i))).isEqualTo("+OK");
                assertThat(TestGroup.get(cut, key(i)))
                        .as("on the rejoined follower")
                        .isEqualTo(value(i));
                assertThat(TestGroup.get(kept, key(i))).isEqualTo(value(i));
            }
        }
        for (int i = 0; i < 350; i++) {
            assertThat(TestGroup.get(cut, key(i))).as("caught up: %s", key(i)).isEqualTo(value(i));
        }
        assertThat(group.state().term()).isEqualTo(before.term());
    }

    @Test
    void belowMinInsyncWritesGetNoReplicasUntilTheFollowerRejoins() throws Exception {
        group = new TestGroup(tmp);
        ClusterNode leader = group.form(2);
        GroupState before = group.state();
        ClusterNode cut = followerOtherThan(leader, null);
        ClusterNode kept = followerOtherThan(leader, cut);
        try (Resp r = new Resp(leader.node().respAddress())) {
            for (int i = 0; i < 50; i++) {
                assertThat(r.call("SET", key(i), value(i))).isEqualTo("+OK");
                group.assertOnIsr(key(i), value(i));
            }

            cut(cut);
            assertThat(r.call("SET", key(50), value(50)))
                    .as("applied, then the ISR fell below min-insync 2 before every member acknowledged it")
                    .startsWith("-NOREPLICAS")
                    .contains("outcome is unknown");
            assertThat(group.state().isr()).containsExactly(kept.member().nodeId());
            for (int i = 51; i < 71; i++) {
                assertThat(r.call("SET", key(i), value(i))).startsWith("-NOREPLICAS Not enough good replicas to write");
                assertThat(TestGroup.get(leader, key(i)))
                        .as("refused before it was applied")
                        .isNull();
            }
            assertThat(r.call("GET", key(7))).as("reads go on").isEqualTo(value(7));
        }
        assertThat(group.state().term()).as("no failover").isEqualTo(before.term());
        assertThat(group.state().leader()).isEqualTo(before.leader());

        heal(cut);
        TestGroup.await(
                "writes taken again",
                60,
                () -> group.state().isr().size() == 2 && leader.inSyncReplicas().size() == 2);
        try (Resp r = new Resp(leader.node().respAddress())) {
            assertThat(r.call("SET", key(100), value(100))).isEqualTo("+OK");
            group.assertOnIsr(key(100), value(100));
        }
    }

    /**
     * A follower with durability NONE streams every write and is caught up, yet never joins the ISR: with the durable
     * follower gone the leader refuses writes below min-insync 1 rather than count it, and with the leader gone too no
     * failover names it, though it holds every acknowledged write.
     */
    @Test
    void aFollowerWithDurabilityNoneNeverJoinsTheIsrNorLeads() throws Exception {
        group = new TestGroup(tmp);
        ClusterNode a = group.start("n1", 1);
        ClusterNode b = group.start("n2", 1);
        TestGroup.await("one leader and an ISR of one", 60, () -> {
            GroupState s = group.state();
            ClusterNode l = s == null ? null : group.node(s.leader());
            return l != null && l.acceptsWrites() && s.isr().size() == 1;
        });
        ClusterNode leader = group.node(group.state().leader());
        ClusterNode durable = leader == a ? b : a;
        ClusterNode volatileNode = group.start("n3", 1, Durability.NONE);
        String volatileId = volatileNode.member().nodeId();
        int n = 50;
        try (Resp r = new Resp(leader.node().respAddress())) {
            for (int i = 0; i < n; i++) {
                assertThat(r.call("SET", key(i), value(i))).isEqualTo("+OK");
            }
        }
        TestGroup.await("the NONE follower caught up", 60, () -> {
            for (int i = 0; i < n; i++) {
                if (!value(i).equals(TestGroup.get(volatileNode, key(i)))) {
                    return false;
                }
            }
            return true;
        });
        assertIsrNeverHolds(volatileId, leader, 1_000);
        assertThat(group.state().isr()).containsExactly(durable.member().nodeId());

        durable.close();
        try (Resp r = new Resp(leader.node().respAddress())) {
            TestGroup.await(
                    "the durable follower out of the ISR",
                    60,
                    () -> group.state().isr().isEmpty());
            assertThat(r.call("SET", key(n), value(n)))
                    .as("a caught-up follower with durability NONE does not count towards min-insync 1")
                    .startsWith("-NOREPLICAS Not enough good replicas to write");
        }
        assertIsrNeverHolds(volatileId, leader, 1_000);

        GroupState before = group.state();
        leader.close();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        while (System.nanoTime() - deadline < 0) {
            GroupState s = group.state();
            assertThat(s.leader()).as("the leader named after the leader left").isNotEqualTo(volatileId);
            assertThat(s.term()).as("no failover").isEqualTo(before.term());
            assertThat(volatileNode.acceptsWrites()).isFalse();
            Thread.sleep(20);
        }
        for (int i = 0; i < n; i++) {
            assertThat(TestGroup.get(volatileNode, key(i)))
                    .as("it holds %s", key(i))
                    .isEqualTo(value(i));
        }
    }

    /** Checks, for {@code millis}, that neither ZooKeeper's ISR nor {@code leader}'s holds {@code id}. */
    private void assertIsrNeverHolds(String id, ClusterNode leader, long millis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (System.nanoTime() - deadline < 0) {
            assertThat(group.state().isr()).as("ISR in ZooKeeper").doesNotContain(id);
            assertThat(leader.inSyncReplicas()).as("the leader's ISR").doesNotContain(id);
            Thread.sleep(20);
        }
    }

    /**
     * The controller is a follower (after a switchover if the leader held it) and vanishes as a crashed process does:
     * its links to ZooKeeper and to the leader drop every byte, so its session, its member znode and its controller
     * latch linger until the session expires. A client writes one key at a time meanwhile: the leader removes it from
     * the ISR by its own compare-and-set one lag bound after its last acknowledgement, without waiting for a new
     * controller, and writes go on with {@code minInsync} 1; another node becomes the controller; the leader and its
     * term stay.
     */
    @Test
    void aFollowerThatIsTheControllerCrashesAndWritesGoOnWithoutAFailover() throws Exception {
        group = new TestGroup(tmp, true);
        ClusterNode leader = group.form(1);
        ClusterNode controller = controller();
        if (controller == leader) {
            ClusterNode target = followerOtherThan(leader, null);
            Switchover.run(
                    group.connectString(), TestGroup.GROUP, target.member().nodeId(), Duration.ofSeconds(60), p -> {});
            TestGroup.await(
                    "the switchover's target leading with an ISR of two",
                    60,
                    () -> target.acceptsWrites() && group.state().isr().size() == 2);
            leader = target;
        }
        GroupState before = group.state();
        ClusterNode dead = controller;
        String deadId = dead.member().nodeId();
        assertThat(before.isr()).contains(deadId);
        ClusterNode kept = followerOtherThan(leader, dead);
        try (Resp r = new Resp(leader.node().respAddress())) {
            assertThat(r.call("SET", key(0), value(0))).isEqualTo("+OK");
            long crashed = System.nanoTime();
            group.zooKeeperLinkOf(dead).blackhole();
            for (LoopbackProxy p : group.linksOf(dead)) {
                p.blackhole();
            }
            for (int i = 1; i < 40; i++) {
                assertThat(r.call("SET", key(i), value(i)))
                        .as("write %d after the controller crashed", i)
                        .isEqualTo("+OK");
                if (i == 1) {
                    boolean sessionLingers = group.memberPresent(deadId);
                    System.out.printf(
                            "ISR: first write after the controller %s crashed acknowledged %d ms later, its member"
                                    + " znode (session) %s%n",
                            deadId,
                            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - crashed),
                            sessionLingers ? "still there" : "gone");
                    // lag bound 2 s against a session of 3 s: the leader did not wait for ZooKeeper (or a new
                    // controller) to notice the crash
                    assertThat(sessionLingers)
                            .as("the crashed controller's session still open when the leader acknowledged without it")
                            .isTrue();
                    assertThat(group.state().isr())
                            .as("removed from the ISR before a write was acknowledged without it")
                            .containsExactly(kept.member().nodeId());
                }
                assertThat(TestGroup.get(kept, key(i))).isEqualTo(value(i));
            }
        }
        ClusterNode l = leader;
        TestGroup.await("another node controlling", 60, () -> l.isController() || kept.isController());
        GroupState after = group.state();
        assertThat(after.leader()).as("no failover").isEqualTo(before.leader());
        assertThat(after.term()).as("no failover").isEqualTo(before.term());
    }

    /** The node that holds the controller latch now (waits for one, bounded). */
    private ClusterNode controller() throws InterruptedException {
        TestGroup.await("a controller", 60, () -> group.nodes().stream().anyMatch(ClusterNode::isController));
        return group.nodes().stream()
                .filter(ClusterNode::isController)
                .findFirst()
                .orElseThrow();
    }
}
