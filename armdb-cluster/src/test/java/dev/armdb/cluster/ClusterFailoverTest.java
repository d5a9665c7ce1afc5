package dev.armdb.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.server.NodeConfig;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three nodes in this JVM around one ZooKeeper server on loopback, each through its own proxy: the controller election
 * and bootstrap; a leader cut off from ZooKeeper (its proxy drops every byte) fences itself before its session expires
 * and the controller names a successor, which holds every write acknowledged by WAIT. Every wait is bounded.
 */
class ClusterFailoverTest {
    private static final Duration SESSION = Duration.ofSeconds(3);
    private static final Duration LEASE = Duration.ofSeconds(2);

    @TempDir
    Path tmp;

    private StandaloneZooKeeper zk;
    private final List<ClusterNode> nodes = new ArrayList<>();
    private final Map<ClusterNode, LoopbackProxy> proxies = new java.util.HashMap<>();

    @BeforeEach
    void startZooKeeper() {
        zk = StandaloneZooKeeper.start(tmp.resolve("zk"), new InetSocketAddress("127.0.0.1", 0));
    }

    @AfterEach
    void stopAll() {
        for (ClusterNode n : nodes) {
            n.close();
        }
        for (LoopbackProxy p : proxies.values()) {
            try {
                p.close();
            } catch (java.io.IOException e) {
                // closing anyway
            }
        }
        zk.close();
    }

    private ClusterNode start(String id) throws java.io.IOException {
        FixedConfig cfg = FixedConfig.builder()
                .keySize(8)
                .valueSize(8)
                .shards(2)
                .durability(Durability.GROUP)
                .build();
        NodeConfig nc = new NodeConfig(
                        tmp.resolve(id),
                        cfg,
                        new InetSocketAddress("127.0.0.1", 0),
                        new InetSocketAddress("127.0.0.1", 0),
                        null,
                        null)
                .withIoThreads(1);
        // each node reaches ZooKeeper through its own proxy, so that one node can be cut off alone
        LoopbackProxy proxy = new LoopbackProxy(zk.address());
        ClusterConfig cc = ClusterConfig.of(proxy.connectString() + "/armdb-test", "g1", id)
                .withMinInsync(1)
                .withTimings(SESSION, LEASE, Duration.ofMillis(100), Duration.ofMillis(500), Duration.ofSeconds(60));
        ClusterNode n = ClusterNode.start(nc, cc);
        nodes.add(n);
        proxies.put(n, proxy);
        return n;
    }

    private static void await(String what, long seconds, BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!done.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waiting for " + what).isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    private List<ClusterNode> writable() {
        return nodes.stream().filter(ClusterNode::acceptsWrites).toList();
    }

    /** Starts three nodes and waits until one leads and both others are in its ISR. */
    private ClusterNode formGroup() throws Exception {
        start("n1");
        start("n2");
        start("n3");
        await("one leader and an ISR of two", 60, () -> {
            GroupState s = nodes.get(0).groupState();
            return s != null && writable().size() == 1 && s.isr().size() == 2;
        });
        return writable().get(0);
    }

    private static String key(int i) {
        return String.format("k%07d", i);
    }

    private static String value(int i) {
        return String.format("v%07d", i);
    }

    @Test
    void oneControllerAndOneLeaderWhoseFollowersStreamFromIt() throws Exception {
        ClusterNode leader = formGroup();
        GroupState s = leader.groupState();
        assertThat(s.leader()).isEqualTo(leader.member().nodeId());
        assertThat(s.term()).isEqualTo(1);
        assertThat(nodes.stream().filter(ClusterNode::isController).count()).isEqualTo(1);
        assertThat(leader.metrics().term()).isEqualTo(1);
        assertThat(leader.metrics().isrSize()).isEqualTo(2);
        assertThat(nodes.stream().mapToLong(n -> n.metrics().controllerElections.sum()))
                .contains(1L);
        assertThat(nodes.stream().mapToLong(n -> n.metrics().failovers.sum()).sum())
                .isZero();
        for (ClusterNode n : nodes) {
            if (n != leader) {
                assertThat(n.node().isFollower()).isTrue();
                assertThat(n.member().following()).isEqualTo(s.leader());
                try (Resp r = new Resp(n.node().respAddress())) {
                    assertThat(r.call("SET", key(1), value(1))).startsWith("-READONLY");
                    assertThat(r.call("REPLICAOF", "NO", "ONE")).startsWith("-ERR REPLICAOF is not allowed in cluster");
                }
            }
        }
        try (Resp r = new Resp(leader.node().respAddress())) {
            assertThat(r.call("SET", key(1), value(1))).isEqualTo("+OK");
            assertThat(r.call("WAIT", "2", "5000")).isEqualTo(":2");
            assertThat(r.call("REPLICAOF", "127.0.0.1", "1")).startsWith("-ERR REPLICAOF is not allowed in cluster");
        }
    }

    @Test
    void leaderCutOffFromZooKeeperIsFencedBeforeTheFailoverAndNoAcknowledgedWriteIsLost() throws Exception {
        ClusterNode old = formGroup();
        long oldTerm = old.groupState().term();
        Map<String, String> acked = new LinkedHashMap<>();
        try (Resp r = new Resp(old.node().respAddress())) {
            for (int i = 0; i < 300; i++) {
                assertThat(r.call("SET", key(i), value(i))).isEqualTo("+OK");
                if (r.call("WAIT", "2", "2000").equals(":2")) {
                    acked.put(key(i), value(i));
                }
            }
        }
        assertThat(acked).hasSizeGreaterThan(250);

        // the old leader stays up and reachable by clients, but hears nothing from ZooKeeper: a zombie
        proxies.get(old).blackhole();
        long cut = System.nanoTime();
        long fencedWallMillis;
        try (Resp r = new Resp(old.node().respAddress())) {
            int i = 1_000;
            String reply;
            do {
                assertThat(System.nanoTime() - cut)
                        .as("old leader still accepts writes")
                        .isLessThan(LEASE.toNanos() + TimeUnit.SECONDS.toNanos(2));
                reply = r.call("SET", key(i), value(i));
                i++;
            } while (reply.equals("+OK"));
            fencedWallMillis = System.currentTimeMillis();
            assertThat(reply).startsWith("-TRYAGAIN");
        }
        await("a new leader", 30, () -> writable().size() == 1 && writable().get(0) != old);
        long failoverNanos = System.nanoTime() - cut;
        ClusterNode fresh = writable().get(0);
        GroupState s = fresh.groupState();
        assertThat(s.term()).isEqualTo(oldTerm + 1);
        assertThat(s.leader()).isNotEqualTo(old.member().nodeId());
        assertThat(s.lastFailoverReason())
                .startsWith("failover: leader " + old.member().nodeId() + " unusable");
        assertThat(fresh.metrics().term()).isEqualTo(s.term());
        assertThat(nodes.stream().mapToLong(n -> n.metrics().failovers.sum()).sum())
                .as("failovers written by the controllers")
                .isEqualTo(1);
        assertThat(s.lastFailoverMillis())
                .as("the old leader refused writes before the controller named a successor")
                .isGreaterThan(fencedWallMillis);
        System.out.printf(
                "failover: new leader writable %d ms after the old leader was cut off from ZooKeeper%n",
                failoverNanos / 1_000_000);

        byte[] buf = new byte[8];
        for (Map.Entry<String, String> e : acked.entrySet()) {
            assertThat(fresh.node().map().get(e.getKey().getBytes(StandardCharsets.US_ASCII), buf))
                    .as("acknowledged %s", e.getKey())
                    .isTrue();
            assertThat(new String(buf, StandardCharsets.US_ASCII)).isEqualTo(e.getValue());
        }
        try (Resp r = new Resp(fresh.node().respAddress())) {
            assertThat(r.call("SET", key(5_000), value(5_000))).isEqualTo("+OK");
            assertThat(r.call("GET", key(5_000))).isEqualTo(value(5_000));
        }
        ClusterNode other =
                nodes.stream().filter(n -> n != old && n != fresh).findFirst().orElseThrow();
        await(
                "the other follower re-pointed at the new leader",
                30,
                () -> other.member().following().equals(s.leader())
                        && other.member().streaming());
        try (Resp r = new Resp(old.node().respAddress())) {
            // suspended or past its lease (TRYAGAIN), or its session already declared lost (READONLY)
            assertThat(r.call("SET", key(6_000), value(6_000))).matches("-(TRYAGAIN|READONLY) .*");
        }
        assertThat(old.fencedWrites()).isGreaterThan(0);

        // the partition heals: the old leader learns it was replaced, follows the new leader and converges
        proxies.get(old).heal();
        await(
                "the old leader following the new one",
                60,
                () -> old.member().following().equals(s.leader())
                        && old.member().streaming());
        assertThat(old.node().map().engine().term()).isEqualTo(s.term());
        try (Resp r = new Resp(fresh.node().respAddress())) {
            assertThat(r.call("SET", key(7_000), value(7_000))).isEqualTo("+OK");
            assertThat(r.call("WAIT", "2", "10000")).isEqualTo(":2");
        }
        assertThat(dev.armdb.Digest.of(old.node().map()))
                .isEqualTo(dev.armdb.Digest.of(fresh.node().map()))
                .isEqualTo(dev.armdb.Digest.of(other.node().map()));
    }
}
