package dev.armdb.replication;

import static dev.armdb.replication.ReplicationFaultTest.awaitConverged;
import static dev.armdb.replication.ReplicationFaultTest.awaitUntil;
import static dev.armdb.replication.ReplicationFaultTest.config;
import static dev.armdb.replication.ReplicationFaultTest.contents;
import static dev.armdb.replication.ReplicationFaultTest.key;
import static dev.armdb.replication.ReplicationFaultTest.value;
import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.FixedMap;
import dev.armdb.index.KeyHash;
import dev.armdb.replication.follower.ReplicationClient;
import dev.armdb.replication.follower.ReplicationClientConfig;
import dev.armdb.replication.leader.ReplicationServer;
import dev.armdb.replication.leader.ReplicationServerConfig;
import dev.armdb.store.KeyListener;
import dev.armdb.store.Store;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A first copy's index is built off the worker that drives the shard's session ({@code IndexBuild}): with one worker
 * for every shard, a shard whose index build is held up does not hold up another shard's copy, and a build that fails
 * leaves no half-indexed shard behind (the session reconnects and copies the shard again). The build is held up, or
 * made to fail, through a key listener on the follower's shard, which the build tells of every live key.
 *
 * <p>Mutation check: building the index on the worker again (the CAUGHT_UP frame calling {@code onCaughtUp} at once)
 * fails {@link #aHeldUpIndexBuildDoesNotHoldUpAnotherShard}: the other shard's copy never completes while the build
 * is held.
 */
class IndexBuildOffTheWorkerTest extends ClosingTest {
    private static final int VALUE = 24;
    private static final int SMALL = 20;
    private static final int LARGE = 60_000;

    @Test
    void aHeldUpIndexBuildDoesNotHoldUpAnotherShard() throws Exception {
        FixedMap leader = track(FixedMap.open(tmp.resolve("leader"), config(VALUE, 2)));
        load(leader);
        FixedMap follower = track(FixedMap.open(tmp.resolve("follower"), config(VALUE, 2)));
        CountDownLatch building = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        follower.engine()
                .shard(0)
                .attachKeyListener(
                        new Listener(() -> {
                            building.countDown();
                            await(release);
                        }),
                        (key, slot) -> {});
        ReplicationServer server = track(ReplicationServer.start(leader, ReplicationServerConfig.defaults()));
        ReplicationClient client = track(ReplicationClient.start(
                follower, server.address(), ReplicationClientConfig.defaults().withWorkerThreads(1)));
        try {
            assertThat(building.await(30, TimeUnit.SECONDS))
                    .as("shard 0's index build started")
                    .isTrue();
            long lsn1 = leader.engine().view(1).lastLsn();
            assertThat(client.awaitApplied(1, lsn1, Duration.ofSeconds(20)))
                    .as("shard 1 (%,d keys) copied while shard 0's index build is held: %s", LARGE, client.status())
                    .isTrue();
            assertThat(client.status().get(0).state())
                    .as("shard 0 while its index builds")
                    .isEqualTo("CATCHING_UP");
        } finally {
            release.countDown();
        }
        awaitConverged(leader, client);
        assertThat(contents(follower)).isEqualTo(contents(leader));
    }

    @Test
    void aFailedIndexBuildIsFollowedByAFreshCopy() throws Exception {
        FixedMap leader = track(FixedMap.open(tmp.resolve("leader"), config(VALUE, 2)));
        load(leader);
        FixedMap follower = track(FixedMap.open(tmp.resolve("follower"), config(VALUE, 2)));
        AtomicInteger failures = new AtomicInteger();
        follower.engine()
                .shard(0)
                .attachKeyListener(
                        new Listener(() -> {
                            if (failures.getAndIncrement() == 0) {
                                throw new IllegalStateException("index build failed (test)");
                            }
                        }),
                        (key, slot) -> {});
        ReplicationServer server = track(ReplicationServer.start(leader, ReplicationServerConfig.defaults()));
        ReplicationClient client = track(ReplicationClient.start(
                follower, server.address(), ReplicationClientConfig.defaults().withWorkerThreads(1)));
        awaitUntil(() -> "a second index build of shard 0", Duration.ofSeconds(30), () -> failures.get() > 1);
        awaitConverged(leader, client);
        assertThat(contents(follower)).isEqualTo(contents(leader));
        assertThat(follower.size()).isEqualTo(leader.size());
    }

    /** Shard 0 gets a few keys, shard 1 many, so shard 0's copy ends (and its index build starts) first. */
    private static void load(FixedMap leader) {
        Store store = leader.engine();
        int[] perShard = new int[2];
        for (int i = 0; perShard[0] < SMALL || perShard[1] < LARGE; i++) {
            byte[] k = key(i);
            int s = store.shardOf(k, KeyHash.hash(k));
            if (perShard[s] < (s == 0 ? SMALL : LARGE)) {
                leader.put(k, value(VALUE, i, 1));
                perShard[s]++;
            }
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Runs {@code onInsert} for each key an index build hands it. */
    private record Listener(Runnable onInsert) implements KeyListener {
        @Override
        public void inserted(byte[] key, int slot, byte[] value) {
            onInsert.run();
        }

        @Override
        public void updated(byte[] key, int slot, byte[] value) {}

        @Override
        public void removed(byte[] key) {}
    }
}
