package dev.armdb.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.server.NodeConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;

/**
 * One replica group of three nodes in this JVM around a ZooKeeper server on loopback, for tests. Each node reaches
 * every leader's replication port through a proxy of its own, so that one follower's link can be cut alone while
 * ZooKeeper stays reachable, and, if asked, ZooKeeper through one more, so that one node can be cut off from ZooKeeper
 * alone; the test reads the group state straight from ZooKeeper. Every wait is bounded.
 */
final class TestGroup implements AutoCloseable {
    static final String GROUP = "g1";
    static final String CHROOT = "/armdb-test";
    static final Duration SESSION = Duration.ofSeconds(3);
    static final Duration LEASE = Duration.ofSeconds(2);

    private final Path dir;
    private final StandaloneZooKeeper zk;
    private final CuratorFramework reader;
    private final List<ClusterNode> nodes = new ArrayList<>();
    /** Per node, its proxies by the leader address they forward to. */
    private final Map<String, Map<InetSocketAddress, LoopbackProxy>> links = new ConcurrentHashMap<>();
    /** Per node, the proxy it reaches ZooKeeper through (only with {@code zooKeeperLinks}). */
    private final Map<String, LoopbackProxy> zooKeeperLinks = new ConcurrentHashMap<>();

    private final boolean proxiedZooKeeper;

    TestGroup(Path dir) {
        this(dir, false);
    }

    /** With {@code zooKeeperLinks}, every node reaches ZooKeeper through a proxy of its own ({@link #zooKeeperLinkOf}). */
    TestGroup(Path dir, boolean zooKeeperLinks) {
        this.dir = dir;
        this.proxiedZooKeeper = zooKeeperLinks;
        this.zk = StandaloneZooKeeper.start(dir.resolve("zk"), new InetSocketAddress("127.0.0.1", 0));
        this.reader = CuratorFrameworkFactory.builder()
                .connectString(zk.connectString())
                .namespace(CHROOT.substring(1))
                .sessionTimeoutMs(30_000)
                .retryPolicy(new RetryOneTime(100))
                .build();
        reader.start();
    }

    /** The connect string nodes and {@code cluster switchover} use. */
    String connectString() {
        return zk.connectString() + CHROOT;
    }

    /** Starts node {@code id} asking for {@code minInsync} in-sync followers, with durability GROUP. */
    ClusterNode start(String id, int minInsync) {
        return start(id, minInsync, Durability.GROUP);
    }

    /** Starts node {@code id} asking for {@code minInsync} in-sync followers, with {@code durability}. */
    ClusterNode start(String id, int minInsync, Durability durability) {
        FixedConfig cfg = FixedConfig.builder()
                .keySize(8)
                .valueSize(8)
                .shards(2)
                .durability(durability)
                .build();
        NodeConfig nc = new NodeConfig(
                        dir.resolve(id),
                        cfg,
                        new InetSocketAddress("127.0.0.1", 0),
                        new InetSocketAddress("127.0.0.1", 0),
                        null,
                        null)
                .withIoThreads(1);
        String connect = connectString();
        if (proxiedZooKeeper) {
            connect =
                    zooKeeperLinks.computeIfAbsent(id, k -> proxy(zk.address())).connectString() + CHROOT;
        }
        ClusterConfig cc = ClusterConfig.of(connect, GROUP, id)
                .withMinInsync(minInsync)
                .withTimings(SESSION, LEASE, Duration.ofMillis(100), Duration.ofMillis(500), Duration.ofSeconds(60));
        Map<InetSocketAddress, LoopbackProxy> mine = links.computeIfAbsent(id, k -> new ConcurrentHashMap<>());
        ClusterNode n = ClusterNode.start(
                nc, cc, target -> mine.computeIfAbsent(target, TestGroup::proxy).address());
        nodes.add(n);
        return n;
    }

    private static LoopbackProxy proxy(InetSocketAddress target) {
        try {
            return new LoopbackProxy(target);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Starts n1, n2, n3 and waits until one leads with the other two in its ISR; returns the leader. */
    ClusterNode form(int minInsync) throws InterruptedException {
        start("n1", minInsync);
        start("n2", minInsync);
        start("n3", minInsync);
        await("one leader and an ISR of two", 60, () -> {
            GroupState s = state();
            ClusterNode l = s == null ? null : node(s.leader());
            return l != null
                    && l.acceptsWrites()
                    && s.isr().size() == 2
                    && l.inSyncReplicas().size() == 2;
        });
        return node(state().leader());
    }

    List<ClusterNode> nodes() {
        return nodes;
    }

    ClusterNode node(String id) {
        return nodes.stream()
                .filter(n -> n.member().nodeId().equals(id))
                .findFirst()
                .orElse(null);
    }

    /** Every proxy node {@code n} dials leaders through. */
    List<LoopbackProxy> linksOf(ClusterNode n) {
        return List.copyOf(links.get(n.member().nodeId()).values());
    }

    /** The proxy node {@code n} reaches ZooKeeper through (the group was made with {@code zooKeeperLinks}). */
    LoopbackProxy zooKeeperLinkOf(ClusterNode n) {
        return zooKeeperLinks.get(n.member().nodeId());
    }

    /** The group state as ZooKeeper holds it now, or null. */
    GroupState state() {
        try {
            if (reader.checkExists().forPath(GroupPaths.state(GROUP)) == null) {
                return null;
            }
            return GroupStateLayout.decode(reader.getData().forPath(GroupPaths.state(GROUP)));
        } catch (Exception e) {
            throw new IllegalStateException("reading the group state: " + e, e);
        }
    }

    /** True if node {@code id}'s member znode exists now (its session has not ended). */
    boolean memberPresent(String id) {
        try {
            return reader.checkExists().forPath(GroupPaths.member(GROUP, id)) != null;
        } catch (Exception e) {
            throw new IllegalStateException("reading member " + id + ": " + e, e);
        }
    }

    /** The value {@code node} holds for {@code key}, or null. */
    static String get(ClusterNode node, String key) {
        byte[] v = node.node().map().get(key.getBytes(StandardCharsets.US_ASCII));
        return v == null ? null : new String(v, StandardCharsets.US_ASCII);
    }

    /** Checks that every follower ZooKeeper names in the ISR now holds {@code value} for {@code key}. */
    void assertOnIsr(String key, String value) {
        GroupState s = state();
        for (String id : s.isr()) {
            assertThat(get(node(id), key))
                    .as("acknowledged %s on ISR member %s (ISR %s)", key, id, s.isr())
                    .isEqualTo(value);
        }
    }

    static void await(String what, long seconds, BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!done.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waiting for " + what).isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    static String key(int i) {
        return String.format("k%07d", i);
    }

    static String value(int i) {
        return String.format("v%07d", i);
    }

    @Override
    public void close() {
        for (ClusterNode n : nodes) {
            n.close();
        }
        List<LoopbackProxy> proxies = new ArrayList<>(zooKeeperLinks.values());
        for (Map<InetSocketAddress, LoopbackProxy> m : links.values()) {
            proxies.addAll(m.values());
        }
        for (LoopbackProxy p : proxies) {
            try {
                p.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
        reader.close();
        zk.close();
    }
}
