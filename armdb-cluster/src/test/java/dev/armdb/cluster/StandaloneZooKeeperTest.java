package dev.armdb.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.armdb.ArmDbException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Curator 5.9 against the standalone ZooKeeper 3.9 server on this JDK: connect, versioned writes (the group state's
 * compare-and-set), ephemeral znodes that vanish with their session (closed, or expired by the server while the
 * client runs: Curator reports LOST and opens a new session), and data that survives a restart.
 */
class StandaloneZooKeeperTest {
    @TempDir
    Path dir;

    private static CuratorFramework client(StandaloneZooKeeper zk) {
        CuratorFramework c = CuratorFrameworkFactory.builder()
                .connectString(zk.connectString())
                .sessionTimeoutMs(4_000)
                .connectionTimeoutMs(4_000)
                .retryPolicy(new RetryNTimes(3, 200))
                .build();
        c.start();
        return c;
    }

    @Test
    void servesCompareAndSetAndEphemeralsOnLoopbackAndKeepsDataAcrossRestart() throws Exception {
        try (StandaloneZooKeeper zk = StandaloneZooKeeper.start(dir, new InetSocketAddress("127.0.0.1", 0))) {
            assertThat(zk.address().getAddress().isLoopbackAddress()).isTrue();
            try (CuratorFramework c = client(zk)) {
                c.create().creatingParentsIfNeeded().forPath("/g/state", bytes("v1"));
                Stat stat = new Stat();
                c.getData().storingStatIn(stat).forPath("/g/state");
                c.setData().withVersion(stat.getVersion()).forPath("/g/state", bytes("v2"));
                // the same version again is a lost race: the CAS must fail, not overwrite
                assertThatThrownBy(
                                () -> c.setData().withVersion(stat.getVersion()).forPath("/g/state", bytes("v3")))
                        .isInstanceOf(KeeperException.BadVersionException.class);
                assertThat(new String(c.getData().forPath("/g/state"), StandardCharsets.UTF_8))
                        .isEqualTo("v2");
                try (CuratorFramework other = client(zk)) {
                    other.create().withMode(CreateMode.EPHEMERAL).forPath("/g/member", bytes("m"));
                    assertThat(c.checkExists().forPath("/g/member")).isNotNull();
                }
                // closing a client ends its session: its ephemeral znode goes at once
                assertThat(c.checkExists().forPath("/g/member")).isNull();
            }
        }
        try (StandaloneZooKeeper zk = StandaloneZooKeeper.start(dir, new InetSocketAddress("127.0.0.1", 0));
                CuratorFramework c = client(zk)) {
            assertThat(new String(c.getData().forPath("/g/state"), StandardCharsets.UTF_8))
                    .isEqualTo("v2");
        }
    }

    @Test
    void anExpiredSessionLosesItsEphemeralsAndItsClientOpensANewOne() throws Exception {
        try (StandaloneZooKeeper zk = StandaloneZooKeeper.start(dir, new InetSocketAddress("127.0.0.1", 0));
                CuratorFramework c = client(zk)) {
            List<ConnectionState> states = new CopyOnWriteArrayList<>();
            c.getConnectionStateListenable().addListener((client, s) -> states.add(s));
            c.create().withMode(CreateMode.EPHEMERAL).forPath("/member", bytes("m"));
            long session = c.checkExists().forPath("/member").getEphemeralOwner();
            assertThat(session).isEqualTo(c.getZookeeperClient().getZooKeeper().getSessionId());

            zk.expireSession(session);

            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!states.contains(ConnectionState.LOST)) {
                assertThat(System.nanoTime() - deadline).as("LOST within 30 s").isNegative();
                Thread.sleep(20);
            }
            assertThat(c.checkExists().forPath("/member"))
                    .as("the ephemeral of the expired session")
                    .isNull();
            assertThat(c.getZookeeperClient().getZooKeeper().getSessionId()).isNotEqualTo(session);
        }
    }

    @Test
    void aTakenPortIsReportedWithTheAddress() {
        try (StandaloneZooKeeper zk = StandaloneZooKeeper.start(dir, new InetSocketAddress("127.0.0.1", 0))) {
            assertThatThrownBy(() -> StandaloneZooKeeper.start(dir.resolve("other"), zk.address()))
                    .isInstanceOf(ArmDbException.class)
                    .hasMessageContaining(String.valueOf(zk.address().getPort()));
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
