package dev.armdb.replication;

import static dev.armdb.replication.ReplicationFaultTest.awaitUntil;
import static dev.armdb.replication.ReplicationFaultTest.frame;
import static dev.armdb.replication.ReplicationFaultTest.le;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.armdb.FixedMap;
import dev.armdb.replication.follower.ReplicationClient;
import dev.armdb.replication.follower.ReplicationClientConfig;
import dev.armdb.replication.leader.ReplicationServer;
import dev.armdb.replication.leader.ReplicationServerConfig;
import dev.armdb.replication.net.FrameChannel;
import dev.armdb.replication.protocol.ErrorCode;
import dev.armdb.replication.protocol.FrameLayout;
import dev.armdb.replication.protocol.MessageType;
import dev.armdb.replication.protocol.ProtocolException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * Attacks on the replication port over loopback: a relay that passes a secret-holding follower's handshake on to
 * the real leader, acknowledgements of LSNs never sent, and several sessions of one node posing as several
 * followers for {@code awaitReplicated}.
 */
class ReplicationSecurityTest extends ClosingTest {
    static final ReplicationSecret SECRET =
            ReplicationSecret.of("correct horse battery staple".getBytes(StandardCharsets.US_ASCII));

    private FixedMap leaderWithData() {
        FixedMap leader = track(FixedMap.open(tmp.resolve("leader"), ReplicationTest.config(32, 1024)));
        for (int i = 0; i < 500; i++) {
            leader.put(ReplicationTest.key(i), ReplicationTest.value(i, 0));
        }
        return leader;
    }

    /**
     * A follower holding the secret is pointed at a relay (as {@code REPLICAOF relay-host relay-port} would) that
     * forwards every byte both ways to the real leader. The follower's proof names the relay's address, so the
     * leader refuses it: no ShardInfo and no slot leaves the leader, and the follower applies nothing. The same
     * follower dialing the leader itself replicates (so the refusal is the address binding, not a broken secret).
     */
    @Test
    void aRelayedHandshakeIsRefusedAndNoDataFlows() throws Exception {
        FixedMap leader = leaderWithData();
        ReplicationServer server = track(ReplicationServer.start(
                leader, ReplicationServerConfig.defaults().withSecret(SECRET)));
        Relay relay = track(new Relay(server.address()));
        FixedMap follower = track(FixedMap.open(tmp.resolve("follower"), ReplicationTest.config(32, 1024)));
        ReplicationClient client = ReplicationClient.start(
                follower,
                relay.address(),
                ReplicationClientConfig.defaults()
                        .withSecret(SECRET)
                        .withTimeouts(Duration.ofMillis(100), Duration.ofSeconds(2)));
        try {
            // the leader counts a refusal before its ERROR frame is written and relayed: wait for the frames
            awaitUntil(
                    () -> "every shard refused at least once: "
                            + server.metrics().authFailures.sum() + " refusals, frames per connection "
                            + relay.fromLeader().stream()
                                    .map(ReplicationSecurityTest::frameTypes)
                                    .toList(),
                    Duration.ofSeconds(20),
                    () -> server.metrics().authFailures.sum() >= ReplicationTest.SHARDS
                            && refusedConnections(relay) >= ReplicationTest.SHARDS);
        } finally {
            client.close();
        }
        relay.close();
        List<byte[]> connections = relay.fromLeader();
        assertThat(connections.stream()
                        .flatMap(stream -> frameTypes(stream).stream())
                        .toList())
                .as("frames the leader sent through the relay, over every connection")
                .containsOnly(MessageType.CHALLENGE.code(), MessageType.ERROR.code());
        assertThat(connections)
                .as("the leader's errors name the relayed address")
                .anySatisfy(stream -> assertThat(new String(stream, StandardCharsets.ISO_8859_1))
                        .contains("dialed " + relay.address().getHostString() + ":"
                                + relay.address().getPort()));
        assertThat(follower.size()).as("slots applied from the relay").isZero();
        assertThat(server.status())
                .as("no session reached the leader's streaming")
                .isEmpty();

        // control: the same follower, the same secret, dialing the leader: it replicates
        ReplicationClient direct = track(ReplicationClient.start(
                follower, server.address(), ReplicationClientConfig.defaults().withSecret(SECRET)));
        ReplicationFaultTest.awaitConverged(leader, direct);
        assertThat(ReplicationTest.contents(follower)).isEqualTo(ReplicationTest.contents(leader));
    }

    /** A follower may reach the leader under a name it advertises (as behind NAT or DNS), and only then. */
    @Test
    void anAdvertisedNameIsAcceptedAndAnUnadvertisedOneRefused() throws Exception {
        FixedMap leader = leaderWithData();
        ReplicationServer server = track(ReplicationServer.start(
                leader, ReplicationServerConfig.defaults().withSecret(SECRET)));
        Relay relay = track(new Relay(server.address()));
        FixedMap follower = track(FixedMap.open(tmp.resolve("follower"), ReplicationTest.config(32, 1024)));
        // the name as the follower dials it (the loopback address's host string)
        String relayName =
                relay.address().getHostString() + ":" + relay.address().getPort();
        ReplicationServer advertising = null;
        server.close();
        FixedMap reopened = leader;
        // the same leader again, now advertising the relay's address as one of its own (a port forward)
        advertising = track(ReplicationServer.start(
                reopened,
                ReplicationServerConfig.defaults()
                        .withBind(server.address())
                        .withSecret(SECRET)
                        .withAdvertise(List.of(relayName))));
        ReplicationClient client = track(ReplicationClient.start(
                follower, relay.address(), ReplicationClientConfig.defaults().withSecret(SECRET)));
        ReplicationFaultTest.awaitConverged(leader, client);
        assertThat(advertising.metrics().authFailures.sum()).isZero();
    }

    /** An ACK above the highest LSN the session sent ends the session with an Error, and counts for nothing. */
    @Test
    void anAckAboveWhatWasSentEndsTheSession() throws Exception {
        FixedMap leader = leaderWithData();
        ReplicationServer server = track(ReplicationServer.start(leader, ReplicationServerConfig.defaults()));
        long lastLsn = leader.engine().view(0).lastLsn();
        try (RawFollower f = new RawFollower(server.address(), 0, 1)) {
            long caughtUp = f.catchUp();
            assertThat(caughtUp).isEqualTo(lastLsn);
            f.ack(caughtUp + 1_000_000, 0);
            ReplicationFaultTest.Outcome o = ReplicationFaultTest.drain(f.socket, Duration.ofSeconds(5), 10_000);
            assertThat(o.error().errorCode()).isEqualTo(ErrorCode.MALFORMED.code());
            assertThat(o.error().errorMessage())
                    .contains("ACK of LSN " + (caughtUp + 1_000_000))
                    .contains("above the highest LSN sent on this session, " + caughtUp);
        }
        assertThat(server.countAcked(0, lastLsn)).isZero();
        // an honest ack of what was sent counts
        try (RawFollower f = new RawFollower(server.address(), 0, 2)) {
            f.ack(f.catchUp(), 0);
            awaitUntil(() -> "acked", Duration.ofSeconds(5), () -> server.countAcked(0, lastLsn) == 1);
        }
    }

    /** Two sessions of one node for one shard count once for {@code awaitReplicated}; two nodes count twice. */
    @Test
    void waitCountsDistinctFollowerNodes() throws Exception {
        FixedMap leader = leaderWithData();
        ReplicationServer server = track(ReplicationServer.start(leader, ReplicationServerConfig.defaults()));
        long lsn = leader.engine().view(1).lastLsn();
        try (RawFollower a = new RawFollower(server.address(), 1, 7);
                RawFollower b = new RawFollower(server.address(), 1, 7)) {
            a.ack(a.catchUp(), 0);
            b.ack(b.catchUp(), 0);
            awaitUntil(
                    () -> "both sessions acked: " + server.status(),
                    Duration.ofSeconds(5),
                    () -> server.status().stream()
                                    .filter(s -> s.ackedLsn() >= lsn)
                                    .count()
                            == 2);
            assertThat(server.countAcked(1, lsn)).as("one node, two sessions").isEqualTo(1);
            assertThat(server.awaitReplicated(1, lsn, 2, Duration.ofMillis(200)))
                    .isFalse();
            try (RawFollower c = new RawFollower(server.address(), 1, 8)) {
                c.ack(c.catchUp(), 0);
                assertThat(server.awaitReplicated(1, lsn, 2, Duration.ofSeconds(5)))
                        .as("a second node")
                        .isTrue();
                assertThat(server.countAcked(1, lsn)).isEqualTo(2);
            }
        }
    }

    /**
     * 5,000 idle connections that never authenticate (the test JVM holds both ends: 10,000 descriptors, within the
     * usual 20,000 limit; fewer are opened when the limit is lower) plus one peer trickling a SYNC_REQUEST a byte at
     * a time: the leader keeps accepting, a real follower with the secret still catches up, the leader's heap grows
     * by less than 20 KiB per pending connection (it used to be 512 KiB of buffers and a platform thread each), and
     * every pending connection is closed once the handshake deadline passes, the trickling one included.
     */
    @Test
    void thousandsOfIdlePreAuthConnectionsNeitherExhaustTheLeaderNorBlockAFollower() throws Exception {
        FixedMap leader = leaderWithData();
        Duration timeout = Duration.ofSeconds(10);
        int idle = Math.min(5_000, (int) (openFileLimit() / 2 - 500));
        ReplicationServer server = track(ReplicationServer.start(
                leader,
                ReplicationServerConfig.defaults()
                        .withSecret(SECRET)
                        .withTimeouts(Duration.ofMillis(250), timeout)
                        .withUnauthenticatedLimits(idle + 100, idle + 100)));
        java.lang.management.MemoryMXBean mem = java.lang.management.ManagementFactory.getMemoryMXBean();
        long heapBefore = usedHeapAfterGc(mem);
        List<Socket> sockets = new ArrayList<>();
        try {
            long started = System.nanoTime();
            for (int i = 0; i < idle; i++) {
                Socket s = new Socket();
                s.connect(server.address(), 5_000);
                sockets.add(s);
            }
            Socket trickler = ReplicationFaultTest.connect(server.address());
            sockets.add(trickler);
            awaitUntil(
                    () -> "all " + idle + " connections in their handshake: " + server.handshakesInProgress(),
                    Duration.ofSeconds(20),
                    () -> server.handshakesInProgress() >= idle);
            long heapGrowth = usedHeapAfterGc(mem) - heapBefore;
            System.out.printf(
                    "%d pending connections opened in %d ms; heap grew by %d KiB (%d bytes each)%n",
                    idle, (System.nanoTime() - started) / 1_000_000, heapGrowth >> 10, heapGrowth / idle);
            assertThat(heapGrowth)
                    .as("heap growth for %d pending connections", idle)
                    .isLessThan(idle * 20L * 1024);

            Thread trickle = Thread.ofPlatform().daemon().start(() -> {
                byte[] f = frame(1, ReplicationFaultTest.syncRequest(ReplicationFaultTest.V, 0, new byte[16], 0, 1));
                try {
                    for (byte x : f) {
                        trickler.getOutputStream().write(x);
                        Thread.sleep(300);
                    }
                } catch (IOException | InterruptedException ignored) {
                    // the leader closed it, as it must
                }
            });
            FixedMap follower = track(FixedMap.open(tmp.resolve("follower"), ReplicationTest.config(32, 1024)));
            ReplicationClient client = track(ReplicationClient.start(
                    follower,
                    server.address(),
                    ReplicationClientConfig.defaults().withSecret(SECRET)));
            ReplicationFaultTest.awaitConverged(leader, client);
            assertThat(ReplicationTest.contents(follower)).isEqualTo(ReplicationTest.contents(leader));

            awaitUntil(
                    () -> "every pending connection dropped at the handshake deadline: "
                            + server.handshakesInProgress(),
                    timeout.plusSeconds(20),
                    () -> server.handshakesInProgress() == 0);
            trickler.setSoTimeout(5_000);
            assertThat(drainToEnd(trickler)).as("the trickling peer was closed").isTrue();
            trickle.join(10_000);
            assertThat(drainToEnd(sockets.get(idle / 2)))
                    .as("an idle peer was closed")
                    .isTrue();
        } finally {
            for (Socket s : sockets) {
                s.close();
            }
        }
    }

    /**
     * Connections still in their handshake are capped per source address and in all: the connection over a cap is
     * closed before the leader says anything, and counted.
     */
    @Test
    void pendingConnectionsAreCappedPerSourceAndInAll() throws Exception {
        FixedMap leader = leaderWithData();
        ReplicationServer server = track(ReplicationServer.start(
                leader, ReplicationServerConfig.defaults().withSecret(SECRET).withUnauthenticatedLimits(6, 4)));
        java.net.InetAddress one = java.net.InetAddress.getByName("127.0.0.1");
        java.net.InetAddress two = java.net.InetAddress.getByName("127.0.0.2");
        List<Socket> held = new ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                held.add(connectFrom(one, server.address()));
            }
            awaitUntil(() -> "4 pending", Duration.ofSeconds(5), () -> server.handshakesInProgress() == 4);
            try (Socket over = connectFrom(one, server.address())) {
                assertThat(drainToEnd(over))
                        .as("the fifth from one source is closed")
                        .isTrue();
            }
            held.add(connectFrom(two, server.address()));
            held.add(connectFrom(two, server.address()));
            awaitUntil(() -> "6 pending", Duration.ofSeconds(5), () -> server.handshakesInProgress() == 6);
            try (Socket over = connectFrom(two, server.address())) {
                assertThat(drainToEnd(over)).as("the seventh in all is closed").isTrue();
            }
            assertThat(server.metrics().connectionsRefused.sum()).isEqualTo(2);
            assertThat(server.handshakesInProgress()).isEqualTo(6);
            for (Socket s : held) {
                s.close();
            }
            awaitUntil(
                    () -> "closed ones released: " + server.handshakesInProgress(),
                    Duration.ofSeconds(10),
                    () -> server.handshakesInProgress() == 0);
            // the slots are free again: a follower gets in
            FixedMap follower = track(FixedMap.open(tmp.resolve("follower"), ReplicationTest.config(32, 1024)));
            ReplicationClient client = track(ReplicationClient.start(
                    follower,
                    server.address(),
                    ReplicationClientConfig.defaults().withSecret(SECRET)));
            ReplicationFaultTest.awaitConverged(leader, client);
        } finally {
            for (Socket s : held) {
                s.close();
            }
        }
    }

    /**
     * A peer that sends one frame a byte at a time, each byte well within the read timeout, gets a TIMEOUT once the
     * frame has taken longer than the stall limit: the limit counts from the frame's start, not from its last byte.
     */
    @Test
    void aTrickledFrameTimesOutAtTheStallLimitCountedFromItsStart() throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 1, ReplicationFaultTest.LOOPBACK);
                Socket peer = ReplicationFaultTest.connect(
                        new InetSocketAddress(ReplicationFaultTest.LOOPBACK, listener.getLocalPort()));
                Socket accepted = listener.accept()) {
            FrameChannel ch = new FrameChannel(
                    accepted, new java.util.concurrent.atomic.LongAdder(), new java.util.concurrent.atomic.LongAdder());
            ch.stallLimitMillis(1_000);
            ch.readTimeoutMillis(250);
            byte[] f = frame(1, ReplicationFaultTest.syncRequest(ReplicationFaultTest.V, 0, new byte[16], 0, 1));
            Thread trickle = Thread.ofPlatform().daemon().start(() -> {
                try {
                    for (byte x : f) {
                        peer.getOutputStream().write(x);
                        Thread.sleep(100);
                    }
                } catch (IOException | InterruptedException ignored) {
                    // the reader gave up
                }
            });
            long start = System.nanoTime();
            assertThatThrownBy(ch::receive)
                    .isInstanceOfSatisfying(
                            ProtocolException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.TIMEOUT))
                    .hasMessageContaining("more than 1000 ms to send one frame");
            long tookMs = (System.nanoTime() - start) / 1_000_000;
            assertThat(tookMs).as("ms until the trickled frame timed out").isBetween(900L, 3_000L);
            peer.close();
            trickle.join(10_000);
        }
    }

    /**
     * A TLS peer trickling its ClientHello a byte at a time (each read returns in time, so no read timeout fires) is
     * cut off by the handshake watchdog at the peer timeout, and its slot freed.
     */
    @Test
    void aTrickledTlsHandshakeIsCutOffAtThePeerTimeout() throws Exception {
        java.nio.file.Path store = tmp.resolve("node.p12");
        char[] password = "correct-horse-battery".toCharArray();
        ReplicationTls.writeSelfSignedKeyStore(store, password, List.of("ip:127.0.0.1", "dns:localhost"), 2);
        FixedMap leader = leaderWithData();
        ReplicationServer server = track(ReplicationServer.start(
                leader,
                ReplicationServerConfig.defaults()
                        .withTls(ReplicationTls.fromKeyStore(store, password))
                        .withTimeouts(Duration.ofMillis(250), Duration.ofSeconds(1))));
        try (Socket s = ReplicationFaultTest.connect(server.address())) {
            // a TLS handshake record header announcing 512 bytes, then the body one byte every 100 ms
            byte[] hello = new byte[5 + 512];
            hello[0] = 0x16;
            hello[1] = 0x03;
            hello[2] = 0x01;
            hello[3] = 0x02;
            hello[4] = 0x00;
            hello[5] = 0x01;
            long start = System.nanoTime();
            boolean closed = false;
            for (int i = 0; i < hello.length && !closed; i++) {
                try {
                    s.getOutputStream().write(hello[i]);
                    s.getOutputStream().flush();
                } catch (IOException e) {
                    closed = true;
                }
                Thread.sleep(100);
                closed |= server.handshakesInProgress() == 0;
            }
            long tookMs = (System.nanoTime() - start) / 1_000_000;
            assertThat(closed).as("the trickling TLS peer was dropped").isTrue();
            assertThat(tookMs).as("ms until it was dropped").isLessThan(4_000);
        }
    }

    private static Socket connectFrom(java.net.InetAddress local, InetSocketAddress to) throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(local, 0));
        s.connect(to, 5_000);
        return s;
    }

    /** Reads until the peer closes; true if it did within the socket's timeout (5 s when unset). */
    private static boolean drainToEnd(Socket s) throws IOException {
        if (s.getSoTimeout() == 0) {
            s.setSoTimeout(5_000);
        }
        try {
            InputStream in = s.getInputStream();
            byte[] buf = new byte[4096];
            for (int i = 0; i < 10_000; i++) {
                if (in.read(buf) < 0) {
                    return true;
                }
            }
            return false;
        } catch (java.net.SocketTimeoutException e) {
            return false;
        } catch (java.net.SocketException e) {
            return true;
        }
    }

    private static long usedHeapAfterGc(java.lang.management.MemoryMXBean mem) {
        for (int i = 0; i < 3; i++) {
            System.gc();
            LockSupport.parkNanos(50_000_000);
        }
        return mem.getHeapMemoryUsage().getUsed();
    }

    private static long openFileLimit() {
        if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
            return unix.getMaxFileDescriptorCount();
        }
        return 10_000;
    }

    /**
     * A follower holding the secret that first meets forged answers (an ERROR with a permanent code, a CHALLENGE
     * without the auth flag) from an unauthenticated peer keeps retrying with backoff instead of stopping for good,
     * shows the peer's text only as printable ASCII, and then follows the real leader.
     */
    @Test
    void forgedPreAuthErrorsOnlyDelayAFollowerWithTheSecret() throws Exception {
        FixedMap leader = leaderWithData();
        // the real leader, reached through a relay it advertises (a port forward), after 8 forged answers
        ReplicationServer server = track(ReplicationServer.start(leader, ReplicationServerConfig.defaults()));
        Relay forging = track(new Relay(server.address(), 8));
        server.close();
        ReplicationServer advertising = track(ReplicationServer.start(
                leader,
                ReplicationServerConfig.defaults()
                        .withBind(server.address())
                        .withSecret(SECRET)
                        .withAdvertise(List.of(forging.address().getHostString() + ":"
                                + forging.address().getPort()))));
        FixedMap follower = track(FixedMap.open(tmp.resolve("follower"), ReplicationTest.config(32, 1024)));
        ReplicationClient client = track(ReplicationClient.start(
                follower,
                forging.address(),
                new ReplicationClientConfig(
                        Duration.ofSeconds(1),
                        Duration.ofMillis(100),
                        Duration.ofSeconds(2),
                        Duration.ofMillis(20),
                        Duration.ofMillis(200),
                        SECRET,
                        null,
                        null)));
        ReplicationFaultTest.awaitConverged(leader, client);
        assertThat(forging.forged.get()).as("forged answers given").isEqualTo(8);
        assertThat(client.status()).allSatisfy(st -> assertThat(st.lastError()).doesNotContain("\u001b", "\n"));
        assertThat(client.status().stream().map(st -> st.lastError()))
                .as("the forged refusals, shown sanitised")
                .anyMatch(e -> e.contains("leader refused: ?[31mforged?FAKE LOG LINE")
                        || e.contains("has no replication secret"));
        assertThat(ReplicationTest.contents(follower)).isEqualTo(ReplicationTest.contents(leader));
        assertThat(advertising.metrics().authFailures.sum()).isZero();
    }

    /** The frame types in a byte stream, in order (a truncated last frame is left out). */
    /** How many connections through the relay have carried an ERROR frame from the leader. */
    private static long refusedConnections(Relay relay) {
        return relay.fromLeader().stream()
                .filter(stream -> frameTypes(stream).contains(MessageType.ERROR.code()))
                .count();
    }

    static List<Integer> frameTypes(byte[] stream) {
        List<Integer> types = new ArrayList<>();
        ByteBuffer b = ByteBuffer.wrap(stream).order(ByteOrder.LITTLE_ENDIAN);
        while (b.remaining() >= FrameLayout.HEADER_SIZE) {
            int type = b.get() & 0xFF;
            int len = b.getInt();
            if (len < 0 || len > b.remaining()) {
                break;
            }
            types.add(type);
            b.position(b.position() + len);
        }
        return types;
    }

    /** A hand-driven follower without a secret: one session for one shard, node id from {@code node}. */
    static final class RawFollower implements AutoCloseable {
        final Socket socket;
        final InputStream in;
        final OutputStream out;

        RawFollower(InetSocketAddress leader, int shard, long node) throws IOException {
            this(ReplicationFaultTest.connect(leader), shard, node);
        }

        /** Over a connected socket (a TLS one whose handshake is done, say). */
        RawFollower(Socket connected, int shard, long node) throws IOException {
            socket = connected;
            socket.setSoTimeout(5_000);
            in = socket.getInputStream();
            out = socket.getOutputStream();
            out.write(frame(1, ReplicationFaultTest.syncRequest(ReplicationFaultTest.V, shard, new byte[16], 0, node)));
        }

        /** Reads up to CAUGHT_UP and returns its LSN. */
        long catchUp() throws IOException {
            for (int i = 0; i < 100_000; i++) {
                byte[] header = in.readNBytes(FrameLayout.HEADER_SIZE);
                assertThat(header).hasSize(FrameLayout.HEADER_SIZE);
                int len = ByteBuffer.wrap(header, 1, 4)
                        .order(ByteOrder.LITTLE_ENDIAN)
                        .getInt();
                byte[] payload = in.readNBytes(len);
                if (header[0] == MessageType.CAUGHT_UP.code()) {
                    return ByteBuffer.wrap(payload)
                            .order(ByteOrder.LITTLE_ENDIAN)
                            .getLong(16);
                }
                assertThat((int) header[0])
                        .as("frame before CAUGHT_UP")
                        .isIn(
                                MessageType.CHALLENGE.code(),
                                MessageType.SHARD_INFO.code(),
                                MessageType.SLOT_BATCH.code(),
                                MessageType.HEARTBEAT.code());
            }
            throw new AssertionError("no CAUGHT_UP");
        }

        void ack(long lsn, long seq) throws IOException {
            out.write(frame(
                    MessageType.ACK.code(), le(16).putLong(lsn).putLong(seq).array()));
            out.flush();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    /** A TCP relay on loopback that forwards both ways to a target and records what the target sent. */
    static final class Relay implements AutoCloseable {
        private final ServerSocket server;
        private final InetSocketAddress target;
        private final List<ByteArrayOutputStream> fromTarget =
                java.util.Collections.synchronizedList(new ArrayList<>());
        private final List<Socket> sockets = java.util.Collections.synchronizedList(new ArrayList<>());
        private final Thread acceptor;
        private final int forge;
        final java.util.concurrent.atomic.AtomicInteger forged = new java.util.concurrent.atomic.AtomicInteger();

        Relay(InetSocketAddress target) throws IOException {
            this(target, 0);
        }

        /**
         * A relay whose first {@code forge} connections get a forged answer instead of the target: alternately an
         * ERROR frame with a permanent code and control characters in its text, and a CHALLENGE without the auth
         * flag.
         */
        Relay(InetSocketAddress target, int forge) throws IOException {
            this.target = target;
            this.forge = forge;
            this.server = new ServerSocket(0, 50, ReplicationFaultTest.LOOPBACK);
            this.acceptor = Thread.ofPlatform().daemon().name("relay-accept").start(this::acceptLoop);
        }

        private void acceptLoop() {
            for (int i = 0; i < 10_000 && !server.isClosed(); i++) {
                try {
                    Socket a = server.accept();
                    if (i < forge) {
                        byte[] text = "\u001b[31mforged\nFAKE LOG LINE".getBytes(StandardCharsets.UTF_8);
                        byte[] answer = i % 2 == 0
                                ? frame(
                                        MessageType.ERROR.code(),
                                        le(4 + text.length)
                                                .putShort((short) ErrorCode.PROTOCOL_VERSION.code())
                                                .putShort((short) text.length)
                                                .put(text)
                                                .array())
                                : ReplicationFaultTest.challengeFrame(false);
                        a.getOutputStream().write(answer);
                        forged.incrementAndGet();
                        sockets.add(a);
                        continue;
                    }
                    Socket b = new Socket();
                    b.connect(target, 2_000);
                    sockets.add(a);
                    sockets.add(b);
                    ByteArrayOutputStream record = new ByteArrayOutputStream();
                    fromTarget.add(record);
                    pipe(a, b, null);
                    pipe(b, a, record);
                } catch (IOException e) {
                    return;
                }
            }
        }

        private void pipe(Socket from, Socket to, ByteArrayOutputStream record) {
            Thread.ofPlatform().daemon().name("relay-pipe").start(() -> {
                byte[] buf = new byte[8192];
                try {
                    for (int n; (n = from.getInputStream().read(buf)) > 0; ) {
                        if (record != null) {
                            synchronized (record) {
                                record.write(buf, 0, n);
                            }
                        }
                        to.getOutputStream().write(buf, 0, n);
                    }
                } catch (IOException ignored) {
                    // either side closed
                }
                try {
                    to.close();
                    from.close();
                } catch (IOException ignored) {
                    // closing
                }
            });
        }

        InetSocketAddress address() {
            return new InetSocketAddress(ReplicationFaultTest.LOOPBACK, server.getLocalPort());
        }

        /** What the target sent, one array per relayed connection, in the order they were accepted. */
        List<byte[]> fromLeader() {
            List<byte[]> out = new ArrayList<>();
            synchronized (fromTarget) {
                for (ByteArrayOutputStream record : fromTarget) {
                    synchronized (record) {
                        out.add(record.toByteArray());
                    }
                }
            }
            return out;
        }

        @Override
        public void close() throws Exception {
            server.close();
            synchronized (sockets) {
                for (Socket s : sockets) {
                    s.close();
                }
            }
            acceptor.join(5_000);
            LockSupport.parkNanos(50_000_000);
        }
    }

    static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }
}
