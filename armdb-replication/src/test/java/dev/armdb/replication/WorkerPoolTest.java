package dev.armdb.replication;

import static dev.armdb.replication.ReplicationFaultTest.SHARDS;
import static dev.armdb.replication.ReplicationFaultTest.V;
import static dev.armdb.replication.ReplicationFaultTest.ack;
import static dev.armdb.replication.ReplicationFaultTest.awaitConverged;
import static dev.armdb.replication.ReplicationFaultTest.awaitUntil;
import static dev.armdb.replication.ReplicationFaultTest.concat;
import static dev.armdb.replication.ReplicationFaultTest.config;
import static dev.armdb.replication.ReplicationFaultTest.contents;
import static dev.armdb.replication.ReplicationFaultTest.frame;
import static dev.armdb.replication.ReplicationFaultTest.key;
import static dev.armdb.replication.ReplicationFaultTest.le;
import static dev.armdb.replication.ReplicationFaultTest.leaderSessionThreads;
import static dev.armdb.replication.ReplicationFaultTest.syncRequest;
import static dev.armdb.replication.ReplicationFaultTest.value;
import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.FixedMap;
import dev.armdb.replication.ReplicationFaultTest.Frame;
import dev.armdb.replication.ReplicationFaultTest.Outcome;
import dev.armdb.replication.ReplicationSecurityTest.RawFollower;
import dev.armdb.replication.follower.ReplicationClient;
import dev.armdb.replication.follower.ReplicationClientConfig;
import dev.armdb.replication.leader.FollowerStatus;
import dev.armdb.replication.leader.ReplicationServer;
import dev.armdb.replication.leader.ReplicationServerConfig;
import dev.armdb.replication.protocol.ErrorCode;
import dev.armdb.replication.protocol.FrameLayout;
import dev.armdb.replication.protocol.MessageType;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * The leader's worker pool: many sessions on few threads, a follower that reads slowly, frames that arrive a byte at
 * a time, and hostile frames after the handshake, all over real loopback sockets. Randomised parts use {@link
 * ReplicationFaultTest#SEED} ({@code -Darmdb.seed=N} repeats a run).
 */
class WorkerPoolTest extends ClosingTest {
    private static final int SLOT_ENTRY = 4 + 16 + ReplicationFaultTest.KEY_SIZE + 32;

    /** Threads of the leader listening on {@code port} that drive sessions (its workers). */
    static List<String> workerThreads(int port) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(Thread::isAlive)
                .map(Thread::getName)
                .filter(n -> n.startsWith("armdb-repl-worker-" + port + "-"))
                .sorted()
                .toList();
    }

    /** Three followers of every shard stream (catch-up, then live writes and deletes) on a pool of two threads. */
    @Test
    void everyFollowerOfEveryShardRunsOnTwoWorkerThreads() {
        FixedMap leader = track(FixedMap.open(tmp.resolve("leader"), config(32, SHARDS)));
        for (int i = 0; i < 5_000; i++) {
            leader.put(key(i), value(32, i, 0));
        }
        ReplicationServer server = track(ReplicationServer.start(
                leader,
                ReplicationServerConfig.defaults()
                        .withTimeouts(Duration.ofMillis(100), Duration.ofSeconds(5))
                        .withWorkerThreads(2)));
        List<FixedMap> followers = new ArrayList<>();
        List<ReplicationClient> clients = new ArrayList<>();
        for (int f = 0; f < 3; f++) {
            FixedMap m = track(FixedMap.open(tmp.resolve("f" + f), config(32, SHARDS)));
            followers.add(m);
            clients.add(track(ReplicationClient.start(m, server.address(), ReplicationClientConfig.defaults())));
        }
        churnAndConverge(leader, clients, followers);
        assertThat(server.status()).hasSize(3 * SHARDS);
        assertThat(workerThreads(server.address().getPort())).hasSize(2);
        assertThat(leaderSessionThreads()).as("threads of single sessions").isEmpty();
    }

    /**
     * A follower whose socket takes a few KiB at a time: the leader stops producing while the socket is full (what
     * it has sent stays put while nobody reads), and once the follower reads, in stops and starts, every slot
     * arrives exactly once in well-formed frames, ending in a CAUGHT_UP that counts them.
     */
    @Test
    void aFollowerThatReadsSlowlyHoldsTheLeaderBackAndGetsEverySlot() throws Exception {
        int records = 100_000;
        FixedMap leader = track(FixedMap.open(tmp.resolve("leader"), config(32, 1)));
        for (int i = 0; i < records; i++) {
            leader.put(key(i), value(32, i, 0));
        }
        ReplicationServer server = track(ReplicationServer.start(
                leader,
                ReplicationServerConfig.defaults()
                        .withTimeouts(Duration.ofMillis(100), Duration.ofSeconds(10))
                        .withWindow(1024, 64 << 10)));
        long streamBytes = (long) records * SLOT_ENTRY;
        try (Socket s = new Socket()) {
            s.setReceiveBufferSize(4096);
            s.connect(server.address(), 2_000);
            s.setSoTimeout(10_000);
            s.getOutputStream().write(frame(1, syncRequest(V, 0, new byte[16], 0, 5)));
            awaitUntil(
                    () -> "a session in " + server.status(),
                    Duration.ofSeconds(5),
                    () -> server.status().size() == 1);
            long stalled = awaitStall(server);
            assertThat(stalled)
                    .as("bytes sent while the follower reads nothing")
                    .isGreaterThan(0)
                    .isLessThan(streamBytes / 2);
            assertThat(server.status().getFirst().state()).isEqualTo("CATCHING_UP");

            BitSet slots = new BitSet();
            long[] caughtUp = readCatchUp(s, slots, new Random(ReplicationFaultTest.SEED));
            assertThat(slots.cardinality()).as("distinct slots received").isEqualTo(records);
            assertThat(caughtUp[1]).as("CAUGHT_UP's count of slots sent").isEqualTo(records);
            assertThat(caughtUp[2]).isEqualTo(leader.engine().view(0).lastLsn());
        }
    }

    /** Waits until the leader's bytes sent stop growing for half a second; returns them. */
    static long awaitStall(ReplicationServer server) {
        long last = -1;
        for (int i = 0; i < 100; i++) {
            LockSupport.parkNanos(500_000_000L);
            long now = server.status().getFirst().bytesSent();
            if (now == last) {
                return now;
            }
            last = now;
        }
        throw new AssertionError("the leader kept sending to a follower that reads nothing: " + server.status());
    }

    /**
     * Reads frames up to CAUGHT_UP in small reads with random pauses, acknowledging every batch; records every slot
     * id (each once) and returns CAUGHT_UP's (scanned, sent, LSN).
     */
    static long[] readCatchUp(Socket s, BitSet slots, Random rnd) throws IOException {
        InputStream in = s.getInputStream();
        OutputStream out = s.getOutputStream();
        long read = 0;
        for (int frames = 0; frames < 100_000; frames++) {
            byte[] header = in.readNBytes(FrameLayout.HEADER_SIZE);
            int length =
                    ByteBuffer.wrap(header, 1, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
            byte[] payload = slowly(in, length, rnd);
            read += header.length + length;
            if (read > 4 << 20 && rnd.nextInt(20) == 0) {
                LockSupport.parkNanos(200_000_000L);
            }
            ByteBuffer p = ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN);
            if (header[0] == MessageType.CAUGHT_UP.code()) {
                return new long[] {p.getLong(0), p.getLong(8), p.getLong(16)};
            }
            if (header[0] == MessageType.SLOT_BATCH.code()) {
                int count = p.getInt(16);
                assertThat(length).as("batch of %d entries", count).isEqualTo(20 + count * SLOT_ENTRY);
                for (int e = 0; e < count; e++) {
                    int slot = p.getInt(20 + e * SLOT_ENTRY);
                    assertThat(slots.get(slot)).as("slot %d sent twice", slot).isFalse();
                    slots.set(slot);
                }
                out.write(frame(MessageType.ACK.code(), ack(0, p.getLong(0))));
            } else {
                assertThat((int) header[0])
                        .isIn(
                                MessageType.CHALLENGE.code(),
                                MessageType.SHARD_INFO.code(),
                                MessageType.HEARTBEAT.code());
            }
        }
        throw new AssertionError("no CAUGHT_UP");
    }

    private static byte[] slowly(InputStream in, int length, Random rnd) throws IOException {
        byte[] b = new byte[length];
        int at = 0;
        while (at < length) {
            int n = in.read(b, at, Math.min(length - at, 1 + rnd.nextInt(8192)));
            if (n < 0) {
                throw new IOException("leader closed the connection inside a frame");
            }
            at += n;
        }
        return b;
    }

    /**
     * A HEARTBEAT and an ACK sent one byte at a time (a frame boundary inside the trickle) are reassembled: the ACK
     * counts only once its last byte has arrived.
     */
    @Test
    void framesSentOneByteAtATimeAreReassembled() throws Exception {
        FixedMap leader = track(FixedMap.open(tmp.resolve("leader"), config(32, 1)));
        for (int i = 0; i < 500; i++) {
            leader.put(key(i), value(32, i, 0));
        }
        ReplicationServer server = track(ReplicationServer.start(leader, ReplicationServerConfig.defaults()));
        long lsn = leader.engine().view(0).lastLsn();
        try (RawFollower f = new RawFollower(server.address(), 0, 3)) {
            assertThat(f.catchUp()).isEqualTo(lsn);
            byte[] bytes = concat(
                    frame(
                            MessageType.HEARTBEAT.code(),
                            le(24).putLong(0).putLong(0).putLong(1).array()),
                    frame(MessageType.ACK.code(), ack(lsn, 0)));
            for (int i = 0; i < bytes.length; i++) {
                if (i == bytes.length - 1) {
                    LockSupport.parkNanos(50_000_000L);
                    assertThat(server.countAcked(0, lsn))
                            .as("acked before the ACK's last byte")
                            .isZero();
                }
                f.out.write(bytes[i]);
                f.out.flush();
                LockSupport.parkNanos(5_000_000L);
            }
            awaitUntil(() -> "acked: " + server.status(), Duration.ofSeconds(5), () -> server.countAcked(0, lsn) == 1);
            assertThat(server.status().getFirst().closeReason()).isEmpty();
        }
    }

    /**
     * After the handshake, a frame header the follower may not send is refused from its header alone (no payload is
     * awaited or buffered): an oversize length, a leader-only type with a length that would be legal for it, an
     * unknown type. Each ends the session with MALFORMED.
     */
    @Test
    void hostileHeadersAfterTheHandshakeAreRefusedAtOnce() throws Exception {
        FixedMap leader = track(FixedMap.open(tmp.resolve("leader"), config(32, 1)));
        for (int i = 0; i < 500; i++) {
            leader.put(key(i), value(32, i, 0));
        }
        ReplicationServer server = track(ReplicationServer.start(leader, ReplicationServerConfig.defaults()));
        record Case(byte[] header, String message) {}
        List<Case> cases = List.of(
                new Case(
                        frame(MessageType.ACK.code(), 0x7FFF_FFFF, new byte[0]),
                        "ACK frame length must be 0..16, got 2147483647"),
                new Case(
                        frame(MessageType.ACK.code(), -1, new byte[0]),
                        "ACK frame length must be 0..16, got 4294967295"),
                new Case(
                        frame(MessageType.SLOT_BATCH.code(), FrameLayout.MAX_PAYLOAD, new byte[0]),
                        "unexpected SLOT_BATCH from a follower after the handshake"),
                new Case(frame(200, 0, new byte[0]), "unknown frame type 200"));
        long node = 10;
        for (Case c : cases) {
            try (RawFollower f = new RawFollower(server.address(), 0, node++)) {
                f.catchUp();
                f.out.write(c.header());
                f.out.flush();
                Outcome o = ReplicationFaultTest.drain(f.socket, Duration.ofSeconds(3), 1_000);
                Frame err = o.error();
                assertThat(ErrorCode.ofCode(err.errorCode())).isEqualTo(ErrorCode.MALFORMED);
                assertThat(err.errorMessage()).contains(c.message());
                assertThat(o.end()).isEqualTo(ReplicationFaultTest.End.EOF);
            }
        }
        awaitSessionsEnded(server);
    }

    /**
     * A follower that trickles an ACK a byte every 300 ms (each byte well inside the peer timeout) is dropped at the
     * peer timeout counted from the last whole frame: bytes of an unfinished frame do not count as being heard.
     */
    @Test
    void aTrickledAckAfterTheHandshakeTimesOutAtThePeerTimeout() throws Exception {
        FixedMap leader = track(FixedMap.open(tmp.resolve("leader"), config(32, 1)));
        for (int i = 0; i < 500; i++) {
            leader.put(key(i), value(32, i, 0));
        }
        ReplicationServer server = track(ReplicationServer.start(
                leader,
                ReplicationServerConfig.defaults().withTimeouts(Duration.ofMillis(100), Duration.ofSeconds(1))));
        try (RawFollower f = new RawFollower(server.address(), 0, 4)) {
            long lsn = f.catchUp();
            f.ack(lsn, 0);
            long start = System.nanoTime();
            Thread trickle = Thread.ofPlatform().daemon().start(() -> {
                try {
                    for (byte b : frame(MessageType.ACK.code(), ack(lsn, 0))) {
                        LockSupport.parkNanos(300_000_000L);
                        f.out.write(b);
                        f.out.flush();
                    }
                } catch (IOException ignored) {
                    // the leader dropped the connection
                }
            });
            Outcome o = ReplicationFaultTest.drain(f.socket, Duration.ofSeconds(6), 1_000);
            long tookMs = (System.nanoTime() - start) / 1_000_000;
            assertThat(ErrorCode.ofCode(o.error().errorCode())).isEqualTo(ErrorCode.TIMEOUT);
            assertThat(o.error().errorMessage()).contains("follower silent for more than 1000 ms");
            assertThat(tookMs).as("ms until the trickling follower was dropped").isBetween(900L, 3_000L);
            trickle.join(10_000);
        }
        assertThat(server.status().stream().map(FollowerStatus::state)).doesNotContain("STREAMING");
    }

    /**
     * Closing the server ends the sessions its workers drive (a follower reading its stream sees SHUTDOWN or the
     * end of the stream, never a torn frame) and stops the worker threads.
     */
    @Test
    void closingTheServerEndsPooledSessionsAndStopsItsWorkers() throws Exception {
        FixedMap leader = track(FixedMap.open(tmp.resolve("leader"), config(32, 1)));
        for (int i = 0; i < 500; i++) {
            leader.put(key(i), value(32, i, 0));
        }
        ReplicationServer server = ReplicationServer.start(leader, ReplicationServerConfig.defaults());
        int port = server.address().getPort();
        try (RawFollower f = new RawFollower(server.address(), 0, 6)) {
            f.catchUp();
            assertThat(workerThreads(port)).isNotEmpty();
            server.close();
            Outcome o = ReplicationFaultTest.drain(f.socket, Duration.ofSeconds(5), 1_000);
            assertThat(o.end()).isIn(ReplicationFaultTest.End.EOF, ReplicationFaultTest.End.RESET);
            for (Frame fr : o.frames()) {
                assertThat(fr.is(MessageType.HEARTBEAT) || fr.is(MessageType.ERROR))
                        .as("frame after the catch-up: %s", fr)
                        .isTrue();
                if (fr.is(MessageType.ERROR)) {
                    assertThat(ErrorCode.ofCode(fr.errorCode())).isEqualTo(ErrorCode.SHUTDOWN);
                }
            }
        }
        awaitUntil(
                () -> "workers stopped: " + workerThreads(port),
                Duration.ofSeconds(5),
                () -> workerThreads(port).isEmpty());
        assertThat(server.status()).isEmpty();
    }

    /**
     * Catches every follower up, runs 3,000 seeded puts and deletes on the leader, catches them up again and checks
     * that each follower holds exactly the leader's contents.
     */
    static void churnAndConverge(FixedMap leader, List<ReplicationClient> clients, List<FixedMap> followers) {
        for (ReplicationClient c : clients) {
            awaitConverged(leader, c);
        }
        Random rnd = new Random(ReplicationFaultTest.SEED);
        for (int n = 0; n < 3_000; n++) {
            int i = rnd.nextInt(6_000);
            if (n % 5 == 0) {
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

    /** Waits (at most 5 s) until the server has no session left. */
    static void awaitSessionsEnded(ReplicationServer server) {
        awaitUntil(
                () -> "sessions ended: " + server.status(),
                Duration.ofSeconds(5),
                () -> server.status().isEmpty());
    }
}
