package dev.armdb.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.armdb.ArmDbException;
import dev.armdb.Durability;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cluster status}: roles and lag computed from a group's state and members, the JSON form pinned by a golden
 * file, and the reader against a real ZooKeeper server (read-only, bounded when no server answers).
 */
class ClusterStatusTest {
    private static final boolean WRITE = Boolean.getBoolean("armdb.golden.write");

    @TempDir
    Path tmp;

    private static MemberInfo member(
            String id, boolean replica, boolean streaming, String following, long term, long... lsns) {
        return new MemberInfo(
                id,
                "127.0.0.1:63" + id.substring(1) + "0",
                replica ? "" : "127.0.0.1:73" + id.substring(1) + "0",
                new byte[16],
                5,
                term,
                Durability.GROUP,
                1,
                replica,
                false,
                streaming,
                following,
                lsns);
    }

    /**
     * After a failover from n1 to n2: n2 leads, n3 follows it 7 LSNs behind, n4 is in the ISR but gone, n1 came back
     * writable with writes n2 never had (negative lag), n5 reports another shard count (lag unknown); group g2 has no
     * state yet.
     */
    static ClusterStatus sample() {
        GroupState s = new GroupState(
                4,
                "n2",
                List.of("n3", "n4"),
                1,
                1_764_000_000_123L,
                "ISR [] -> [n3, n4]",
                "failover: leader n1 unusable for 1012 ms; chose n2 (applied [100, 50]) of [n2, n3], term 4 \"q\"\n");
        ClusterStatus.Group g1 = ClusterStatus.Group.of(
                "g1",
                s,
                List.of(
                        member("n3", true, true, "n2", 4, 95, 48),
                        member("n1", false, false, "", 3, 104, 50),
                        member("n2", false, false, "", 4, 100, 50),
                        member("n5", true, false, "n2", 4, 7)));
        ClusterStatus.Group g2 = ClusterStatus.Group.of("g2", null, List.of(member("n7", false, false, "", 0, 0)));
        return new ClusterStatus("127.0.0.1:2181/armdb", 1_764_000_012_345L, "n3", List.of(g1, g2));
    }

    @Test
    void rolesIsrAndLagFollowTheStateAndTheLeadersLsns() {
        ClusterStatus.Group g = sample().groups().get(0);
        assertThat(g.members().stream().map(ClusterStatus.Member::nodeId))
                .containsExactly("n1", "n2", "n3", "n4", "n5");
        ClusterStatus.Member n1 = g.members().get(0);
        ClusterStatus.Member n2 = g.members().get(1);
        ClusterStatus.Member n3 = g.members().get(2);
        ClusterStatus.Member n4 = g.members().get(3);
        ClusterStatus.Member n5 = g.members().get(4);
        assertThat(n1.role()).isEqualTo(ClusterStatus.Role.WRITABLE);
        assertThat(n1.lagLsns()).containsExactly(-4, 0);
        assertThat(n2.role()).isEqualTo(ClusterStatus.Role.LEADER);
        assertThat(n2.lagLsns()).containsExactly(0, 0);
        assertThat(n3.role()).isEqualTo(ClusterStatus.Role.FOLLOWER);
        assertThat(n3.inIsr()).isTrue();
        assertThat(n3.lagLsns()).containsExactly(5, 2);
        assertThat(n3.lagSum()).isEqualTo(7);
        assertThat(n4.present()).isFalse();
        assertThat(n4.inIsr()).isTrue();
        assertThat(n4.lagLsns()).isNull();
        assertThat(n4.lagSum()).isEqualTo(-1);
        assertThat(n5.lagLsns()).as("another shard count").isNull();
        ClusterStatus.Group noState = sample().groups().get(1);
        assertThat(noState.members().get(0).role()).isEqualTo(ClusterStatus.Role.WRITABLE);
        assertThat(noState.members().get(0).lagLsns()).as("no leader").isNull();
    }

    /** The JSON form is pinned: a change here is a change of the documented format (docs/cluster.md). */
    @Test
    void jsonMatchesItsGoldenFile() throws IOException {
        String json = ClusterStatusJson.render(sample());
        if (WRITE) {
            Files.writeString(Path.of("src/test/resources/golden/cluster-status-v1.json"), json);
        }
        try (InputStream in = ClusterStatusTest.class.getResourceAsStream("/golden/cluster-status-v1.json")) {
            assertThat(in).as("golden file").isNotNull();
            assertThat(json).isEqualTo(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
        String empty = ClusterStatusJson.render(new ClusterStatus("h:1", 5, "", List.of()));
        assertThat(empty)
                .isEqualTo("{\n  \"format\": 1,\n  \"connect\": \"h:1\",\n  \"readAtMillis\": 5,\n"
                        + "  \"controller\": null,\n  \"groups\": []\n}\n");
    }

    @Test
    void jsonStringsEscapeQuotesBackslashesAndControlCharacters() {
        assertThat(ClusterStatusJson.string("a\"b\\c\nd\te\u0001")).isEqualTo("\"a\\\"b\\\\c\\nd\\te\\u0001\"");
    }

    /**
     * Against a real server: the controller is the latch holder with the lowest sequence, the group's state and
     * members are read, and a chroot that does not exist reads as no groups and is not created.
     */
    @Test
    void readsGroupsMembersAndTheControllerWithoutWriting() throws Exception {
        try (StandaloneZooKeeper server = StandaloneZooKeeper.start(tmp, new InetSocketAddress("127.0.0.1", 0));
                CuratorFramework zk = CuratorFrameworkFactory.builder()
                        .connectString(server.connectString())
                        .namespace("armdb")
                        .sessionTimeoutMs(5_000)
                        .connectionTimeoutMs(5_000)
                        .retryPolicy(new RetryNTimes(3, 100))
                        .build()) {
            zk.start();
            assertThat(zk.blockUntilConnected(30, TimeUnit.SECONDS)).isTrue();
            try (LeaderLatch first = new LeaderLatch(zk, GroupPaths.CONTROLLER, "n3");
                    LeaderLatch second = new LeaderLatch(zk, GroupPaths.CONTROLLER, "n1")) {
                first.start();
                assertThat(first.await(30, TimeUnit.SECONDS)).isTrue();
                second.start();
                GroupState s = new GroupState(2, "n2", List.of("n3"), 1, 0, "ISR [] -> [n3]");
                zk.create()
                        .creatingParentContainersIfNeeded()
                        .forPath(GroupPaths.state("g1"), GroupStateLayout.encode(s));
                for (MemberInfo m :
                        List.of(member("n2", false, false, "", 2, 10, 20), member("n3", true, true, "n2", 2, 9, 20))) {
                    zk.create()
                            .creatingParentContainersIfNeeded()
                            .withMode(CreateMode.EPHEMERAL)
                            .forPath(GroupPaths.member("g1", m.nodeId()), MemberLayout.encode(m));
                }
                ClusterStatus st;
                try (ClusterStatusReader r =
                        ClusterStatusReader.open(server.connectString() + "/armdb", Duration.ofSeconds(10))) {
                    st = r.read();
                }
                assertThat(st.controller()).isEqualTo("n3");
                assertThat(st.groups()).hasSize(1);
                ClusterStatus.Group g = st.groups().get(0);
                assertThat(g.name()).isEqualTo("g1");
                assertThat(g.state()).isEqualTo(s);
                assertThat(g.members().get(1).lagLsns()).containsExactly(1, 0);

                try (ClusterStatusReader r =
                        ClusterStatusReader.open(server.connectString() + "/nowhere", Duration.ofSeconds(10))) {
                    ClusterStatus none = r.read();
                    assertThat(none.groups()).isEmpty();
                    assertThat(none.controller()).isEmpty();
                }
                assertThat(zk.usingNamespace(null).checkExists().forPath("/nowhere"))
                        .as("the reader created nothing")
                        .isNull();
            }
        }
    }

    /** No server at the address: a clear error once the connect timeout is over, not a hang. */
    @Test
    void anUnreachableZooKeeperFailsWithinTheConnectTimeout() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> ClusterStatusReader.open("127.0.0.1:" + port + "/armdb", Duration.ofSeconds(1)))
                .isInstanceOf(ArmDbException.class)
                .hasMessageContaining("cannot reach ZooKeeper at 127.0.0.1:" + port + "/armdb within 1000 ms");
        assertThat(System.nanoTime() - t0).isLessThan(TimeUnit.SECONDS.toNanos(20));
    }
}
