package dev.armdb.replication;

import static dev.armdb.replication.ReplicationFaultTest.awaitConverged;
import static dev.armdb.replication.ReplicationFaultTest.awaitUntil;
import static dev.armdb.replication.ReplicationFaultTest.caughtUp;
import static dev.armdb.replication.ReplicationFaultTest.concat;
import static dev.armdb.replication.ReplicationFaultTest.config;
import static dev.armdb.replication.ReplicationFaultTest.contents;
import static dev.armdb.replication.ReplicationFaultTest.frame;
import static dev.armdb.replication.ReplicationFaultTest.heartbeat;
import static dev.armdb.replication.ReplicationFaultTest.key;
import static dev.armdb.replication.ReplicationFaultTest.readSyncRequest;
import static dev.armdb.replication.ReplicationFaultTest.shardInfo;
import static dev.armdb.replication.ReplicationFaultTest.value;
import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.ArmDbException;
import dev.armdb.FixedMap;
import dev.armdb.replication.ReplicationFaultTest.FakeLeader;
import dev.armdb.replication.follower.ReplicationClient;
import dev.armdb.replication.follower.ReplicationClientConfig;
import dev.armdb.replication.leader.ReplicationServer;
import dev.armdb.replication.leader.ReplicationServerConfig;
import dev.armdb.replication.protocol.ErrorCode;
import dev.armdb.replication.protocol.ErrorMessage;
import dev.armdb.replication.protocol.ShardInfo;
import dev.armdb.store.SlotLayout;
import dev.armdb.store.Store;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;

/**
 * The follower's worker pool: every shard session of a {@link ReplicationClient}, plain TCP or TLS, runs on a few
 * threads over non-blocking sockets, and closing (or promoting) a client still waits for a session its worker is in
 * the middle of changing the shard for. Over real loopback sockets; randomised parts use {@link
 * ReplicationFaultTest#SEED} ({@code -Darmdb.seed=N} repeats a run).
 */
class FollowerWorkerPoolTest extends ClosingTest {
    private static final int SHARDS = 16;
    private static final int CLIENTS = 3;
    private static final int THREADS = 2;
    private static final char[] PASSWORD = "test-password".toCharArray();

    /** Live threads whose names say they run follower sessions (the pools, or the former thread per shard). */
    static Set<String> followerThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(Thread::isAlive)
                .map(Thread::getName)
                .filter(n -> n.startsWith("armdb-repl-follow"))
                .collect(Collectors.toSet());
    }

    /** Threads in {@code now} that were not in {@code before}. */
    private static List<String> added(Set<String> before, Set<String> now) {
        return now.stream().filter(n -> !before.contains(n)).sorted().toList();
    }

    /** By default a follower runs one worker per core but one, at least one and at most two. */
    @Test
    void aFollowerLeavesOneCoreToItsNodeByDefault() {
        assertThat(ReplicationClientConfig.defaultWorkerThreads(1)).isEqualTo(1);
        assertThat(ReplicationClientConfig.defaultWorkerThreads(2)).isEqualTo(1);
        assertThat(ReplicationClientConfig.defaultWorkerThreads(3)).isEqualTo(2);
        assertThat(ReplicationClientConfig.defaultWorkerThreads(64)).isEqualTo(2);
        assertThat(ReplicationClientConfig.defaults().workerThreads())
                .isEqualTo(ReplicationClientConfig.defaultWorkerThreads(
                        Runtime.getRuntime().availableProcessors()));
    }

    /**
     * Three followers of a 16-shard leader (48 follower sessions) catch up, then follow deletes and rewrites, each
     * client on a pool of two threads: the follower threads of this test number 6, not 48.
     */
    @Test
    void fortyEightShardSessionsRunOnSixThreadsAndConverge() {
        Set<String> before = followerThreads();
        FixedMap leader = track(FixedMap.open(tmp.resolve("leader"), config(32, SHARDS)));
        for (int i = 0; i < 8_000; i++) {
            leader.put(key(i), value(32, i, 0));
        }
        ReplicationServer server = track(ReplicationServer.start(
                leader,
                ReplicationServerConfig.defaults().withTimeouts(Duration.ofMillis(100), Duration.ofSeconds(10))));
        ReplicationClientConfig cfg = ReplicationClientConfig.defaults()
                .withTimeouts(Duration.ofMillis(100), Duration.ofSeconds(10))
                .withWorkerThreads(THREADS);
        List<ReplicationClient> clients = new ArrayList<>();
        List<FixedMap> followers = new ArrayList<>();
        for (int f = 0; f < CLIENTS; f++) {
            FixedMap m = track(FixedMap.open(tmp.resolve("f" + f), config(32, SHARDS)));
            followers.add(m);
            clients.add(track(ReplicationClient.start(m, server.address(), cfg)));
        }
        churnAndConverge(leader, clients, followers);

        List<String> threads = added(before, followerThreads());
        System.out.println("FollowerWorkerPoolTest: " + CLIENTS + " clients x " + SHARDS
                + " shards on follower threads " + threads);
        assertThat(threads).as("follower threads of this test").hasSize(CLIENTS * THREADS);
        assertThat(threads).allMatch(n -> n.startsWith("armdb-repl-follower-"));
        assertThat(server.status()).as("leader sessions").hasSize(CLIENTS * SHARDS);

        for (ReplicationClient c : clients) {
            c.close();
        }
        awaitUntil(
                () -> "the pools' threads end: " + added(before, followerThreads()),
                Duration.ofSeconds(10),
                () -> added(before, followerThreads()).isEmpty());
    }

    /**
     * The same over mutual TLS with a secret: every shard session runs its TLS handshake and stream through an
     * SSLEngine on the pool (two clients × 16 shards on four threads) and converges.
     */
    @Test
    void tlsShardSessionsRunOnThePoolAndConverge() {
        Path store = tmp.resolve("node.p12");
        ReplicationTls.writeSelfSignedKeyStore(store, PASSWORD, List.of("ip:127.0.0.1", "dns:localhost"), 2);
        SSLContext tls = ReplicationTls.fromKeyStore(store, PASSWORD);
        byte[] secretBytes = new byte[ReplicationSecret.MIN_BYTES];
        new Random(ReplicationFaultTest.SEED).nextBytes(secretBytes);
        ReplicationSecret secret = ReplicationSecret.of(secretBytes);
        Set<String> before = followerThreads();
        FixedMap leader = track(FixedMap.open(tmp.resolve("leader"), config(32, SHARDS)));
        for (int i = 0; i < 4_000; i++) {
            leader.put(key(i), value(32, i, 0));
        }
        ReplicationServer server = track(ReplicationServer.start(
                leader,
                ReplicationServerConfig.defaults()
                        .withTimeouts(Duration.ofMillis(100), Duration.ofSeconds(10))
                        .withTls(tls)
                        .withSecret(secret)));
        ReplicationClientConfig cfg = ReplicationClientConfig.defaults()
                .withTimeouts(Duration.ofMillis(100), Duration.ofSeconds(10))
                .withTls(tls)
                .withSecret(secret)
                .withWorkerThreads(THREADS);
        List<ReplicationClient> clients = new ArrayList<>();
        List<FixedMap> followers = new ArrayList<>();
        for (int f = 0; f < 2; f++) {
            FixedMap m = track(FixedMap.open(tmp.resolve("f" + f), config(32, SHARDS)));
            followers.add(m);
            clients.add(track(ReplicationClient.start(m, server.address(), cfg)));
        }
        churnAndConverge(leader, clients, followers);
        List<String> threads = added(before, followerThreads());
        assertThat(threads).as("follower threads of this test").hasSize(2 * THREADS);
        assertThat(clients)
                .allSatisfy(c -> assertThat(c.status())
                        .allSatisfy(s -> assertThat(s.lastError())
                                .as("shard %d", s.shard())
                                .isEmpty()));
    }

    /**
     * Promotion while a session's worker is in the middle of taking a full copy's SHARD_INFO (held inside the
     * store, where it wipes the shard next): {@code promote()} does not return while the worker still runs the
     * session, and once it has, it refuses, because the copy it began is incomplete. A close that returned early
     * would let promotion run beside the wipe and leave a promoted, empty node.
     */
    @Test
    void promotionWaitsForASessionItsWorkerIsStillWiping() throws Exception {
        FixedMap follower = track(FixedMap.open(tmp.resolve("follower"), config(32, 1)));
        for (int i = 0; i < 100; i++) {
            follower.put(key(i), value(32, i, 0));
        }
        Store store = follower.engine();
        byte[] dbId = new byte[16];
        new Random(ReplicationFaultTest.SEED).nextBytes(dbId);
        byte[] info = shardInfo(
                1,
                ReplicationFaultTest.KEY_SIZE,
                32,
                SlotLayout.slotSize(ReplicationFaultTest.KEY_SIZE, 32),
                store.meta().routing().code(),
                2,
                dbId,
                10,
                ShardInfo.CatchUpMode.FULL.ordinal());
        try (FakeLeader fake = new FakeLeader()) {
            ReplicationClient client = track(ReplicationClient.start(
                    follower, fake.address(), ReplicationClientConfig.defaults().withWorkerThreads(1)));
            Socket s = fake.next(Duration.ofSeconds(5));
            readSyncRequest(s);
            AtomicReference<Throwable> promoted = new AtomicReference<>();
            Thread promoter;
            // the store's monitor holds the worker in persistReplicaMark, just before the applier wipes the shard
            synchronized (store) {
                s.getOutputStream().write(frame(2, info));
                s.getOutputStream().flush();
                awaitUntil(
                        () -> "the follower's worker waits inside the store",
                        Duration.ofSeconds(10),
                        FollowerWorkerPoolTest::workerBlockedInStore);
                promoter = Thread.ofPlatform().name("promoter").start(() -> {
                    try {
                        client.promote();
                    } catch (Throwable t) {
                        promoted.set(t);
                    }
                });
                // longer than the worker pool waits for its threads when it closes (5 s): only the wait for the
                // sessions to end holds promote() back here
                LockSupport.parkNanos(6_000_000_000L);
                assertThat(promoter.isAlive())
                        .as("promote() still waits for the session its worker runs")
                        .isTrue();
                assertThat(follower.size()).as("nothing wiped yet").isEqualTo(100);
            }
            promoter.join(30_000);
            assertThat(promoter.isAlive()).as("promote() returned").isFalse();
            assertThat(promoted.get())
                    .as("promotion refused: the full copy the session began is incomplete")
                    .isInstanceOf(ArmDbException.class)
                    .hasMessageContaining("incomplete copy");
            assertThat(follower.size())
                    .as("the wipe finished before promote() returned")
                    .isZero();
            assertThat(store.isReplica()).isTrue();
            assertThat(Files.exists(tmp.resolve("follower").resolve(Store.copyMarkName(0))))
                    .isTrue();
        }
    }

    /**
     * Two shards on one worker thread, peer timeout 2 s: while the worker is held for 3.5 s inside the store (taking
     * shard 0's SHARD_INFO after a reconnect), the leader keeps sending shard 1 heartbeats that nobody reads. Once the
     * worker is free, shard 1 reads them before it judges the leader silent, so its session is not dropped.
     */
    @Test
    void aWorkerHeldUpByOneShardDropsNoOtherShardsSession() throws Exception {
        FixedMap follower = track(FixedMap.open(tmp.resolve("follower"), config(32, 2)));
        Store store = follower.engine();
        byte[] dbId = new byte[16];
        new Random(ReplicationFaultTest.SEED).nextBytes(dbId);
        byte[] info = shardInfo(
                2,
                ReplicationFaultTest.KEY_SIZE,
                32,
                SlotLayout.slotSize(ReplicationFaultTest.KEY_SIZE, 32),
                store.meta().routing().code(),
                0,
                dbId,
                0,
                ShardInfo.CatchUpMode.PARTIAL_SCAN.ordinal());
        byte[] caughtUp = frame(4, caughtUp(0, 0, 0));
        ReplicationClientConfig cfg = new ReplicationClientConfig(
                Duration.ofSeconds(2),
                Duration.ofMillis(100),
                Duration.ofSeconds(2),
                Duration.ofMillis(20),
                Duration.ofMillis(200),
                null,
                null,
                null,
                1);
        Set<Socket> beating = ConcurrentHashMap.newKeySet();
        AtomicBoolean stop = new AtomicBoolean();
        Thread beats = Thread.ofPlatform().name("fake-heartbeats").start(() -> {
            for (int i = 0; i < 1_000 && !stop.get(); i++) {
                for (Socket s : beating) {
                    try {
                        s.getOutputStream().write(frame(6, heartbeat(0, 0)));
                    } catch (IOException e) {
                        beating.remove(s);
                    }
                }
                LockSupport.parkNanos(100_000_000L);
            }
        });
        try (FakeLeader fake = new FakeLeader()) {
            ReplicationClient client = track(ReplicationClient.start(follower, fake.address(), cfg));
            Socket[] byShard = new Socket[2];
            for (int i = 0; i < 2; i++) {
                Socket s = fake.next(Duration.ofSeconds(5));
                byShard[readSyncRequest(s).getInt(4)] = s;
                s.getOutputStream().write(concat(frame(2, info), caughtUp));
                beating.add(s);
            }
            awaitUntil(
                    () -> "both shards stream: " + client.status(),
                    Duration.ofSeconds(10),
                    () -> client.status().stream().allMatch(st -> st.state().equals("STREAMING")));
            // shard 0 reconnects, so the test can hold its worker in the next handshake
            beating.remove(byShard[0]);
            byShard[0].getOutputStream().write(frame(7, new ErrorMessage(ErrorCode.SHUTDOWN, "restart").encode()));
            Socket again = fake.next(Duration.ofSeconds(5));
            assertThat(readSyncRequest(again).getInt(4)).isZero();
            synchronized (store) {
                again.getOutputStream().write(frame(2, info));
                beating.add(again);
                awaitUntil(
                        () -> "the follower's worker waits inside the store",
                        Duration.ofSeconds(10),
                        FollowerWorkerPoolTest::workerBlockedInStore);
                LockSupport.parkNanos(3_500_000_000L);
            }
            again.getOutputStream().write(caughtUp);
            awaitUntil(
                    () -> "shard 0 streams again: " + client.status(),
                    Duration.ofSeconds(10),
                    () -> client.status().getFirst().state().equals("STREAMING"));
            LockSupport.parkNanos(1_000_000_000L);
            assertThat(client.status().get(1).lastError())
                    .as("shard 1's session was never dropped")
                    .isEmpty();
            assertThat(fake.attempts.get())
                    .as("connections: one per shard and shard 0's reconnect")
                    .isEqualTo(3);
        } finally {
            stop.set(true);
            beats.join(5_000);
        }
    }

    /** True if a follower worker thread is blocked entering the store's monitor in persistReplicaMark. */
    private static boolean workerBlockedInStore() {
        return Thread.getAllStackTraces().entrySet().stream()
                .filter(e -> e.getKey().getName().startsWith("armdb-repl-follower-"))
                .filter(e -> e.getKey().getState() == Thread.State.BLOCKED)
                .anyMatch(e -> Arrays.stream(e.getValue())
                        .anyMatch(f -> f.getMethodName().equals("persistReplicaMark")));
    }

    /** Waits for every client, rewrites and deletes keys on the leader, and waits for every client again. */
    private static void churnAndConverge(FixedMap leader, List<ReplicationClient> clients, List<FixedMap> followers) {
        for (ReplicationClient c : clients) {
            awaitConverged(leader, c);
        }
        Random rnd = new Random(ReplicationFaultTest.SEED);
        for (int n = 0; n < 4_000; n++) {
            int i = rnd.nextInt(10_000);
            if (n % 4 == 0) {
                leader.delete(key(i));
            } else {
                leader.put(key(i), value(32, i, n));
            }
        }
        for (ReplicationClient c : clients) {
            awaitConverged(leader, c);
        }
        for (FixedMap m : followers) {
            assertThat(contents(m)).isEqualTo(contents(leader));
        }
    }
}
