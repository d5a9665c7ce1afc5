package dev.armdb.clients;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.cluster.ClientWriter;
import dev.armdb.cluster.JedisLeaderWriter;
import dev.armdb.cluster.LettuceLeaderWriter;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;

/**
 * Scenario 7 of the failover tests, as users run it: ZooKeeper ({@code armdb zookeeper}) and three {@code armdb serve
 * --cluster} nodes are processes run from the packaged jars, and Jedis and Lettuce, configured as docs/cluster.md
 * ("Clients") recommends, write at the same time while the leader is SIGKILLed: its connections die with it and its
 * ZooKeeper session lingers until the server expires it. The test sees the nodes only through RESP ({@code INFO
 * cluster}, {@code DEBUG DIGEST}, {@code GET}). Each client writes keys of its own in order, each key twice, a write
 * retried until acknowledged; afterwards every key holds, on the new leader, its last acknowledged value or a later
 * one tried, and the two nodes left hold the same data. The timings are the fault tests' (session 3 s, lease 2 s).
 * Every wait is bounded.
 */
class ClientsThroughSigkillTest {
    private static final Pattern ZOOKEEPER_LINE = Pattern.compile("armdb zookeeper: serving (\\S+), data");
    private static final String GROUP = "clients";
    private static final String CHROOT = "/armdb-clients";
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

    private ArmdbProcess zooKeeper;
    private final List<ClusterNodeProcess> nodes = new ArrayList<>();
    private final List<ClientWriter> writers = new ArrayList<>();

    @AfterEach
    void stopEverything() throws Exception {
        for (ClientWriter w : writers) {
            w.stop.set(true);
        }
        for (ClientWriter w : writers) {
            w.thread.join(30_000);
            w.close();
        }
        for (ClusterNodeProcess n : nodes) {
            n.close();
        }
        if (zooKeeper != null) {
            zooKeeper.close();
        }
    }

    @Test
    void jedisAndLettuceWriteThroughASigkillOfTheLeaderAndLoseNoAcknowledgedWrite() throws Exception {
        zooKeeper = ArmdbProcess.start(
                List.of("-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"),
                List.of(
                        "zookeeper",
                        "--exit-with-parent",
                        "--dir",
                        tmp.resolve("zk").toString(),
                        "--port",
                        "0"),
                tmp.resolve("zk.log"));
        String cluster = zooKeeper.awaitLine(ZOOKEEPER_LINE, 60).group(1) + CHROOT;
        for (String id : List.of("n1", "n2", "n3")) {
            nodes.add(ClusterNodeProcess.start(id, tmp.resolve(id), cluster, GROUP, OPTIONS));
        }
        try {
            await("a leader with both followers in its ISR", 120, () -> leader(2) != null);
            ClusterNodeProcess leader = leader(2);
            List<InetSocketAddress> addresses = new ArrayList<>();
            addresses.add(leader.resp());
            nodes.stream().filter(n -> n != leader).forEach(n -> addresses.add(n.resp()));
            writers.add(new JedisLeaderWriter(addresses, 16, 32));
            writers.add(new LettuceLeaderWriter(addresses, 16, 32));
            for (ClientWriter w : writers) {
                w.thread.start();
            }
            for (ClientWriter w : writers) {
                w.awaitAcks(WRITES_BEFORE, port -> true);
            }

            long killed = System.nanoTime();
            leader.kill();
            nodes.remove(leader);
            await("a new leader accepting writes", 60, () -> leader(0) != null);
            ClusterNodeProcess fresh = leader(0);
            int freshPort = fresh.resp().getPort();
            for (ClientWriter w : writers) {
                w.awaitAcks(WRITES_AFTER, port -> port == freshPort);
            }
            for (ClientWriter w : writers) {
                w.stop.set(true);
            }
            for (ClientWriter w : writers) {
                w.stopAndJoin();
            }
            for (ClientWriter w : writers) {
                try (Jedis j = fresh.jedis()) {
                    w.assertMovedAndLostNothing(
                            fresh.id(),
                            freshPort,
                            killed,
                            "SIGKILL of " + leader.id(),
                            RECOVERY_BOUND_SECONDS,
                            j::get,
                            WRITES_BEFORE / 2);
                }
            }
            await(
                    "the two nodes left holding the same data",
                    60,
                    () -> digests().values().stream().distinct().count() == 1);
        } catch (Exception | AssertionError e) {
            for (ClusterNodeProcess n : nodes) {
                System.out.printf("--- last lines of %s's log ---%n%s%n", n.id(), n.logTail(40));
            }
            throw e;
        }
    }

    /** The node that leads and accepts writes with at least {@code minIsr} in-sync followers, or null. */
    private ClusterNodeProcess leader(int minIsr) {
        return nodes.stream()
                .filter(n -> n.leadingIsrSize() >= minIsr)
                .findFirst()
                .orElse(null);
    }

    private Map<String, String> digests() {
        Map<String, String> d = new LinkedHashMap<>();
        for (ClusterNodeProcess n : nodes) {
            d.put(n.id(), n.digest());
        }
        return d;
    }

    private static void await(String what, long seconds, BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!done.getAsBoolean()) {
            assertThat(System.nanoTime() - deadline)
                    .as("waiting %d s for %s", seconds, what)
                    .isNegative();
            Thread.sleep(100);
        }
    }
}
