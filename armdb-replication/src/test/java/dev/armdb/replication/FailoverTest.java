package dev.armdb.replication;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.FixedMap;
import dev.armdb.replication.follower.ReplicaLineage;
import dev.armdb.replication.follower.ReplicationClient;
import dev.armdb.replication.follower.ReplicationClientConfig;
import dev.armdb.replication.leader.ReplicationServer;
import dev.armdb.replication.leader.ReplicationServerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Failover on 127.0.0.1: a leader with two followers stops, one follower is promoted, the other is re-pointed at it.
 * A follower holding only what the promoted node had resumes by a partial scan; one that got further than the
 * promoted node (writes the new leader never saw) is copied again, so it can never keep them.
 */
class FailoverTest {
    @TempDir
    Path tmp;

    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private <T extends AutoCloseable> T track(T c) {
        toClose.add(c);
        return c;
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

    @Test
    void aFollowerRepointedAtThePromotedPeerResumesWithoutAFullCopy() {
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

        server.close();
        c2.close();
        c1.promote();
        assertThat(Files.exists(tmp.resolve("f1").resolve("replica.lineage"))).isTrue();
        ReplicationServer promoted = serve(f1);
        write(f1, rnd, 5_000, 6_000, 100_000);

        ReplicationClient again = follow(f2, promoted);
        ReplicationFaultTest.awaitConverged(f1, again);
        assertThat(ReplicationTest.contents(f2)).as("seed %d", seed).isEqualTo(ReplicationTest.contents(f1));
        assertThat(promoted.metrics().resyncsFull.sum()).as("full copies").isZero();
        assertThat(promoted.metrics().resyncsPartial.sum()).as("partial scans").isEqualTo(ReplicationTest.SHARDS);
        assertThat(promoted.metrics().catchupSlotsSent.sum())
                .as("slots sent: what changed since the promotion, not the whole collection")
                .isLessThan(f1.size());

        write(f1, rnd, 2_000, 6_000, 200_000);
        ReplicationFaultTest.awaitConverged(f1, again);
        assertThat(ReplicationTest.contents(f2)).as("seed %d", seed).isEqualTo(ReplicationTest.contents(f1));
    }

    @Test
    void aFollowerThatGotFurtherThanThePromotedPeerIsCopiedAgain() {
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

        // f1 falls behind: the leader's last writes reach f2 only
        c1.close();
        write(leader, rnd, 4_000, 5_000, 50_000);
        ReplicationFaultTest.awaitConverged(leader, c2);
        server.close();
        c2.close();

        // f1 is promoted as a replica left over from its run (no client running)
        ReplicationClient.promoteReplica(f1);
        assertThat(ReplicaLineage.load(tmp.resolve("f1"))).isNotNull();
        ReplicationServer promoted = serve(f1);
        write(f1, rnd, 1_000, 6_000, 100_000);

        ReplicationClient again = follow(f2, promoted);
        ReplicationFaultTest.awaitConverged(f1, again);
        assertThat(ReplicationTest.contents(f2))
                .as("f2 drops the writes the promoted node never had (seed %d)", seed)
                .isEqualTo(ReplicationTest.contents(f1));
        assertThat(promoted.metrics().resyncsFull.sum()).as("full copies").isEqualTo(ReplicationTest.SHARDS);
    }
}
