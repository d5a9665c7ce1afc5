package dev.armdb.replication;

import static dev.armdb.replication.ReplicationFaultTest.awaitUntil;
import static dev.armdb.replication.ReplicationFaultTest.caughtUp;
import static dev.armdb.replication.ReplicationFaultTest.concat;
import static dev.armdb.replication.ReplicationFaultTest.frame;
import static dev.armdb.replication.ReplicationFaultTest.heartbeat;
import static dev.armdb.replication.ReplicationFaultTest.shardInfo;
import static dev.armdb.replication.ReplicationFaultTest.slotBatch;
import static dev.armdb.replication.ReplicationFaultTest.slotImage;
import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.FixedMap;
import dev.armdb.replication.ReplicationFaultTest.End;
import dev.armdb.replication.ReplicationFaultTest.FakeLeader;
import dev.armdb.replication.ReplicationFaultTest.Frame;
import dev.armdb.replication.ReplicationFaultTest.Outcome;
import dev.armdb.replication.follower.ReplicationClient;
import dev.armdb.replication.follower.ReplicationClientConfig;
import dev.armdb.replication.follower.ShardStatus;
import dev.armdb.replication.leader.ReplicationServer;
import dev.armdb.replication.leader.ReplicationServerConfig;
import dev.armdb.replication.protocol.ErrorCode;
import dev.armdb.replication.protocol.FrameLayout;
import dev.armdb.replication.protocol.MessageType;
import dev.armdb.store.SlotLayout;
import dev.armdb.store.Store;
import dev.armdb.store.TermStateLayout;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Leader terms on 127.0.0.1: a follower refuses a leader whose term is lower than the highest it has seen (STALE_TERM,
 * nothing applied, retried in case the term rises), records a higher term durably before it acknowledges anything
 * further, keeps it across restarts, and a promotion moves past it. Fake leaders speak hand-made frames laid out from
 * docs/protocol.md; real leaders show the failover case the term exists for.
 */
class LeaderTermTest extends ClosingTest {
    private static final int KEY_SIZE = 16;
    private static final int VALUE_SIZE = 32;
    private static final Duration WAIT = Duration.ofSeconds(10);

    private static FixedConfig oneShard() {
        return FixedConfig.builder()
                .keySize(KEY_SIZE)
                .valueSize(VALUE_SIZE)
                .shards(1)
                .durability(Durability.NONE)
                .build();
    }

    /** Quick retries; heartbeats far apart, so the follower sends no idle ACK while a test watches its frames. */
    private static ReplicationClientConfig quietClient() {
        return new ReplicationClientConfig(
                Duration.ofSeconds(2),
                Duration.ofSeconds(5),
                Duration.ofSeconds(20),
                Duration.ofMillis(20),
                Duration.ofMillis(200),
                null,
                null,
                null);
    }

    private static ReplicationClientConfig quickRetries() {
        return quietClient().withTimeouts(Duration.ofMillis(100), Duration.ofSeconds(5));
    }

    private static long termOnDisk(Path dir) throws Exception {
        Path f = dir.resolve(TermStateLayout.FILE_NAME);
        return Files.exists(f) ? TermStateLayout.decode(Files.readAllBytes(f)) : 0;
    }

    private record Images(byte[] dbId, int slotSize, int routing, byte[] kAtLsn1) {}

    private static Images images(FixedMap follower) {
        byte[] dbId = new byte[16];
        new Random(11).nextBytes(dbId);
        return new Images(
                dbId,
                SlotLayout.slotSize(KEY_SIZE, VALUE_SIZE),
                follower.engine().meta().routing().code(),
                slotImage(SlotLayout.LIVE, 2, 1, ReplicationTest.key(1), ReplicationTest.value(1, 1)));
    }

    /** SHARD_INFO of {@code term} (scan from nothing), one batch with key 1 at LSN 1, CAUGHT_UP at 1. */
    private static byte[] handshakeAndOneKey(Images im, long term) {
        return concat(
                frame(2, shardInfo(1, KEY_SIZE, VALUE_SIZE, im.slotSize(), im.routing(), 1, im.dbId(), 1, 1, term)),
                frame(3, slotBatch(1, 1, 1, new int[] {0}, new byte[][] {im.kAtLsn1()})),
                frame(4, caughtUp(1, 1, 1)));
    }

    private static void assertStaleTermRefusal(Outcome o, long leaderTerm, long seen) {
        assertThat(o.end())
                .as("follower ends the connection after %s", o.frames())
                .isIn(End.EOF, End.RESET);
        assertThat(o.frames()).as("no ACK, only the refusal").hasSize(1);
        Frame err = o.last();
        assertThat(err.errorCode()).as("%s", err).isEqualTo(ErrorCode.STALE_TERM.code());
        assertThat(err.errorMessage()).contains("leader term " + leaderTerm + " is lower than term " + seen);
    }

    /**
     * A fake leader of term 3 meets a follower that has seen 5: the follower answers STALE_TERM as an ERROR frame and
     * applies nothing (no key, no replica mark, no recorded position), reports the refusal and comes back with
     * backoff; once the leader's term is 5 it is followed. A HEARTBEAT that later carries a lower term ends the session
     * the same way.
     */
    @Test
    void aLeaderWithALowerTermIsRefusedAndNothingOfItIsApplied() throws Exception {
        Path fdir = tmp.resolve("follower");
        FixedMap follower = track(FixedMap.open(fdir, oneShard()));
        follower.engine().raiseTerm(5);
        Images im = images(follower);
        try (FakeLeader fake = new FakeLeader()) {
            ReplicationClient client = track(ReplicationClient.start(follower, fake.address(), quietClient()));
            Socket s = fake.next(WAIT);
            ReplicationFaultTest.readSyncRequest(s);
            s.getOutputStream().write(handshakeAndOneKey(im, 3));
            s.getOutputStream().flush();
            assertStaleTermRefusal(ReplicationFaultTest.drain(s, WAIT, 100), 3, 5);
            awaitUntil(
                    () -> "the follower reports the refusal: " + client.status(),
                    WAIT,
                    () -> client.status().getFirst().lastError().startsWith("STALE_TERM"));
            assertThat(follower.size()).as("nothing applied").isZero();
            assertThat(client.appliedLsn(0)).isZero();
            assertThat(Files.exists(fdir.resolve(Store.REPLICA_MARK)))
                    .as("not even the replica mark")
                    .isFalse();
            assertThat(client.term()).isEqualTo(5);
            assertThat(client.metrics().staleTerm.sum()).as("refusals counted").isEqualTo(1);

            // refused, not stopped: the follower comes back, and a leader whose term rose to 5 is followed
            Socket again = fake.next(WAIT);
            ReplicationFaultTest.readSyncRequest(again);
            OutputStream out = again.getOutputStream();
            out.write(handshakeAndOneKey(im, 5));
            out.flush();
            awaitUntil(() -> "applied: " + client.status(), WAIT, () -> client.appliedLsn(0) == 1);
            assertThat(follower.get(ReplicationTest.key(1))).isEqualTo(ReplicationTest.value(1, 1));
            assertThat(ReplicationFaultTest.drain(again, Duration.ofMillis(300), 100)
                            .end())
                    .isEqualTo(End.TIMEOUT);

            out.write(frame(MessageType.HEARTBEAT.code(), heartbeat(1, 4)));
            out.flush();
            assertStaleTermRefusal(ReplicationFaultTest.drain(again, WAIT, 100), 4, 5);
            assertThat(client.term()).isEqualTo(5);
            assertThat(client.metrics().staleTerm.sum()).as("refusals counted").isEqualTo(2);
        }
    }

    /**
     * A HEARTBEAT of a higher term is recorded durably before the follower acknowledges anything after it. With the
     * record's rewrite made to fail (a crash between receiving the term and persisting it, as far as the follower can
     * tell), no ACK follows the heartbeat and the term stays; on restart the old term is what the disk holds. With
     * the rewrite working, the ACK after the heartbeat finds the new term already on disk, and it survives a restart:
     * the reopened follower refuses the old leader's term.
     */
    @Test
    void aHigherTermIsPersistedBeforeTheNextAckAndSurvivesRestart() throws Exception {
        Path fdir = tmp.resolve("follower");
        Path blocker = fdir.resolve(TermStateLayout.FILE_NAME + ".tmp");
        try (FakeLeader fake = new FakeLeader()) {
            FixedMap follower = FixedMap.open(fdir, oneShard());
            Images im = images(follower);
            follower.engine().raiseTerm(1);
            ReplicationClient client = ReplicationClient.start(follower, fake.address(), quietClient());
            Socket s = fake.next(WAIT);
            ReplicationFaultTest.readSyncRequest(s);
            OutputStream out = s.getOutputStream();
            out.write(handshakeAndOneKey(im, 1));
            out.flush();
            awaitUntil(() -> "applied: " + client.status(), WAIT, () -> client.appliedLsn(0) == 1);
            assertThat(ReplicationFaultTest.drain(s, Duration.ofMillis(300), 100)
                            .end())
                    .as("the follower's ACKs so far, then quiet")
                    .isEqualTo(End.TIMEOUT);

            Files.createDirectory(blocker);
            out.write(frame(MessageType.HEARTBEAT.code(), heartbeat(1, 9)));
            out.flush();
            Outcome blocked = ReplicationFaultTest.drain(s, WAIT, 100);
            assertThat(blocked.end()).as("%s", blocked.frames()).isIn(End.EOF, End.RESET);
            assertThat(blocked.frames())
                    .as("nothing acknowledged after a term it could not record")
                    .noneMatch(f -> f.is(MessageType.ACK));
            awaitUntil(
                    () -> "the follower reports the failed write: " + client.status(),
                    WAIT,
                    () -> client.status().getFirst().lastError().contains("cannot record replication term 9"));
            assertThat(client.term()).isEqualTo(1);
            assertThat(termOnDisk(fdir)).isEqualTo(1);
            client.close();
            follower.close();
            Files.delete(blocker);

            FixedMap restarted = FixedMap.open(fdir, oneShard());
            assertThat(restarted.engine().term()).as("after the restart").isEqualTo(1);
            // connections the closed client left queued are dropped before the next client starts, not after: a
            // quick client's first connection would be dropped too
            fake.accepted.clear();
            ReplicationClient resumed = ReplicationClient.start(restarted, fake.address(), quietClient());
            s = fake.next(WAIT);
            ReplicationFaultTest.readSyncRequest(s);
            out = s.getOutputStream();
            out.write(concat(
                    frame(2, shardInfo(1, KEY_SIZE, VALUE_SIZE, im.slotSize(), im.routing(), 1, im.dbId(), 1, 0, 1)),
                    frame(4, caughtUp(0, 0, 1))));
            out.flush();
            assertThat(ReplicationFaultTest.drain(s, Duration.ofMillis(300), 100)
                            .end())
                    .isEqualTo(End.TIMEOUT);
            out.write(frame(MessageType.HEARTBEAT.code(), heartbeat(1, 9)));
            out.flush();
            Frame ack = firstFrame(s);
            assertThat(ack.is(MessageType.ACK)).as("%s", ack).isTrue();
            assertThat(termOnDisk(fdir))
                    .as("on disk when the ACK after the heartbeat arrives")
                    .isEqualTo(9);
            assertThat(resumed.term()).isEqualTo(9);
            resumed.close();
            restarted.close();

            FixedMap again = track(FixedMap.open(fdir, oneShard()));
            assertThat(again.engine().term()).as("after the second restart").isEqualTo(9);
            fake.accepted.clear();
            track(ReplicationClient.start(again, fake.address(), quietClient()));
            s = fake.next(WAIT);
            ReplicationFaultTest.readSyncRequest(s);
            s.getOutputStream().write(handshakeAndOneKey(im, 1));
            s.getOutputStream().flush();
            assertStaleTermRefusal(ReplicationFaultTest.drain(s, WAIT, 100), 1, 9);
        }
    }

    /** The next whole frame the follower sends. */
    private static Frame firstFrame(Socket s) throws Exception {
        s.setSoTimeout((int) WAIT.toMillis());
        var in = s.getInputStream();
        byte[] header = in.readNBytes(FrameLayout.HEADER_SIZE);
        assertThat(header).as("a frame header from the follower").hasSize(FrameLayout.HEADER_SIZE);
        int length =
                ByteBuffer.wrap(header, 1, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        assertThat(length).isBetween(0, 4096);
        return new Frame(header[0] & 0xFF, in.readNBytes(length));
    }

    /**
     * A follower whose node has seen a term above its leader's since it accepted that leader (a coordinator named
     * another leader and re-points the node) tells the leader STALE_TERM as it leaves, once per shard: the replaced
     * leader learns it from every follower that leaves it. A follower that leaves without such a term says SHUTDOWN,
     * which counts as no refusal.
     */
    @Test
    void aFollowerLeavingALeaderWhoseTermItHasSeenPassedTellsItStaleTerm() throws Exception {
        FixedMap a = track(FixedMap.open(tmp.resolve("a"), ReplicationTest.config(32, 1024)));
        for (int i = 0; i < 200; i++) {
            a.put(ReplicationTest.key(i), ReplicationTest.value(i, 1));
        }
        ReplicationServer serverA = track(ReplicationServer.start(a, ReplicationServerConfig.defaults()));
        FixedMap b = track(FixedMap.open(tmp.resolve("b"), ReplicationTest.config(32, 1024)));
        int shards = b.config().shards();

        ReplicationClient plain = ReplicationClient.start(b, serverA.address(), quickRetries());
        ReplicationFaultTest.awaitConverged(a, plain);
        plain.close();
        awaitUntil(
                () -> "the leader's sessions of the first client ended: " + serverA.status(),
                WAIT,
                () -> serverA.status().stream().allMatch(f -> f.state().equals("CLOSED")));
        assertThat(serverA.metrics().staleTerm.sum())
                .as("a follower leaving as it was")
                .isZero();

        ReplicationClient rePointed = ReplicationClient.start(b, serverA.address(), quickRetries());
        ReplicationFaultTest.awaitConverged(a, rePointed);
        b.engine().raiseTerm(a.engine().term() + 1);
        rePointed.close();
        assertThat(rePointed.metrics().staleTerm.sum())
                .as("the follower's count: one per shard session")
                .isEqualTo(shards);
        awaitUntil(
                () -> "the replaced leader counts a refusal per shard: "
                        + serverA.metrics().snapshot(),
                WAIT,
                () -> serverA.metrics().staleTerm.sum() == shards);
    }

    /**
     * The failover the term exists for, with real nodes. Leader A (its term raised to 4, which its follower B records
     * from A's heartbeats) is replaced by B's promotion (term 5); C follows B and records 5. Re-pointed at the old
     * leader A (a different database, whose acceptance would wipe C), C refuses it with STALE_TERM and keeps B's
     * data byte for byte; when A's term rises above 5 (a coordinator's decision), C follows A again.
     */
    @Test
    void afterAPromotionTheOldLeaderIsRefusedByFollowersOfTheNewOne() throws Exception {
        FixedMap a = track(FixedMap.open(tmp.resolve("a"), ReplicationTest.config(32, 1024)));
        for (int i = 0; i < 500; i++) {
            a.put(ReplicationTest.key(i), ReplicationTest.value(i, 1));
        }
        ReplicationServer serverA = track(ReplicationServer.start(a, ReplicationServerConfig.defaults()));
        FixedMap b = track(FixedMap.open(tmp.resolve("b"), ReplicationTest.config(32, 1024)));
        ReplicationClient bFollowsA = track(ReplicationClient.start(b, serverA.address(), quickRetries()));
        ReplicationFaultTest.awaitConverged(a, bFollowsA);
        a.engine().raiseTerm(4);
        awaitUntil(() -> "B sees term 4: " + bFollowsA.term(), WAIT, () -> bFollowsA.term() == 4);
        assertThat(termOnDisk(tmp.resolve("b"))).isEqualTo(4);

        bFollowsA.promote();
        assertThat(b.engine().term()).as("above every term B has seen").isEqualTo(5);
        assertThat(termOnDisk(tmp.resolve("b"))).isEqualTo(5);
        for (int i = 0; i < 100; i++) {
            b.put(ReplicationTest.key(1000 + i), ReplicationTest.value(i, 2));
        }
        ReplicationServer serverB = track(ReplicationServer.start(b, ReplicationServerConfig.defaults()));
        FixedMap c = track(FixedMap.open(tmp.resolve("c"), ReplicationTest.config(32, 1024)));
        ReplicationClient cFollowsB = ReplicationClient.start(c, serverB.address(), quickRetries());
        ReplicationFaultTest.awaitConverged(b, cFollowsB);
        assertThat(cFollowsB.term()).isEqualTo(5);
        cFollowsB.close();
        Map<String, String> cBefore = ReplicationTest.contents(c);
        Map<String, String> filesBefore = ReplicationFaultTest.hashFiles(tmp.resolve("c"));
        assertThat(cBefore).isEqualTo(ReplicationTest.contents(b));

        a.put(ReplicationTest.key(5000), ReplicationTest.value(5000, 1));
        ReplicationClient cFollowsA = track(ReplicationClient.start(c, serverA.address(), quickRetries()));
        awaitUntil(
                () -> "every shard refuses A: " + cFollowsA.status(),
                WAIT,
                () -> cFollowsA.status().stream().allMatch(st -> st.lastError().startsWith("STALE_TERM")));
        // a few more refused attempts (backoff 20..200 ms), then nothing of A may have reached C
        long refusedAt = System.nanoTime();
        while (System.nanoTime() - refusedAt < 300_000_000L) {
            Thread.sleep(20);
        }
        assertThat(cFollowsA.status()).allMatch(st -> !st.state().equals("STREAMING"));
        assertThat(cFollowsA.metrics().staleTerm.sum())
                .as("refusals counted by the follower, at least one per shard")
                .isGreaterThanOrEqualTo(c.config().shards());
        awaitUntil(
                () -> "the zombie counts the refusals: " + serverA.metrics().snapshot(),
                WAIT,
                () -> serverA.metrics().staleTerm.sum() > 0);
        assertThat(ReplicationTest.contents(c)).as("C keeps B's data").isEqualTo(cBefore);
        assertThat(ReplicationFaultTest.hashFiles(tmp.resolve("c")))
                .as("C's files")
                .isEqualTo(filesBefore);
        assertThat(c.engine().term()).isEqualTo(5);
        for (ShardStatus st : cFollowsA.status()) {
            assertThat(st.appliedLsn()).isEqualTo(b.engine().view(st.shard()).lastLsn());
        }

        a.engine().raiseTerm(6);
        ReplicationFaultTest.awaitConverged(a, cFollowsA);
        assertThat(ReplicationTest.contents(c)).isEqualTo(ReplicationTest.contents(a));
        assertThat(c.engine().term()).isEqualTo(6);
    }
}
