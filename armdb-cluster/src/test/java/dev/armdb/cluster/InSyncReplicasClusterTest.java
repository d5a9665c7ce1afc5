package dev.armdb.cluster;

import static dev.armdb.cluster.TestGroup.key;
import static dev.armdb.cluster.TestGroup.value;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * In-sync replicas on three nodes in this JVM (ZooKeeper on loopback, each follower's replication link through a
 * proxy): a write is acknowledged only once every ISR member holds it (checked by reading the members right after the
 * OK); a follower whose link is cut, with ZooKeeper intact, leaves the ISR (written to ZooKeeper before a write is
 * acknowledged without it) and no failover happens; writes go on if {@code minInsync} allows, else get {@code
 * -NOREPLICAS}; after the link heals the follower rejoins.
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
}
