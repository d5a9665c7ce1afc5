package dev.armdb.replication;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.FixedMap;
import dev.armdb.FixedStore;
import dev.armdb.replication.follower.ReplicationClient;
import dev.armdb.replication.follower.ReplicationClientConfig;
import dev.armdb.replication.follower.ShardStatus;
import dev.armdb.replication.leader.ReplicationServer;
import dev.armdb.replication.leader.ReplicationServerConfig;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** In-process leader and followers on 127.0.0.1. */
class ReplicationTest extends ClosingTest {
    static final int SHARDS = 4;

    static FixedConfig config(int valueSize, int feedCapacity) {
        return FixedConfig.builder()
                .keySize(16)
                .valueSize(valueSize)
                .shards(SHARDS)
                .durability(Durability.NONE)
                .changeFeedCapacity(feedCapacity)
                .build();
    }

    static byte[] key(int i) {
        return ByteBuffer.allocate(16).putInt(i).putInt(i * 31).putLong(~i).array();
    }

    static byte[] value(int i, int version) {
        byte[] v = new byte[32];
        ByteBuffer.wrap(v).putInt(i).putInt(version).putLong(i * 7L + version);
        return v;
    }

    static Map<String, String> contents(FixedStore s) {
        Map<String, String> m = new TreeMap<>();
        s.forEach((k, v) -> m.put(HexFormat.of().formatHex(k), HexFormat.of().formatHex(v)));
        return m;
    }

    ReplicationServer server(FixedStore leader) {
        return track(ReplicationServer.start(leader, ReplicationServerConfig.defaults()));
    }

    ReplicationClient follow(FixedStore follower, ReplicationServer server) {
        return track(ReplicationClient.start(follower, server.address(), ReplicationClientConfig.defaults()));
    }

    static void awaitConverged(FixedStore leader, ReplicationClient client) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!client.status().stream().allMatch(st -> st.state().equals("STREAMING"))) {
            assertThat(System.nanoTime())
                    .as("all shards streaming: %s", client.status())
                    .isLessThan(deadline);
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
        }
        for (int s = 0; s < SHARDS; s++) {
            long target = leader.engine().view(s).lastLsn();
            assertThat(client.awaitApplied(s, target, Duration.ofSeconds(60)))
                    .as("shard %d reaches LSN %d; status %s", s, target, client.status())
                    .isTrue();
        }
    }

    @Test
    void emptyFollowerCatchesUpWhileWritesRunThenStreams() throws Exception {
        FixedMap leader = track(FixedMap.open(tmp.resolve("leader"), config(32, 1 << 16)));
        for (int i = 0; i < 100_000; i++) {
            leader.put(key(i), value(i, 0));
        }
        ReplicationServer server = server(leader);
        FixedMap follower = track(FixedMap.open(tmp.resolve("follower"), config(32, 1 << 16)));
        AtomicBoolean stop = new AtomicBoolean();
        Random rnd = new Random(42);
        Thread writer = Thread.ofPlatform().start(() -> {
            for (int n = 0; n < 200_000 && !stop.get(); n++) {
                int i = rnd.nextInt(120_000);
                if (n % 5 == 0) {
                    leader.delete(key(i));
                } else {
                    leader.put(key(i), value(i, n));
                }
            }
        });
        ReplicationClient client = follow(follower, server);
        writer.join(60_000);
        stop.set(true);
        awaitConverged(leader, client);
        assertThat(contents(follower)).isEqualTo(contents(leader));
        assertThat(server.metrics().catchupSlotsScanned.sum()).isGreaterThan(0);

        for (int i = 0; i < 1000; i++) {
            leader.put(key(i), value(i, 99));
            leader.delete(key(i + 50_000));
        }
        awaitConverged(leader, client);
        assertThat(contents(follower)).isEqualTo(contents(leader));
        assertThat(follower.get(key(5))).isEqualTo(value(5, 99));
        assertThat(client.status()).extracting(ShardStatus::state).containsOnly("STREAMING");
        assertThat(server.metrics().streamingEventsSent.sum()).isGreaterThan(0);
    }

    @Test
    void restartedFollowerResyncsFromTheBacklogAndFromAPartialScanWhenLapped() throws Exception {
        Path fdir = tmp.resolve("follower");
        FixedMap leader = track(FixedMap.open(tmp.resolve("leader"), config(32, 1024)));
        for (int i = 0; i < 20_000; i++) {
            leader.put(key(i), value(i, 0));
        }
        ReplicationServer server = server(leader);
        FixedMap follower = FixedMap.open(fdir, config(32, 1024));
        ReplicationClient client =
                ReplicationClient.start(follower, server.address(), ReplicationClientConfig.defaults());
        awaitConverged(leader, client);
        client.close();
        follower.close();

        for (int i = 0; i < 10; i++) {
            leader.put(key(i), value(i, 1));
        }
        long backlogBefore = server.metrics().resyncsBacklog.sum();
        follower = track(FixedMap.open(fdir));
        client = follow(follower, server);
        awaitConverged(leader, client);
        assertThat(contents(follower)).isEqualTo(contents(leader));
        assertThat(server.metrics().resyncsBacklog.sum() - backlogBefore).isEqualTo(SHARDS);
        // ten changed records of 48 bytes, not the 20,000-record data set (~1.3 MB of slot images)
        assertThat(client.bytesReceived()).isLessThan(20_000);
        client.close();

        for (int i = 0; i < 5000; i++) {
            leader.put(key(i), value(i, 2));
        }
        long partialBefore = server.metrics().resyncsPartial.sum();
        long scannedBefore = server.metrics().catchupSlotsSent.sum();
        client = follow(follower, server);
        awaitConverged(leader, client);
        assertThat(contents(follower)).isEqualTo(contents(leader));
        assertThat(server.metrics().resyncsPartial.sum() - partialBefore).isPositive();
        assertThat(server.metrics().catchupSlotsSent.sum() - scannedBefore).isLessThan(12_000);
    }

    @Test
    void threeFollowersConvergeAndLosingOneDisturbsNoOther() throws Exception {
        FixedMap leader = track(FixedMap.open(tmp.resolve("leader"), config(32, 1 << 16)));
        for (int i = 0; i < 10_000; i++) {
            leader.put(key(i), value(i, 0));
        }
        ReplicationServer server = server(leader);
        ReplicationClient[] clients = new ReplicationClient[3];
        FixedMap[] followers = new FixedMap[3];
        for (int f = 0; f < 3; f++) {
            followers[f] = track(FixedMap.open(tmp.resolve("f" + f), config(32, 1 << 16)));
            clients[f] = follow(followers[f], server);
        }
        for (int i = 0; i < 20_000; i++) {
            leader.put(key(i % 12_000), value(i, 1));
            if (i == 5_000) {
                clients[1].close();
            }
        }
        awaitConverged(leader, clients[0]);
        awaitConverged(leader, clients[2]);
        assertThat(contents(followers[0])).isEqualTo(contents(leader));
        assertThat(contents(followers[2])).isEqualTo(contents(leader));
        int lsnShard = leader.engine().shardOf(key(1), dev.armdb.index.KeyHash.hash(key(1)));
        long lsn = leader.put(key(1), value(1, 77));
        assertThat(server.awaitReplicated(lsnShard, lsn, 2, Duration.ofSeconds(30)))
                .isTrue();
        assertThat(server.awaitReplicated(lsnShard, lsn, 3, Duration.ofMillis(300)))
                .isFalse();
    }

    @Test
    void followerOfAnotherDatabaseDoesACleanFullResyncAndPromotionContinuesLsns() throws Exception {
        FixedMap leaderA = FixedMap.open(tmp.resolve("a"), config(32, 1 << 16));
        for (int i = 0; i < 3000; i++) {
            leaderA.put(key(i), value(i, 1));
        }
        ReplicationServer serverA = ReplicationServer.start(leaderA, ReplicationServerConfig.defaults());
        FixedMap follower = track(FixedMap.open(tmp.resolve("follower"), config(32, 1 << 16)));
        ReplicationClient client =
                ReplicationClient.start(follower, serverA.address(), ReplicationClientConfig.defaults());
        awaitConverged(leaderA, client);
        client.close();
        serverA.close();
        leaderA.close();

        FixedMap leaderB = track(FixedMap.open(tmp.resolve("b"), config(32, 1 << 16)));
        for (int i = 2000; i < 2500; i++) {
            leaderB.put(key(i), value(i, 2));
        }
        ReplicationServer serverB = server(leaderB);
        client = follow(follower, serverB);
        awaitConverged(leaderB, client);
        assertThat(contents(follower)).isEqualTo(contents(leaderB));
        assertThat(client.metrics().resyncsFull.sum()).isEqualTo(SHARDS);

        client.promote();
        int s = follower.engine().shardOf(key(1), dev.armdb.index.KeyHash.hash(key(1)));
        long before = follower.engine().view(s).lastLsn();
        long lsn = follower.put(key(1), value(1, 3));
        assertThat(lsn).isGreaterThan(before);
        assertThat(follower.get(key(1))).isEqualTo(value(1, 3));
        assertThat(follower.size()).isEqualTo(leaderB.size() + 1);
    }
}
