package dev.armdb.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.cluster.ClientWriter;
import dev.armdb.cluster.GroupState;
import dev.armdb.cluster.JedisLeaderWriter;
import dev.armdb.cluster.StandaloneZooKeeper;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.IntPredicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;

/**
 * Scenario 7 of the failover tests against node processes: Jedis, configured as docs/cluster.md ("Clients")
 * recommends, writes to a group of three {@code serve --cluster} processes while the leader is SIGKILLed, so that its
 * connections die with it and its ZooKeeper session lingers until it expires (unlike {@code ClusterClientsTest} in
 * armdb-cluster, whose leader closes in one JVM and ends its session at once). The writer writes keys of its own in
 * order, each twice, a write retried until acknowledged; afterwards every key holds, on the new leader, its last
 * acknowledged value or a later one tried. The timings are the fault tests' (session 3 s, lease 2 s). Every wait is
 * bounded.
 */
class ClusterClientsProcessTest {
    private static final String GROUP = "clients";
    private static final String CHROOT = "/armdb-clients";
    private static final List<String> IDS = List.of("n1", "n2", "n3");
    private static final List<String> OPTIONS = List.of(
            "--min-insync",
            "1",
            "--session-timeout",
            "3000ms",
            "--lease",
            "2000ms",
            "--cluster-tick",
            "100ms",
            "--failover-grace",
            "500ms");
    private static final int WRITES_BEFORE = 200;
    private static final int WRITES_AFTER = 200;
    /** Session timeout + grace + takeover wait + a follower rejoining, with room for a loaded 2-core machine. */
    private static final long RECOVERY_BOUND_SECONDS = 30;

    @TempDir
    Path tmp;

    private final List<NodeProcess> nodes = new ArrayList<>();
    private StandaloneZooKeeper zk;
    private GroupWatch status;
    private ClientWriter writer;

    @BeforeAll
    static void quietZooKeeper() {
        ClusterStatusCommand.quietZooKeeperLogs();
    }

    @AfterEach
    void stopEverything() throws Exception {
        if (writer != null) {
            writer.stop.set(true);
            writer.thread.join(30_000);
            writer.close();
        }
        for (NodeProcess n : nodes) {
            n.close();
        }
        if (status != null) {
            status.close();
        }
        if (zk != null) {
            zk.close();
        }
    }

    @Test
    void jedisWritesThroughASigkillOfTheLeaderAndLosesNoAcknowledgedWrite() throws Exception {
        zk = StandaloneZooKeeper.start(tmp.resolve("zk"), new InetSocketAddress("127.0.0.1", 0));
        for (String id : IDS) {
            nodes.add(NodeProcess.start(id, tmp.resolve(id), zk.connectString() + CHROOT, GROUP, OPTIONS));
        }
        status = new GroupWatch(zk.connectString() + CHROOT, GROUP);
        try {
            await("a leader with both followers in its ISR", 120, () -> {
                GroupState s = state();
                return s != null && !s.leader().isEmpty() && s.isr().size() == IDS.size() - 1;
            });
            await("every node's RESP address", 60, () -> nodes.stream().allMatch(n -> n.resp() != null));
            NodeProcess leader = node(state().leader());
            List<InetSocketAddress> addresses = new ArrayList<>();
            addresses.add(leader.resp());
            nodes.stream().filter(n -> n != leader).forEach(n -> addresses.add(n.resp()));
            // the demo nodes' sizes (DemoNode): 16-byte keys, 32-byte values
            writer = new JedisLeaderWriter(addresses, 16, 32);
            writer.thread.start();
            awaitAcks(WRITES_BEFORE, port -> true);

            long killed = System.nanoTime();
            leader.kill();
            await("a new leader", 60, () -> {
                GroupState s = state();
                return s != null && !s.leader().isEmpty() && !s.leader().equals(leader.id());
            });
            NodeProcess fresh = node(state().leader());
            int freshPort = fresh.resp().getPort();
            awaitAcks(WRITES_AFTER, port -> port == freshPort);
            writer.stop.set(true);
            writer.thread.join(60_000);
            assertThat(writer.thread.isAlive()).as("the writer stopped").isFalse();
            assertThat(writer.failed.get()).as("the writer's failure").isNull();

            long first = writer.acks.stream()
                    .filter(a -> a.port() == freshPort && a.nanos() - killed > 0)
                    .mapToLong(ClientWriter.Ack::nanos)
                    .min()
                    .orElseThrow();
            long recoveryMillis = (first - killed) / 1_000_000;
            System.out.printf(
                    "ClusterClientsProcessTest: Jedis: first write acknowledged by the new leader %s %d ms after the"
                            + " SIGKILL of %s; %d acknowledged in all; errors on the way %s%n",
                    fresh.id(), recoveryMillis, leader.id(), writer.acks.size(), new TreeMap<>(writer.errors));
            assertThat(recoveryMillis)
                    .as("Jedis recovered within the bound")
                    .isLessThan(TimeUnit.SECONDS.toMillis(RECOVERY_BOUND_SECONDS));
            assertThat(writer.acks.getLast().port())
                    .as("Jedis writes to the new leader")
                    .isEqualTo(freshPort);
            InetSocketAddress at = fresh.resp();
            try (Jedis j = new Jedis(at.getAddress().getHostAddress(), at.getPort())) {
                int checked = writer.log.assertHeldBy(j::get, "Jedis on " + fresh.id());
                assertThat(checked).as("keys checked").isGreaterThan(WRITES_BEFORE / 2);
            }
        } catch (Exception | AssertionError e) {
            for (NodeProcess n : nodes) {
                System.out.printf("--- last lines of %s's log ---%n%s%n", n.id(), n.logTail(40));
            }
            throw e;
        }
    }

    private void awaitAcks(int n, IntPredicate port) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (writer.failed.get() == null
                && writer.acks.stream().filter(a -> port.test(a.port())).count() < n) {
            assertThat(System.nanoTime() - deadline)
                    .as("waiting 90 s for %d writes acknowledged; errors so far %s", n, writer.errors)
                    .isNegative();
            Thread.sleep(100);
        }
        assertThat(writer.failed.get()).as("the writer's failure").isNull();
    }

    private GroupState state() {
        return status.state();
    }

    private NodeProcess node(String id) {
        return nodes.stream().filter(n -> n.id().equals(id)).findFirst().orElseThrow();
    }

    private static void await(String what, long seconds, BooleanSupplier done) throws InterruptedException {
        GroupWatch.await(what, seconds, done);
    }
}
