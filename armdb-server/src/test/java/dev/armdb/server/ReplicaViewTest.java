package dev.armdb.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.replication.leader.FollowerStatus;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** How the leader's follower sessions fold into ROLE's one entry per follower node. */
class ReplicaViewTest {
    private static FollowerStatus session(String id, int shard, int respPort, long idleMillis, long acked) {
        return new FollowerStatus(
                shard, id, "127.0.0.1:50000", "127.0.0.1", respPort, idleMillis, "STREAMING", acked, 0, 0, "");
    }

    @Test
    void aRestartedNodeIsListedOnceAtItsNewAddressWithEachShardCountedOnce() {
        long seed = Long.getLong("armdb.seed", System.nanoTime());
        System.out.println("ReplicaViewTest seed " + seed + " (-Darmdb.seed=" + seed + ")");
        Random rnd = new Random(seed);
        for (int round = 0; round < 200; round++) {
            int shards = 1 + rnd.nextInt(4);
            List<FollowerStatus> sessions = new ArrayList<>();
            long expected = 0;
            for (int s = 0; s < shards; s++) {
                long oldAcked = rnd.nextInt(1000);
                long newAcked = rnd.nextInt(1000);
                expected += newAcked;
                // the previous run's session went quiet; the new run's is heard regularly
                sessions.add(session("a1", s, 7000, 5_000 + rnd.nextInt(5_000), oldAcked));
                sessions.add(session("a1", s, 7001, rnd.nextInt(1_000), newAcked));
            }
            sessions.add(session("b2", 0, 8000, rnd.nextInt(1_000), 42));
            Collections.shuffle(sessions, rnd);

            List<ReplicaView> nodes = ReplicaView.of(sessions);
            assertThat(nodes).as("seed %d round %d", seed, round).hasSize(2);
            ReplicaView a =
                    nodes.stream().filter(v -> v.id().equals("a1")).findFirst().orElseThrow();
            assertThat(a.port()).as("seed %d round %d", seed, round).isEqualTo(7001);
            assertThat(a.offset()).as("seed %d round %d", seed, round).isEqualTo(expected);
            ReplicaView b =
                    nodes.stream().filter(v -> v.id().equals("b2")).findFirst().orElseThrow();
            assertThat(b.port()).isEqualTo(8000);
            assertThat(b.offset()).isEqualTo(42);
        }
    }

    @Test
    void closedSessionsAndNodesWithoutRespAreLeftOut() {
        List<FollowerStatus> sessions = List.of(
                new FollowerStatus(0, "c3", "r", "127.0.0.1", 9000, 0, "CLOSED", 5, 0, 0, "eof"),
                session("d4", 0, 0, 0, 5),
                session("", 0, 9001, 0, 5));
        assertThat(ReplicaView.of(sessions)).isEmpty();
    }
}
