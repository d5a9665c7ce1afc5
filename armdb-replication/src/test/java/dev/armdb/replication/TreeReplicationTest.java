package dev.armdb.replication;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.FixedTree;
import dev.armdb.ShardRouting;
import dev.armdb.replication.follower.ReplicationClient;
import dev.armdb.replication.follower.ReplicationClientConfig;
import dev.armdb.replication.leader.ReplicationServer;
import dev.armdb.replication.leader.ReplicationServerConfig;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A FixedTree follower keeps its key order right while images arrive (inserts, moves, tombstones). */
class TreeReplicationTest {
    @TempDir
    Path tmp;

    private static List<String> ordered(Iterator<FixedTree.Entry> it) {
        List<String> out = new ArrayList<>();
        it.forEachRemaining(e ->
                out.add(HexFormat.of().formatHex(e.key()) + "=" + HexFormat.of().formatHex(e.value())));
        return out;
    }

    @Test
    void followerTreeRangesEqualTheLeaders() {
        long seed = Long.getLong("armdb.seed", System.nanoTime());
        System.out.println("TreeReplicationTest seed " + seed);
        Random rnd = new Random(seed);
        FixedConfig cfg = FixedConfig.builder()
                .keySize(8)
                .valueSize(8)
                .shards(3)
                .routing(ShardRouting.KEY_PREFIX)
                .durability(Durability.GROUP)
                .build();
        try (FixedTree leader = FixedTree.open(tmp.resolve("l"), cfg);
                FixedTree follower = FixedTree.open(tmp.resolve("f"), cfg);
                ReplicationServer server = ReplicationServer.start(leader, ReplicationServerConfig.defaults())) {
            byte[] v = new byte[8];
            for (int i = 0; i < 5000; i++) {
                rnd.nextBytes(v);
                leader.put(
                        ByteBuffer.allocate(8)
                                .putLong(rnd.nextInt(3000) * 0x0101_0101L)
                                .array(),
                        v);
            }
            try (ReplicationClient client =
                    ReplicationClient.start(follower, server.address(), ReplicationClientConfig.defaults())) {
                for (int i = 0; i < 5000; i++) {
                    byte[] k = ByteBuffer.allocate(8)
                            .putLong(rnd.nextInt(3000) * 0x0101_0101L)
                            .array();
                    if (rnd.nextInt(3) == 0) {
                        leader.delete(k);
                    } else {
                        rnd.nextBytes(v);
                        leader.put(k, v);
                    }
                }
                for (int s = 0; s < 3; s++) {
                    assertThat(client.awaitApplied(s, leader.engine().view(s).lastLsn(), Duration.ofSeconds(60)))
                            .isTrue();
                }
                assertThat(ordered(follower.range(null, null)))
                        .as("seed %d", seed)
                        .isEqualTo(ordered(leader.range(null, null)));
                byte[] from = ByteBuffer.allocate(8).putLong(700 * 0x0101_0101L).array();
                byte[] to = ByteBuffer.allocate(8).putLong(1400 * 0x0101_0101L).array();
                assertThat(ordered(follower.range(from, to))).isEqualTo(ordered(leader.range(from, to)));
                assertThat(follower.first()).isEqualTo(leader.first());
                assertThat(follower.last()).isEqualTo(leader.last());
                assertThat(follower.size()).isEqualTo(leader.size());
            }
        }
    }
}
