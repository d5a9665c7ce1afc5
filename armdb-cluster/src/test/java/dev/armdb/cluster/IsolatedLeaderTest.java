package dev.armdb.cluster;

import static dev.armdb.cluster.TestGroup.key;
import static dev.armdb.cluster.TestGroup.value;
import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Digest;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A leader cut off from ZooKeeper and from both followers at once, while a client still reaches it (three nodes in
 * this JVM, every link through a proxy): the writes it applies meanwhile reach no follower, so none is acknowledged;
 * the controller names a successor, which lacks them; after the heal the old leader follows the successor and gives
 * those writes up by copying the shards that diverged again: every node's digest is the successor's and none of those
 * writes is anywhere. Every wait is bounded.
 */
class IsolatedLeaderTest {
    /** Writes sent to the isolated leader, at most. */
    private static final int ISOLATED_WRITES = 10;

    @TempDir
    Path tmp;

    private TestGroup group;

    @AfterEach
    void stop() {
        if (group != null) {
            group.close();
        }
    }

    @Test
    void writesOfALeaderCutOffFromEverythingAreNeverAcknowledgedAndAreGivenUpAfterTheHeal() throws Exception {
        group = new TestGroup(tmp, true);
        ClusterNode old = group.form(1);
        String oldId = old.member().nodeId();
        try (Resp r = new Resp(old.node().respAddress())) {
            for (int i = 0; i < 50; i++) {
                assertThat(r.call("SET", key(i), value(i))).isEqualTo("+OK");
            }
        }
        List<ClusterNode> followers =
                group.nodes().stream().filter(n -> n != old).toList();

        group.zooKeeperLinkOf(old).blackhole();
        for (ClusterNode f : followers) {
            for (LoopbackProxy p : group.linksOf(f)) {
                p.blackhole();
            }
        }
        Map<String, String> replies = new ConcurrentHashMap<>();
        AtomicBoolean stopWriting = new AtomicBoolean();
        Thread writer = Thread.ofPlatform().name("isolated-writer").start(() -> {
            for (int i = 1_000; i < 1_000 + ISOLATED_WRITES && !stopWriting.get(); i++) {
                replies.put(key(i), isolatedSet(old, key(i), value(i)));
            }
        });

        TestGroup.await("a successor accepting writes", 60, () -> {
            GroupState s = group.state();
            ClusterNode l = s == null || s.leader().equals(oldId) ? null : group.node(s.leader());
            return l != null && l.acceptsWrites();
        });
        ClusterNode fresh = group.node(group.state().leader());
        long appliedOnOld = isolatedKeys().stream()
                .filter(k -> TestGroup.get(old, k) != null)
                .count();
        System.out.printf(
                "IsolatedLeaderTest: %s applied %d write(s) no follower has; successor %s%n",
                oldId, appliedOnOld, fresh.member().nodeId());
        assertThat(appliedOnOld)
                .as("writes the isolated leader applied (else nothing to give up)")
                .isPositive();
        for (String k : isolatedKeys()) {
            assertThat(TestGroup.get(fresh, k)).as("%s on the successor", k).isNull();
        }
        try (Resp r = new Resp(fresh.node().respAddress())) {
            for (int i = 50; i < 100; i++) {
                assertThat(r.call("SET", key(i), value(i))).isEqualTo("+OK");
            }
        }

        group.zooKeeperLinkOf(old).heal();
        stopWriting.set(true);
        writer.join(TimeUnit.SECONDS.toMillis(60));
        assertThat(writer.isAlive()).as("the isolated writer stopped").isFalse();
        System.out.printf("IsolatedLeaderTest: replies of the isolated leader %s%n", replies);
        assertThat(replies.values())
                .as("no write of the isolated leader acknowledged")
                .noneMatch(reply -> reply.startsWith("+"));

        String want = digest(fresh);
        TestGroup.await(
                "every node holding the successor's data",
                90,
                () -> group.nodes().stream().allMatch(n -> digest(n).equals(want)));
        for (ClusterNode n : group.nodes()) {
            for (String k : isolatedKeys()) {
                assertThat(TestGroup.get(n, k))
                        .as("%s on %s after the heal", k, n.member().nodeId())
                        .isNull();
            }
            for (int i = 0; i < 100; i++) {
                assertThat(TestGroup.get(n, key(i))).isEqualTo(value(i));
            }
        }
        assertThat(old.node().map().engine().isReplica())
                .as("the old leader follows")
                .isTrue();
    }

    private static List<String> isolatedKeys() {
        return java.util.stream.IntStream.range(1_000, 1_000 + ISOLATED_WRITES)
                .mapToObj(TestGroup::key)
                .toList();
    }

    /** One SET on a connection of its own: its reply, or what ended it without one. */
    private static String isolatedSet(ClusterNode node, String key, String value) {
        try (Resp r = new Resp(node.node().respAddress())) {
            String reply = r.call("SET", key, value);
            return reply == null ? "(nil)" : reply;
        } catch (IOException e) {
            return "no reply: " + e.getMessage();
        }
    }

    private static String digest(ClusterNode n) {
        return Digest.of(n.node().map()).hex();
    }
}
