package dev.armdb.cluster;

import static dev.armdb.cluster.TestGroup.key;
import static dev.armdb.cluster.TestGroup.value;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.armdb.ArmDbException;
import dev.armdb.Digest;
import dev.armdb.replication.leader.ReplicationServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A planned switchover on three nodes in this JVM while a client writes: every acknowledged write is on the new
 * leader, nothing is copied (no full resync anywhere: the old leader and the other follower resume from what they
 * hold), the old leader follows the new one and all three converge. Also: the refusals of a switchover that cannot be
 * done, and a leader that takes writes again when the switchover does not complete.
 */
class SwitchoverTest {
    @TempDir
    Path tmp;

    private TestGroup group;

    @AfterEach
    void stop() {
        if (group != null) {
            group.close();
        }
    }

    /**
     * Writes keys in order to whichever node ZooKeeper names leader, retrying a key until it is acknowledged, over a
     * new connection when the old one was closed.
     */
    private final class Writer implements Runnable {
        final Map<String, String> acked = new ConcurrentHashMap<>();
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicInteger next = new AtomicInteger();
        final List<String> refusals = new CopyOnWriteArrayList<>();
        final AtomicReference<Throwable> failed = new AtomicReference<>();

        @Override
        public void run() {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            Resp r = null;
            String at = "";
            try {
                while (!stop.get() && System.nanoTime() < deadline) {
                    String leader = group.state().leader();
                    if (r == null || !leader.equals(at)) {
                        if (r != null) {
                            r.close();
                        }
                        r = new Resp(group.node(leader).node().respAddress());
                        at = leader;
                    }
                    int i = next.get();
                    String reply;
                    try {
                        reply = r.call("SET", key(i), value(i));
                    } catch (java.io.IOException e) {
                        // the old leader closes its clients' connections when it stops leading
                        r.close();
                        r = null;
                        refusals.add("connection closed: " + e.getMessage());
                        Thread.sleep(10);
                        continue;
                    }
                    if (reply.equals("+OK")) {
                        acked.put(key(i), value(i));
                        next.incrementAndGet();
                    } else {
                        assertThat(reply).matches("-(TRYAGAIN|READONLY|NOREPLICAS) .*");
                        refusals.add(reply);
                        Thread.sleep(10);
                    }
                }
            } catch (Throwable e) {
                failed.set(e);
            } finally {
                if (r != null) {
                    try {
                        r.close();
                    } catch (java.io.IOException e) {
                        // closing
                    }
                }
            }
        }
    }

    @Test
    void switchoverWithWritesInFlightLosesNothingAndCopiesNothing() throws Exception {
        group = new TestGroup(tmp);
        ClusterNode old = group.form(1);
        GroupState before = group.state();
        ClusterNode target = group.node(before.isr().get(0));
        ClusterNode other = group.node(before.isr().get(1));
        ReplicationServer oldServer = old.node().replicationServer();

        Writer writer = new Writer();
        Thread t = Thread.ofPlatform().name("switchover-writer").start(writer);
        TestGroup.await("writes under way", 60, () -> writer.next.get() >= 300 || writer.failed.get() != null);
        List<String> progress = new CopyOnWriteArrayList<>();
        Switchover.Outcome outcome = Switchover.run(
                group.connectString(),
                TestGroup.GROUP,
                target.member().nodeId(),
                Duration.ofSeconds(60),
                progress::add);
        int atSwitch = writer.next.get();
        TestGroup.await(
                "writes on the new leader",
                60,
                () -> writer.next.get() >= atSwitch + 300 || writer.failed.get() != null);
        writer.stop.set(true);
        t.join(30_000);
        assertThat(writer.failed.get()).as("writer").isNull();
        System.out.printf(
                "switchover %s -> %s (term %d -> %d) at %s: writes paused about %d ms; %d refusals meanwhile%n",
                outcome.from(),
                outcome.to(),
                outcome.fromTerm(),
                outcome.toTerm(),
                outcome.lsns(),
                outcome.pausedMillis(),
                writer.refusals.size());
        progress.forEach(p -> System.out.println("  " + p));

        GroupState after = group.state();
        assertThat(outcome.from()).isEqualTo(old.member().nodeId());
        assertThat(outcome.to()).isEqualTo(target.member().nodeId());
        assertThat(after.leader()).isEqualTo(target.member().nodeId());
        assertThat(after.term()).isEqualTo(outcome.toTerm()).isGreaterThan(before.term());
        assertThat(after.lastFailoverMillis()).as("not an automatic failover").isEqualTo(before.lastFailoverMillis());
        assertThat(writer.acked).hasSizeGreaterThanOrEqualTo(600);
        for (Map.Entry<String, String> e : writer.acked.entrySet()) {
            assertThat(TestGroup.get(target, e.getKey()))
                    .as("acknowledged %s", e.getKey())
                    .isEqualTo(e.getValue());
        }

        TestGroup.await("the old leader and the other follower streaming from the new leader", 60, () -> {
            String to = target.member().nodeId();
            return old.member().following().equals(to)
                    && old.member().streaming()
                    && other.member().following().equals(to)
                    && other.member().streaming();
        });
        TestGroup.await("the ISR back to two", 60, () -> group.state().isr().size() == 2);
        try (Resp r = new Resp(target.node().respAddress())) {
            assertThat(r.call("SET", key(999_999), value(999_999))).isEqualTo("+OK");
        }
        assertThat(Digest.of(old.node().map()))
                .isEqualTo(Digest.of(target.node().map()))
                .isEqualTo(Digest.of(other.node().map()));

        assertThat(target.node().replicationServer().metrics().resyncsFull.sum())
                .as("full copies served by the new leader")
                .isZero();
        assertThat(old.node().replicationClient().metrics().resyncsFull.sum())
                .as("full copies made by the old leader")
                .isZero();
        assertThat(other.node().replicationClient().metrics().resyncsFull.sum())
                .as("full copies made by the other follower")
                .isZero();
        assertThat(oldServer.metrics().resyncsFull.sum()).isZero();
        assertThat(outcome.oldLeaderFollows()).isTrue();
    }

    private static long lsnSum(ClusterNode n) {
        long sum = 0;
        for (int s = 0; s < n.node().map().config().shards(); s++) {
            sum += n.node().map().engine().view(s).lastLsn();
        }
        return sum;
    }

    @Test
    void aSwitchoverThatCannotBeDoneIsRefusedAndOneThatTimesOutLeavesTheLeaderWriting() throws Exception {
        group = new TestGroup(tmp);
        ClusterNode leader = group.form(1);
        String leaderId = leader.member().nodeId();
        String follower = group.state().isr().get(0);
        assertThatThrownBy(() -> Switchover.run(
                        group.connectString(), TestGroup.GROUP, leaderId, Duration.ofSeconds(10), p -> {}))
                .isInstanceOf(ArmDbException.class)
                .hasMessageContaining("leads group g1 already");
        assertThatThrownBy(() -> Switchover.run(
                        group.connectString(), TestGroup.GROUP, "nobody", Duration.ofSeconds(10), p -> {}))
                .isInstanceOf(ArmDbException.class)
                .hasMessageContaining("nobody is not a running member of group g1");
        assertThatThrownBy(() ->
                        Switchover.run(group.connectString(), "nogroup", follower, Duration.ofSeconds(10), p -> {}))
                .isInstanceOf(ArmDbException.class)
                .hasMessageContaining("group nogroup has no state");

        // the target's link is cut and a write it never gets is applied on the leader (its reply waits for the
        // ISR): the target can never reach the leader's last LSNs, so the request times out and is removed
        try (Resp r = new Resp(leader.node().respAddress())) {
            assertThat(r.call("SET", key(1), value(1))).isEqualTo("+OK");
        }
        for (LoopbackProxy p : group.linksOf(group.node(follower))) {
            p.blackhole();
        }
        long lsnsBefore = lsnSum(leader);
        AtomicReference<String> parked = new AtomicReference<>();
        Thread w = Thread.ofPlatform().start(() -> {
            try (Resp r = new Resp(leader.node().respAddress())) {
                parked.set(r.call("SET", key(2), value(2)));
            } catch (java.io.IOException e) {
                parked.set(e.toString());
            }
        });
        TestGroup.await("the write applied on the leader", 30, () -> lsnSum(leader) > lsnsBefore);
        long start = System.nanoTime();
        assertThatThrownBy(() -> Switchover.run(
                        group.connectString(), TestGroup.GROUP, follower, Duration.ofSeconds(4), p -> {}))
                .isInstanceOf(ArmDbException.class)
                .hasMessageContaining("timed out");
        assertThat(System.nanoTime() - start).as("bounded").isLessThan(TimeUnit.SECONDS.toNanos(30));
        w.join(30_000);
        assertThat(parked.get())
                .as("acknowledged once the cut target left the ISR")
                .isEqualTo("+OK");
        TestGroup.await("the leader taking writes again", 30, () -> {
            try (Resp r = new Resp(leader.node().respAddress())) {
                return r.call("SET", key(3), value(3)).equals("+OK");
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        assertThat(group.state().leader()).isEqualTo(leaderId);
    }
}
