package dev.armdb.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.armdb.ArmDbException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Curator 5.9 against the standalone ZooKeeper 3.9 server on this JDK: connect, versioned writes (the group state's
 * compare-and-set), ephemeral znodes that vanish with their session, and data that survives a restart.
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
