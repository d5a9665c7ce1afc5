package dev.armdb.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.cluster.FailoverDecision.Decision;
import dev.armdb.cluster.FailoverDecision.Kind;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The controller against a real ZooKeeper server with member znodes written by the test and a fake monotonic clock:
 * compare-and-set conflicts lose without writing, the grace period is measured from the controller's own
 * observation, and leaders lost faster than the block period do not make it fail over again.
 */
class ControllerTest {
    private static final FailoverDecision.Policy POLICY = new FailoverDecision.Policy(1_000, 60_000);

    @TempDir
    Path tmp;

    private StandaloneZooKeeper server;
    private CuratorFramework zk;
    private long nanos = 5_000_000_000L;
    private long wall = 1_700_000_000_000L;
    private Controller controller;

    @BeforeEach
    void start() throws Exception {
        server = StandaloneZooKeeper.start(tmp, new InetSocketAddress("127.0.0.1", 0));
        zk = CuratorFrameworkFactory.newClient(server.connectString(), 5_000, 5_000, new RetryNTimes(3, 100));
        zk.start();
        zk.blockUntilConnected();
        controller = new Controller(zk, POLICY, () -> wall, () -> nanos);
    }

    @AfterEach
    void stop() {
        zk.close();
        server.close();
    }

    private void member(String id, String following, long term, long lsn) throws Exception {
        MemberInfo m = new MemberInfo(
                id,
                "127.0.0.1:1",
                "127.0.0.1:2",
                new byte[16],
                1,
                term,
                Durability.GROUP,
                1,
                !following.isEmpty(),
                false,
                !following.isEmpty(),
                following,
                new long[] {lsn});
        zk.create()
                .creatingParentContainersIfNeeded()
                .withMode(CreateMode.EPHEMERAL)
                .forPath(GroupPaths.member("g", id), MemberLayout.encode(m));
    }

    private void state(GroupState s) throws Exception {
        zk.create().creatingParentContainersIfNeeded().forPath(GroupPaths.state("g"), GroupStateLayout.encode(s));
    }

    private GroupState read(Stat stat) throws Exception {
        return GroupStateLayout.decode(zk.getData().storingStatIn(stat).forPath(GroupPaths.state("g")));
    }

    private void advanceMillis(long ms) {
        nanos += ms * 1_000_000;
        wall += ms;
    }

    @Test
    void aWriteFromAStaleReadLosesAndLeavesTheNewerStateAlone() throws Exception {
        state(new GroupState(1, "a", List.of(), 0, 0, "first"));
        Stat stat = new Stat();
        read(stat);
        GroupState other = new GroupState(2, "b", List.of(), 0, 0, "another controller");
        zk.setData().withVersion(stat.getVersion()).forPath(GroupPaths.state("g"), GroupStateLayout.encode(other));
        Decision mine = new Decision(Kind.UPDATE, new GroupState(1, "a", List.of("c"), 0, 0, "stale"), "stale");
        assertThat(controller.write("g", mine, stat.getVersion())).isFalse();
        assertThat(read(new Stat())).isEqualTo(other);
        // a bootstrap racing another one loses the same way
        assertThat(controller.write("g", new Decision(Kind.BOOTSTRAP, mine.next(), "late"), -1))
                .isFalse();
        assertThat(read(new Stat())).isEqualTo(other);
    }

    @Test
    void failsOverOnceAfterTheGraceAndNotAgainWithinTheBlockPeriod() throws Exception {
        state(new GroupState(3, "a", List.of("b", "c"), 1, 0, ""));
        member("b", "a", 3, 10);
        member("c", "a", 3, 12);
        assertThat(controller.decide("g").kind()).isEqualTo(Kind.NONE);
        advanceMillis(999);
        assertThat(controller.decide("g").kind()).isEqualTo(Kind.NONE);
        advanceMillis(1);
        Decision d = controller.decide("g");
        assertThat(d.kind()).isEqualTo(Kind.FAILOVER);
        GroupState after = read(new Stat());
        assertThat(after.leader()).isEqualTo("c");
        assertThat(after.term()).isEqualTo(4);
        assertThat(after.lastFailoverMillis()).isEqualTo(wall);

        // the new leader vanishes at once (a flapping network): b may not be chosen until the block period ends
        zk.delete().forPath(GroupPaths.member("g", "c"));
        zk.delete().forPath(GroupPaths.member("g", "b"));
        member("b", "c", 4, 12);
        zk.setData()
                .forPath(GroupPaths.state("g"), GroupStateLayout.encode(after.withIsr(List.of("b"), "b caught up")));
        for (int i = 0; i < 10; i++) {
            advanceMillis(5_000);
            assertThat(controller.decide("g").kind())
                    .as("after %d ms", (i + 1) * 5_000)
                    .isEqualTo(Kind.NONE);
        }
        advanceMillis(10_000);
        assertThat(controller.decide("g").kind()).isEqualTo(Kind.FAILOVER);
        assertThat(read(new Stat()).leader()).isEqualTo("b");
        assertThat(controller.failovers()).isEqualTo(2);
    }

    @Test
    void aNewControllerMeasuresTheGraceFromItsOwnFirstLook() throws Exception {
        state(new GroupState(3, "a", List.of("b"), 1, 0, ""));
        member("b", "a", 3, 10);
        assertThat(controller.decide("g").kind()).isEqualTo(Kind.NONE);
        controller.reset();
        advanceMillis(60_000);
        assertThat(controller.decide("g").kind()).isEqualTo(Kind.NONE);
        advanceMillis(999);
        assertThat(controller.decide("g").kind()).isEqualTo(Kind.NONE);
        advanceMillis(1);
        assertThat(controller.decide("g").kind()).isEqualTo(Kind.FAILOVER);
    }
}
