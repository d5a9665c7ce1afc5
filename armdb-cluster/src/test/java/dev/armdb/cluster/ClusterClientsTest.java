package dev.armdb.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;

/**
 * Scenario 7 of the failover tests: Jedis and Lettuce, configured as docs/cluster.md ("Clients") recommends for a
 * leader that moves, keep writing through a planned switchover and a leader cut off from ZooKeeper (a zombie that
 * stays reachable by clients); armdb-clients-it's {@code ClientsThroughSigkillTest} runs the same writers through a
 * SIGKILL of a leader process. Each client writes keys of its own in order, each key
 * twice, a write retried until it is acknowledged ({@link AckedWrites}); afterwards every key holds, on the new leader,
 * its last acknowledged value or a later value that was tried but not acknowledged. Every wait is bounded.
 *
 * <p>The client settings: Jedis asks every node {@code ROLE} and connects a pooled {@code RedisClient} to the one
 * answering {@code master}, looking again when a connection breaks or a write is answered {@code -READONLY}. Lettuce
 * keeps one connection with its automatic reconnection, a short reconnect delay, and a {@code SocketAddressResolver}
 * that looks for the leader the same way on every (re)connect; it retries refused writes on the same connection and
 * relies on a node that stops leading closing its clients' connections.
 */
class ClusterClientsTest {
    static {
        // ZooKeeper brings netty 4.1's epoll transport onto this module's class path; Lettuce 7 (netty 4.2) would
        // pick it up and fail to load its 4.2 classes, so it keeps to NIO here (docs/cluster.md, "Clients")
        System.setProperty("io.lettuce.core.epoll", "false");
    }

    /** How long a client may take, after the leader is gone, to have its first write acknowledged by the new one. */
    private static final long RECOVERY_BOUND_SECONDS = 30;

    private static final int WRITES_BEFORE = 200;
    private static final int WRITES_AFTER = 200;

    @TempDir
    Path tmp;

    private TestGroup group;
    private final List<ClientWriter> writers = new ArrayList<>();

    @AfterEach
    void stop() throws InterruptedException {
        for (ClientWriter w : writers) {
            w.stop.set(true);
        }
        for (ClientWriter w : writers) {
            w.thread.join(30_000);
            w.close();
        }
        if (group != null) {
            group.close();
        }
    }

    /** The three nodes' RESP addresses, {@code first} first (clients look for the leader in this order). */
    private List<InetSocketAddress> respAddresses(ClusterNode first) {
        List<InetSocketAddress> l = new ArrayList<>();
        l.add(first.node().respAddress());
        for (ClusterNode n : group.nodes()) {
            if (n != first) {
                l.add(n.node().respAddress());
            }
        }
        return l;
    }

    /** Starts a Jedis and a Lettuce writer against {@code nodes} and waits until each has some writes acknowledged. */
    private void startWriters(List<InetSocketAddress> nodes) throws InterruptedException {
        writers.add(new JedisLeaderWriter(nodes));
        writers.add(new LettuceLeaderWriter(nodes));
        for (ClientWriter w : writers) {
            w.thread.start();
        }
        for (ClientWriter w : writers) {
            w.awaitAcks(WRITES_BEFORE, port -> true);
        }
    }

    /** Waits until a node other than {@code old} leads and accepts writes; returns it. */
    private ClusterNode awaitNewLeader(ClusterNode old) throws InterruptedException {
        String oldId = old.member().nodeId();
        TestGroup.await("a new leader accepting writes", 60, () -> {
            GroupState s = group.state();
            ClusterNode l = s == null || s.leader().equals(oldId) ? null : group.node(s.leader());
            return l != null && l.acceptsWrites();
        });
        return group.node(group.state().leader());
    }

    /**
     * After the leader moved to {@code fresh} at {@code sinceNanos}: each writer gets more writes acknowledged by it
     * within the bound, then stops; every key it wrote holds its last acknowledged value (or a later tried one).
     */
    private void assertEveryWriterMovedAndLostNothing(ClusterNode fresh, long sinceNanos, String event)
            throws InterruptedException {
        int freshPort = fresh.node().respAddress().getPort();
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
            w.assertMovedAndLostNothing(
                    fresh.member().nodeId(),
                    freshPort,
                    sinceNanos,
                    event,
                    RECOVERY_BOUND_SECONDS,
                    key -> TestGroup.get(fresh, key),
                    0);
        }
    }

    /**
     * A planned switchover: the old leader stays up and follows the new one. Lettuce's connection to it does not
     * break by itself; the old leader closes its clients' connections when it stops leading, so Lettuce reconnects
     * and its resolver finds the new leader (without that, its writes would be answered -READONLY for ever).
     */
    @Test
    void jedisAndLettuceFollowAPlannedSwitchover() throws Exception {
        group = new TestGroup(tmp);
        ClusterNode old = group.form(1);
        startWriters(respAddresses(old));
        ClusterNode target = group.node(group.state().isr().get(0));

        long started = System.nanoTime();
        Switchover.Outcome outcome = Switchover.run(
                group.connectString(), TestGroup.GROUP, target.member().nodeId(), Duration.ofSeconds(60), p -> {});
        assertThat(outcome.to()).isEqualTo(target.member().nodeId());
        assertEveryWriterMovedAndLostNothing(target, started, "switchover began");
    }

    /**
     * The leader is cut off from ZooKeeper but stays reachable by clients, and is listed first in their node lists:
     * it fences itself, and once its session is lost it closes its clients' connections and answers ROLE as a
     * replica, so the clients' look for the leader skips it and finds the successor (had it kept answering ROLE
     * {@code master} while refusing writes, both clients would have gone back to it for ever).
     */
    @Test
    void jedisAndLettuceLeaveALeaderCutOffFromZooKeeper() throws Exception {
        group = new TestGroup(tmp, true);
        ClusterNode old = group.form(1);
        startWriters(respAddresses(old));

        long cut = System.nanoTime();
        group.zooKeeperLinkOf(old).blackhole();
        ClusterNode fresh = awaitNewLeader(old);
        System.out.printf(
                "ClusterClientsTest: zombie: new leader %s writable %d ms after the leader was cut off%n",
                fresh.member().nodeId(), (System.nanoTime() - cut) / 1_000_000);
        assertEveryWriterMovedAndLostNothing(fresh, cut, "leader was cut off from ZooKeeper");
        try (Jedis j = new Jedis(
                old.node().respAddress().getAddress().getHostAddress(),
                old.node().respAddress().getPort())) {
            assertThat(j.role().getFirst()).as("the zombie's ROLE").isEqualTo("slave");
        }
    }
}
