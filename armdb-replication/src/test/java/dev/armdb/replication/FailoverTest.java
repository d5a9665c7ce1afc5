package dev.armdb.replication;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.FixedMap;
import dev.armdb.replication.follower.ReplicaLineage;
import dev.armdb.replication.follower.ReplicationClient;
import dev.armdb.replication.follower.ReplicationClientConfig;
import dev.armdb.replication.follower.ShardStatus;
import dev.armdb.replication.leader.ReplicationServer;
import dev.armdb.replication.leader.ReplicationServerConfig;
import java.nio.file.Files;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Failover on 127.0.0.1: a leader with two followers stops, one follower is promoted, the other is re-pointed at it.
 * A follower holding only what the promoted node had resumes by a partial scan; one that got further than the
 * promoted node (writes the new leader never saw) is copied again, so it can never keep them.
 */
class FailoverTest extends ClosingTest {
    /** A leader with data and two followers that have caught up with it. */
    private record Cluster(
            Random rnd,
            long seed,
            FixedMap leader,
            ReplicationServer server,
            FixedMap f1,
            ReplicationClient c1,
            FixedMap f2,
            ReplicationClient c2) {}

    private Cluster cluster() {
        long seed = System.nanoTime();
        System.out.println("FailoverTest seed " + seed);
        Random rnd = new Random(seed);
        FixedMap leader = open("leader");
        write(leader, rnd, 20_000, 5_000, 0);
        ReplicationServer server = serve(leader);
        FixedMap f1 = open("f1");
        FixedMap f2 = open("f2");
        ReplicationClient c1 = follow(f1, server);
        ReplicationClient c2 = follow(f2, server);
        ReplicationFaultTest.awaitConverged(leader, c1);
        ReplicationFaultTest.awaitConverged(leader, c2);
        return new Cluster(rnd, seed, leader, server, f1, c1, f2, c2);
    }

    private FixedMap open(String name) {
        return track(FixedMap.open(tmp.resolve(name), ReplicationTest.config(32, 1024)));
    }

    private ReplicationServer serve(FixedMap leader) {
        return track(ReplicationServer.start(leader, ReplicationServerConfig.defaults()));
    }

    private ReplicationClient follow(FixedMap follower, ReplicationServer server) {
        return track(ReplicationClient.start(follower, server.address(), ReplicationClientConfig.defaults()));
    }

    private static void write(FixedMap map, Random rnd, int ops, int keys, int version) {
        for (int n = 0; n < ops; n++) {
            int i = rnd.nextInt(keys);
            if (n % 5 == 0) {
                map.delete(ReplicationTest.key(i));
            } else {
                map.put(ReplicationTest.key(i), ReplicationTest.value(i, version + n));
            }
        }
    }

    /**
     * A promoted (closed) client's status stays readable from other threads, at the positions it stopped at: a node's
     * ROLE and INFO replication read it while a failover promotes the node, and reading the unmapped replica state
     * failed them.
     */
    @Test
    void aPromotedClientsStatusStaysReadableAtItsLastPositions() throws Exception {
        Cluster c = cluster();
        c.server().close();
        List<ShardStatus> before = c.c1().status();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        AtomicBoolean stop = new AtomicBoolean();
        Thread reader = Thread.ofPlatform().start(() -> {
            try {
                for (int i = 0; i < 10_000_000 && !stop.get(); i++) {
                    c.c1().status();
                    c.c1().appliedLsn(i % ReplicationTest.SHARDS);
                }
            } catch (Throwable e) {
                failed.set(e);
            }
        });
        c.c1().promote();
        stop.set(true);
        reader.join(30_000);
        assertThat(failed.get()).as("status read while the client was promoted").isNull();
        List<ShardStatus> after = c.c1().status();
        assertThat(after).hasSize(ReplicationTest.SHARDS);
        for (int s = 0; s < ReplicationTest.SHARDS; s++) {
            assertThat(after.get(s).appliedLsn()).isEqualTo(before.get(s).appliedLsn());
            assertThat(c.c1().appliedLsn(s)).isEqualTo(before.get(s).appliedLsn());
        }
    }

    @Test
    void aFollowerRepointedAtThePromotedPeerResumesWithoutAFullCopy() {
        Cluster c = cluster();
        c.server().close();
        c.c2().close();
        c.c1().promote();
        assertThat(Files.exists(tmp.resolve("f1").resolve("replica.lineage"))).isTrue();
        ReplicationServer promoted = serve(c.f1());
        write(c.f1(), c.rnd(), 5_000, 6_000, 100_000);

        ReplicationClient again = follow(c.f2(), promoted);
        assertConverged(c, again);
        assertThat(promoted.metrics().resyncsFull.sum()).as("full copies").isZero();
        assertThat(promoted.metrics().resyncsPartial.sum()).as("partial scans").isEqualTo(ReplicationTest.SHARDS);
        assertThat(promoted.metrics().catchupSlotsSent.sum())
                .as("slots sent: what changed since the promotion, not the whole collection")
                .isLessThan(c.f1().size());

        write(c.f1(), c.rnd(), 2_000, 6_000, 200_000);
        assertConverged(c, again);
    }

    /** f2, following the promoted f1 through {@code client}, converges to f1's contents. */
    private static void assertConverged(Cluster c, ReplicationClient client) {
        ReplicationFaultTest.awaitConverged(c.f1(), client);
        assertThat(ReplicationTest.contents(c.f2()))
                .as("f2 holds exactly what the promoted f1 holds (seed %d)", c.seed())
                .isEqualTo(ReplicationTest.contents(c.f1()));
    }

    @Test
    void aFollowerThatGotFurtherThanThePromotedPeerIsCopiedAgain() {
        Cluster c = cluster();
        // f1 falls behind: the leader's last writes reach f2 only
        c.c1().close();
        write(c.leader(), c.rnd(), 4_000, 5_000, 50_000);
        ReplicationFaultTest.awaitConverged(c.leader(), c.c2());
        c.server().close();
        c.c2().close();

        // f1 is promoted as a replica left over from its run (no client running)
        ReplicationClient.promoteReplica(c.f1());
        assertThat(ReplicaLineage.load(tmp.resolve("f1"))).isNotNull();
        ReplicationServer promoted = serve(c.f1());
        write(c.f1(), c.rnd(), 1_000, 6_000, 100_000);

        ReplicationClient again = follow(c.f2(), promoted);
        assertConverged(c, again);
        assertThat(promoted.metrics().resyncsFull.sum()).as("full copies").isEqualTo(ReplicationTest.SHARDS);
    }

    /**
     * Three rounds of failover with seeded choices: each round one follower is promoted (sometimes after falling
     * behind), the other follower and the old leader re-point at it, and everyone must end up with the promoted
     * node's contents; only the nodes that hold writes the promoted node lacks (the other follower and the old leader,
     * when the promoted node had fallen behind) are copied in full.
     */
    @Test
    void repeatedFailoversConvergeAndCopyInFullOnlyWhoMustBe() {
        long seed = Long.getLong("armdb.seed", System.nanoTime());
        System.out.println("FailoverTest rounds seed " + seed + " (repeat with -Darmdb.seed=" + seed + ")");
        Random rnd = new Random(seed);
        FixedMap leader = open("n0");
        write(leader, rnd, 10_000, 4_000, 0);
        ReplicationServer server = serve(leader);
        FixedMap a = open("n1");
        FixedMap b = open("n2");
        ReplicationClient ca = follow(a, server);
        ReplicationClient cb = follow(b, server);
        for (int round = 0; round < 3; round++) {
            write(leader, rnd, 3_000, 4_000, 10_000 * (round + 1));
            ReplicationFaultTest.awaitConverged(leader, ca);
            ReplicationFaultTest.awaitConverged(leader, cb);
            boolean promotedBehind = rnd.nextBoolean();
            if (promotedBehind) {
                ca.close();
                write(leader, rnd, 2_000, 4_000, 10_000 * (round + 1) + 5_000);
                ReplicationFaultTest.awaitConverged(leader, cb);
            }
            server.close();
            cb.close();
            if (promotedBehind) {
                ReplicationClient.promoteReplica(a);
            } else {
                ca.promote();
            }
            ReplicationServer promoted = serve(a);
            write(a, rnd, 1_000, 4_000, 10_000 * (round + 1) + 7_000);
            ReplicationClient again = follow(b, promoted);
            ReplicationFaultTest.awaitConverged(a, again);
            assertThat(promoted.metrics().resyncsFull.sum())
                    .as("round %d: the other follower is copied in full only if it got further (seed %d)", round, seed)
                    .isEqualTo(promotedBehind ? ReplicationTest.SHARDS : 0);
            // the old leader rejoins as a follower of the promoted node: it holds its own history, which the
            // promoted node inherited unless the old leader wrote on after the promoted node fell behind
            long fullBefore = promoted.metrics().resyncsFull.sum();
            FixedMap oldLeader = leader;
            ReplicationClient rejoined = follow(oldLeader, promoted);
            ReplicationFaultTest.awaitConverged(a, rejoined);
            assertThat(promoted.metrics().resyncsFull.sum() - fullBefore)
                    .as("round %d: the old leader is copied in full only if it got further (seed %d)", round, seed)
                    .isEqualTo(promotedBehind ? ReplicationTest.SHARDS : 0);
            Object expected = ReplicationTest.contents(a);
            assertThat(ReplicationTest.contents(b))
                    .as("round %d, seed %d", round, seed)
                    .isEqualTo(expected);
            assertThat(ReplicationTest.contents(oldLeader))
                    .as("round %d, seed %d", round, seed)
                    .isEqualTo(expected);
            // next round: the promoted node leads, the other follower and the old leader follow it
            leader = a;
            server = promoted;
            a = b;
            ca = again;
            b = oldLeader;
            cb = rejoined;
        }
    }
}
