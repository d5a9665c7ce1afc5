package dev.armdb.replication;

import static dev.armdb.replication.ReplicationFaultTest.SHARDS;
import static dev.armdb.replication.ReplicationFaultTest.V;
import static dev.armdb.replication.ReplicationFaultTest.awaitUntil;
import static dev.armdb.replication.ReplicationFaultTest.config;
import static dev.armdb.replication.ReplicationFaultTest.frame;
import static dev.armdb.replication.ReplicationFaultTest.key;
import static dev.armdb.replication.ReplicationFaultTest.leaderSessionThreads;
import static dev.armdb.replication.ReplicationFaultTest.syncRequest;
import static dev.armdb.replication.ReplicationFaultTest.value;
import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.FixedMap;
import dev.armdb.replication.ReplicationFaultTest.Outcome;
import dev.armdb.replication.ReplicationSecurityTest.RawFollower;
import dev.armdb.replication.follower.ReplicationClient;
import dev.armdb.replication.follower.ReplicationClientConfig;
import dev.armdb.replication.leader.ReplicationServer;
import dev.armdb.replication.leader.ReplicationServerConfig;
import dev.armdb.replication.protocol.ErrorCode;
import dev.armdb.replication.protocol.ErrorMessage;
import dev.armdb.replication.protocol.FrameLayout;
import dev.armdb.replication.protocol.MessageType;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;

/**
 * TLS sessions on the leader's worker pool (an SSLEngine per connection over a non-blocking socket): many on few
 * threads, a follower that reads slowly, KeyUpdates in the middle of the stream, and peers that break the TLS layer
 * (garbage records, a record that never completes, no certificate), over real loopback sockets with key stores made
 * by the JDK's keytool. Randomised parts use {@link ReplicationFaultTest#SEED} ({@code -Darmdb.seed=N} repeats a
 * run).
 */
class TlsWorkerPoolTest extends ClosingTest {
    private static final char[] PASSWORD = "test-password".toCharArray();
    private static final int SLOT_ENTRY = 4 + 16 + ReplicationFaultTest.KEY_SIZE + 32;

    private Path keyStore() {
        Path file = tmp.resolve("node.p12");
        if (!Files.exists(file)) {
            ReplicationTls.writeSelfSignedKeyStore(file, PASSWORD, List.of("ip:127.0.0.1", "dns:localhost"), 2);
        }
        return file;
    }

    private SSLContext tls() {
        return ReplicationTls.fromKeyStore(keyStore(), PASSWORD);
    }

    private FixedMap leader(int records, int shards) {
        FixedMap leader = track(FixedMap.open(tmp.resolve("leader"), config(32, shards)));
        for (int i = 0; i < records; i++) {
            leader.put(key(i), value(32, i, 0));
        }
        return leader;
    }

    /**
     * A follower's TLS connection made by hand: an SSLSocket layered over a plain socket, so a test can also write
     * beneath TLS.
     */
    private static final class TlsPeer implements AutoCloseable {
        final Socket plain;
        final SSLSocket ssl;

        TlsPeer(InetSocketAddress leader, SSLContext ctx, int receiveBuffer) throws IOException {
            plain = new Socket();
            if (receiveBuffer > 0) {
                plain.setReceiveBufferSize(receiveBuffer);
            }
            plain.connect(leader, 2_000);
            plain.setTcpNoDelay(true);
            ssl = (SSLSocket)
                    ctx.getSocketFactory().createSocket(plain, leader.getHostString(), leader.getPort(), true);
            ssl.setEnabledProtocols(new String[] {"TLSv1.3"});
            ssl.setSoTimeout(5_000);
            ssl.startHandshake();
        }

        /** Writes {@code bytes} beneath TLS, straight onto the socket. */
        void raw(byte[] bytes) throws IOException {
            OutputStream out = plain.getOutputStream();
            out.write(bytes);
            out.flush();
        }

        @Override
        public void close() throws IOException {
            ssl.close();
        }
    }

    /** Three TLS followers of every shard stream (catch-up, then live writes and deletes) on two worker threads. */
    @Test
    void everyTlsFollowerOfEveryShardRunsOnTwoWorkerThreads() {
        SSLContext tls = tls();
        FixedMap leader = leader(5_000, SHARDS);
        ReplicationServer server = track(ReplicationServer.start(
                leader,
                ReplicationServerConfig.defaults()
                        .withTls(tls)
                        .withTimeouts(Duration.ofMillis(100), Duration.ofSeconds(5))
                        .withWorkerThreads(2)));
        List<FixedMap> followers = new ArrayList<>();
        List<ReplicationClient> clients = new ArrayList<>();
        for (int f = 0; f < 3; f++) {
            FixedMap m = track(FixedMap.open(tmp.resolve("f" + f), config(32, SHARDS)));
            followers.add(m);
            clients.add(track(ReplicationClient.start(
                    m, server.address(), ReplicationClientConfig.defaults().withTls(tls))));
        }
        WorkerPoolTest.churnAndConverge(leader, clients, followers);
        assertThat(server.status()).hasSize(3 * SHARDS);
        assertThat(WorkerPoolTest.workerThreads(server.address().getPort())).hasSize(2);
        assertThat(leaderSessionThreads()).as("threads of single sessions").isEmpty();
    }

    /**
     * A TLS follower whose socket takes a few KiB at a time: the leader's bytes sent stop growing while nobody reads,
     * and once the follower reads, in stops and starts, every slot arrives exactly once, ending in a CAUGHT_UP that
     * counts them.
     */
    @Test
    void aTlsFollowerThatReadsSlowlyHoldsTheLeaderBackAndGetsEverySlot() throws Exception {
        int records = 100_000;
        SSLContext tls = tls();
        FixedMap leader = leader(records, 1);
        ReplicationServer server = track(ReplicationServer.start(
                leader,
                ReplicationServerConfig.defaults()
                        .withTls(tls)
                        .withTimeouts(Duration.ofMillis(100), Duration.ofSeconds(10))
                        .withWindow(1024, 64 << 10)));
        long streamBytes = (long) records * SLOT_ENTRY;
        try (TlsPeer p = new TlsPeer(server.address(), tls, 4096)) {
            p.ssl.getOutputStream().write(frame(1, syncRequest(V, 0, new byte[16], 0, 5)));
            p.ssl.getOutputStream().flush();
            awaitUntil(
                    () -> "a session in " + server.status(),
                    Duration.ofSeconds(5),
                    () -> server.status().size() == 1);
            long stalled = WorkerPoolTest.awaitStall(server);
            assertThat(stalled)
                    .as("bytes sent while the follower reads nothing")
                    .isGreaterThan(0)
                    .isLessThan(streamBytes / 2);
            assertThat(server.status().getFirst().state()).isEqualTo("CATCHING_UP");

            p.ssl.setSoTimeout(10_000);
            BitSet slots = new BitSet();
            long[] caughtUp = WorkerPoolTest.readCatchUp(p.ssl, slots, new Random(ReplicationFaultTest.SEED));
            assertThat(slots.cardinality()).as("distinct slots received").isEqualTo(records);
            assertThat(caughtUp[1]).as("CAUGHT_UP's count of slots sent").isEqualTo(records);
            assertThat(caughtUp[2]).isEqualTo(leader.engine().view(0).lastLsn());
        }
    }

    /**
     * The follower asks for a TLS 1.3 KeyUpdate (its SSLSocket's startHandshake on an established connection) again
     * and again while the leader streams: the leader's engine takes the new keys, answers, and every write still
     * arrives and is acknowledged.
     */
    @Test
    void keyUpdatesInTheMiddleOfTheStreamAreAnswered() throws Exception {
        SSLContext tls = tls();
        FixedMap leader = leader(500, 1);
        ReplicationServer server = track(ReplicationServer.start(
                leader,
                ReplicationServerConfig.defaults()
                        .withTls(tls)
                        .withTimeouts(Duration.ofMillis(100), Duration.ofSeconds(5))));
        try (TlsPeer p = new TlsPeer(server.address(), tls, 0);
                RawFollower f = new RawFollower(p.ssl, 0, 8)) {
            f.ack(f.catchUp(), 0);
            for (int round = 0; round < 20; round++) {
                p.ssl.startHandshake();
                leader.put(key(10_000 + round), value(32, round, 1));
                long want = leader.engine().view(0).lastLsn();
                long[] batch = readBatchUpTo(p.ssl.getInputStream(), want);
                f.ack(batch[1], batch[0]);
                awaitUntil(
                        () -> "LSN " + want + " acked: " + server.status(),
                        Duration.ofSeconds(5),
                        () -> server.countAcked(0, want) == 1);
            }
            assertThat(server.status().getFirst().closeReason()).isEmpty();
        }
    }

    /** Reads frames until a SLOT_BATCH whose up-to LSN reaches {@code lsn}; returns its (sequence, up-to). */
    private static long[] readBatchUpTo(InputStream in, long lsn) throws IOException {
        for (int frames = 0; frames < 1_000; frames++) {
            byte[] header = in.readNBytes(FrameLayout.HEADER_SIZE);
            assertThat(header).hasSize(FrameLayout.HEADER_SIZE);
            int length =
                    ByteBuffer.wrap(header, 1, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
            ByteBuffer p = ByteBuffer.wrap(in.readNBytes(length)).order(ByteOrder.LITTLE_ENDIAN);
            assertThat((int) header[0]).isIn(MessageType.SLOT_BATCH.code(), MessageType.HEARTBEAT.code());
            if (header[0] == MessageType.SLOT_BATCH.code() && p.getLong(8) >= lsn) {
                return new long[] {p.getLong(0), p.getLong(8)};
            }
        }
        throw new AssertionError("no batch up to LSN " + lsn);
    }

    /**
     * Bytes beneath TLS after the handshake that are no valid record (a record of the right shape whose contents do
     * not authenticate; one whose type byte is no record type at all) end the session at once, far inside the peer timeout;
     * the worker survives and serves the next follower.
     */
    @Test
    void garbageBeneathTlsEndsTheSessionAtOnce() throws Exception {
        SSLContext tls = tls();
        FixedMap leader = leader(500, 1);
        ReplicationServer server = track(ReplicationServer.start(
                leader,
                ReplicationServerConfig.defaults()
                        .withTls(tls)
                        .withTimeouts(Duration.ofMillis(100), Duration.ofSeconds(10))
                        .withWorkerThreads(1)));
        Random rnd = new Random(ReplicationFaultTest.SEED);
        byte[] forgedRecord = new byte[5 + 64];
        rnd.nextBytes(forgedRecord);
        forgedRecord[0] = 23;
        forgedRecord[1] = 3;
        forgedRecord[2] = 3;
        forgedRecord[3] = 0;
        forgedRecord[4] = 64;
        // a whole record (a partial one is a stall: see aRecordThatNeverCompletesTimesOutAtThePeerTimeout)
        byte[] noRecord = new byte[5 + 59];
        rnd.nextBytes(noRecord);
        noRecord[0] = 0;
        noRecord[1] = 3;
        noRecord[2] = 3;
        noRecord[3] = 0;
        noRecord[4] = 59;
        long node = 20;
        for (byte[] garbage : List.of(forgedRecord, noRecord)) {
            try (TlsPeer p = new TlsPeer(server.address(), tls, 0);
                    RawFollower f = new RawFollower(p.ssl, 0, node++)) {
                long lsn = f.catchUp();
                f.ack(lsn, 0);
                awaitUntil(
                        () -> "acked: " + server.status(), Duration.ofSeconds(5), () -> server.countAcked(0, lsn) == 1);
                long start = System.nanoTime();
                p.raw(garbage);
                assertThat(readUntilEnd(p.ssl, Duration.ofSeconds(5)))
                        .as("how the leader ended the connection")
                        .isNotEqualTo("open");
                WorkerPoolTest.awaitSessionsEnded(server);
                assertThat((System.nanoTime() - start) / 1_000_000)
                        .as("ms until the session ended (peer timeout 10 s)")
                        .isLessThan(5_000);
            }
        }
        assertThat(WorkerPoolTest.workerThreads(server.address().getPort())).hasSize(1);
        try (TlsPeer p = new TlsPeer(server.address(), tls, 0);
                RawFollower f = new RawFollower(p.ssl, 0, node)) {
            assertThat(f.catchUp()).isEqualTo(leader.engine().view(0).lastLsn());
        }
        assertThat(leaderSessionThreads()).isEmpty();
    }

    /**
     * Reads until the connection ends or {@code max} passes; how it ended: "eof", "tls: ..." (an alert or a broken
     * record), or "open" (still open at the deadline).
     */
    private static String readUntilEnd(SSLSocket s, Duration max) {
        long deadline = System.nanoTime() + max.toNanos();
        byte[] buf = new byte[8192];
        try {
            s.setSoTimeout((int) max.toMillis());
            while (System.nanoTime() - deadline < 0) {
                if (s.getInputStream().read(buf) < 0) {
                    return "eof";
                }
            }
            return "open";
        } catch (SocketTimeoutException e) {
            return "open";
        } catch (IOException e) {
            return "tls: " + e.getMessage();
        }
    }

    /**
     * Frames the follower sends right behind its SYNC_REQUEST, in TLS records of their own, may reach the leader
     * with it: the ones the handshake's reader left in the engine's buffers are read by the worker without waiting
     * for the socket (here an ERROR, which ends the session at once instead of at the peer timeout).
     */
    @Test
    void recordsThatArriveWithTheSyncRequestAreReadAfterTheHandoff() throws Exception {
        SSLContext tls = tls();
        FixedMap leader = leader(500, 1);
        ReplicationServer server = track(ReplicationServer.start(
                leader,
                ReplicationServerConfig.defaults()
                        .withTls(tls)
                        .withTimeouts(Duration.ofMillis(100), Duration.ofSeconds(10))));
        byte[] error = new ErrorMessage(ErrorCode.INTERNAL, "follower going away").encode();
        for (int round = 0; round < 3; round++) {
            try (TlsPeer p = new TlsPeer(server.address(), tls, 0)) {
                OutputStream out = p.ssl.getOutputStream();
                out.write(frame(1, syncRequest(V, 0, new byte[16], 0, 40 + round)));
                out.flush();
                out.write(frame(MessageType.ERROR.code(), error));
                out.flush();
                long start = System.nanoTime();
                assertThat(readUntilEnd(p.ssl, Duration.ofSeconds(5)))
                        .as("how the leader ended the connection")
                        .isNotEqualTo("open");
                assertThat((System.nanoTime() - start) / 1_000_000)
                        .as("ms until the session ended (peer timeout 10 s)")
                        .isLessThan(5_000);
            }
        }
        WorkerPoolTest.awaitSessionsEnded(server);
    }

    /**
     * A follower that sends the first bytes of a TLS record and never the rest is dropped with TIMEOUT at the peer
     * timeout, counted from its last whole frame: part of a record is not being heard.
     */
    @Test
    void aRecordThatNeverCompletesTimesOutAtThePeerTimeout() throws Exception {
        SSLContext tls = tls();
        FixedMap leader = leader(500, 1);
        ReplicationServer server = track(ReplicationServer.start(
                leader,
                ReplicationServerConfig.defaults()
                        .withTls(tls)
                        .withTimeouts(Duration.ofMillis(100), Duration.ofSeconds(1))));
        try (TlsPeer p = new TlsPeer(server.address(), tls, 0);
                RawFollower f = new RawFollower(p.ssl, 0, 30)) {
            long lsn = f.catchUp();
            f.ack(lsn, 0);
            long start = System.nanoTime();
            p.raw(new byte[] {23, 3, 3, 0, 64, 1, 2, 3, 4, 5, 6, 7});
            Outcome o = ReplicationFaultTest.drain(p.ssl, Duration.ofSeconds(6), 1_000);
            long tookMs = (System.nanoTime() - start) / 1_000_000;
            assertThat(ErrorCode.ofCode(o.error().errorCode())).isEqualTo(ErrorCode.TIMEOUT);
            assertThat(o.error().errorMessage()).contains("follower silent for more than 1000 ms");
            assertThat(tookMs).as("ms until the stalled follower was dropped").isBetween(900L, 3_000L);
        }
        WorkerPoolTest.awaitSessionsEnded(server);
    }

    /**
     * A client that trusts the leader but has no certificate of its own completes its side of the TLS 1.3 handshake
     * and then learns nothing: the leader sends no frame and closes the connection, as it always has.
     */
    @Test
    void aClientWithoutACertificateIsRefused() throws Exception {
        SSLContext tls = tls();
        FixedMap leader = leader(500, 1);
        ReplicationServer server = track(ReplicationServer.start(
                leader, ReplicationServerConfig.defaults().withTls(tls)));
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keyStore())) {
            ks.load(in, PASSWORD);
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        SSLContext noCertificate = SSLContext.getInstance("TLSv1.3");
        noCertificate.init(null, tmf.getTrustManagers(), null);
        String outcome;
        try (TlsPeer p = new TlsPeer(server.address(), noCertificate, 0)) {
            p.ssl.getOutputStream().write(frame(1, syncRequest(V, 0, new byte[16], 0, 9)));
            p.ssl.getOutputStream().flush();
            int first = p.ssl.getInputStream().read();
            outcome = first < 0 ? "eof" : "got byte " + first;
        } catch (IOException e) {
            outcome = "tls: " + e.getMessage();
        }
        assertThat(outcome).as("what a client without a certificate got").doesNotStartWith("got byte");
        awaitUntil(
                () -> "handshakes in progress: " + server.handshakesInProgress(),
                Duration.ofSeconds(5),
                () -> server.handshakesInProgress() == 0);
        assertThat(server.status()).isEmpty();
        assertThat(server.metrics().bytesSent.sum()).as("frame bytes sent").isZero();
    }
}
