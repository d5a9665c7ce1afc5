package dev.armdb.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.replication.ReplicationSecret;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node's own exposure rules on 127.0.0.1: the metrics endpoint answers only {@code GET /metrics} and a stalled
 * request neither blocks other scrapers nor lives past the request deadline; a node without a replication address
 * serves no followers; a node holding a replication secret refuses to serve RESP off loopback.
 */
class NodeSecurityTest {
    @TempDir
    Path tmp;

    private static FixedConfig cfg() {
        return FixedConfig.builder()
                .keySize(8)
                .valueSize(16)
                .shards(2)
                .durability(Durability.NONE)
                .build();
    }

    private static InetSocketAddress loopback() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    }

    private Node nodeWithMetrics(String name) {
        return Node.start(new NodeConfig(tmp.resolve(name), cfg(), loopback(), loopback(), null, loopback()));
    }

    private static String request(InetSocketAddress at, String head) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(at, 2_000);
            s.setSoTimeout(10_000);
            s.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void metricsAnswersOnlyGetMetrics() throws Exception {
        try (Node n = nodeWithMetrics("m")) {
            InetSocketAddress at = n.metricsAddress();
            assertThat(request(at, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"))
                    .startsWith("HTTP/1.1 200 OK")
                    .contains("armdb_slots_live");
            assertThat(request(at, "GET /metrics?name=x HTTP/1.1\r\n\r\n")).startsWith("HTTP/1.1 200 OK");
            assertThat(request(at, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n"))
                    .startsWith("HTTP/1.1 405")
                    .contains("Allow: GET");
            assertThat(request(at, "GET / HTTP/1.1\r\n\r\n")).startsWith("HTTP/1.1 404");
            assertThat(request(at, "GET /../etc/passwd HTTP/1.1\r\n\r\n")).startsWith("HTTP/1.1 404");
            assertThat(request(at, "garbage\r\n\r\n")).startsWith("HTTP/1.1 400");
        }
    }

    /**
     * A client that sends half a request and stalls: other scrapers are answered at once, and the stalled one is
     * closed once the request deadline passes.
     */
    @Test
    void aStalledScrapeBlocksNoOtherAndIsClosedAtTheDeadline() throws Exception {
        try (Node n = nodeWithMetrics("s");
                Socket stalled = new Socket()) {
            InetSocketAddress at = n.metricsAddress();
            stalled.connect(at, 2_000);
            OutputStream out = stalled.getOutputStream();
            out.write("GET /metr".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            long start = System.nanoTime();
            for (int i = 0; i < 3; i++) {
                assertThat(request(at, "GET /metrics HTTP/1.1\r\n\r\n")).startsWith("HTTP/1.1 200 OK");
            }
            assertThat((System.nanoTime() - start) / 1_000_000)
                    .as("ms for three scrapes beside a stalled one")
                    .isLessThan(MetricsEndpoint.REQUEST_MILLIS);
            stalled.setSoTimeout((int) MetricsEndpoint.REQUEST_MILLIS + 5_000);
            InputStream in = stalled.getInputStream();
            int first;
            try {
                first = in.read();
            } catch (java.net.SocketException e) {
                first = -1;
            }
            assertThat(first)
                    .as("the stalled request was closed without an answer")
                    .isEqualTo(-1);
            assertThat((System.nanoTime() - start) / 1_000_000)
                    .as("ms until the stalled request was closed")
                    .isBetween(MetricsEndpoint.REQUEST_MILLIS - 1_000, MetricsEndpoint.REQUEST_MILLIS + 4_000);
        }
    }

    /**
     * The relay attack end to end: a node holding the secret is told over RESP to {@code REPLICAOF} a relay that
     * forwards every byte to and from the real leader. The leader refuses the relayed proof: the leader sends no
     * ShardInfo and no slot through the relay, and the node holds nothing. Told the real leader, it replicates.
     */
    @Test
    void replicaOfARelayToTheRealLeaderGetsNothing() throws Exception {
        ReplicationSecret secret =
                ReplicationSecret.of("correct horse battery staple".getBytes(StandardCharsets.UTF_8));
        try (Node leader = Node.start(new NodeConfig(tmp.resolve("leader"), cfg(), loopback(), loopback(), null, null)
                        .withReplicationSecret(secret));
                Node victim =
                        Node.start(new NodeConfig(tmp.resolve("victim"), cfg(), loopback(), loopback(), null, null)
                                .withReplicationSecret(secret));
                RespTestClient lc = new RespTestClient(leader);
                RespTestClient vc = new RespTestClient(victim);
                java.net.ServerSocket relay = new java.net.ServerSocket(0, 16, InetAddress.getLoopbackAddress())) {
            for (int i = 0; i < 50; i++) {
                assertThat(lc.call("SET", String.format("key%05d", i), "secret-value-" + String.format("%03d", i)))
                        .isEqualTo("+OK");
            }
            java.io.ByteArrayOutputStream fromLeader = new java.io.ByteArrayOutputStream();
            java.util.List<Socket> open = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
            Thread acceptor = Thread.ofPlatform().daemon().start(() -> {
                for (int i = 0; i < 1_000; i++) {
                    try {
                        Socket a = relay.accept();
                        Socket b = new Socket();
                        b.connect(leader.replicationServer().address(), 2_000);
                        open.add(a);
                        open.add(b);
                        pipe(a, b, null);
                        pipe(b, a, fromLeader);
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            assertThat(vc.call("REPLICAOF", "127.0.0.1", Integer.toString(relay.getLocalPort())))
                    .isEqualTo("+OK");
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(20);
            while (leader.replicationServer().metrics().authFailures.sum() < 2 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(leader.replicationServer().metrics().authFailures.sum())
                    .as("relayed handshakes refused")
                    .isGreaterThanOrEqualTo(2);
            assertThat(vc.call("DBSIZE")).isEqualTo(":0");
            // the leader's ERROR frame crosses the relay's pipe thread after the leader counted the refusal
            String leaderBytes = "";
            while (!leaderBytes.contains("which is not this leader") && System.nanoTime() < deadline) {
                Thread.sleep(20);
                synchronized (fromLeader) {
                    leaderBytes = fromLeader.toString(StandardCharsets.ISO_8859_1);
                }
            }
            assertThat(leaderBytes).doesNotContain("secret-value").contains("which is not this leader");
            relay.close();
            synchronized (open) {
                for (Socket x : open) {
                    x.close();
                }
            }
            acceptor.join(5_000);

            int replPort = leader.replicationServer().address().getPort();
            assertThat(vc.call("REPLICAOF", "127.0.0.1", Integer.toString(replPort)))
                    .isEqualTo("+OK");
            deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
            while (!vc.call("DBSIZE").equals(":50") && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(vc.call("GET", "key00007")).isEqualTo("secret-value-007");
        }
    }

    /** Sleeps and returns true, for polling loops bounded by a deadline. */
    private static boolean sleep(long millis) throws InterruptedException {
        Thread.sleep(millis);
        return true;
    }

    private static void pipe(Socket from, Socket to, java.io.ByteArrayOutputStream record) {
        Thread.ofPlatform().daemon().start(() -> {
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

    @Test
    void withoutAReplicationAddressALeaderServesNoFollowers() {
        try (Node n = Node.start(new NodeConfig(tmp.resolve("r"), cfg(), loopback(), null, null, null))) {
            assertThat(n.replicationServer()).isNull();
        }
    }

    @Test
    void aNodeWithASecretRefusesToServeRespOffLoopback() {
        ReplicationSecret secret =
                ReplicationSecret.of("correct horse battery staple".getBytes(StandardCharsets.UTF_8));
        NodeConfig open = new NodeConfig(
                        tmp.resolve("x"), cfg(), new InetSocketAddress("0.0.0.0", 0), loopback(), null, null)
                .withReplicationSecret(secret);
        assertThatThrownBy(() -> Node.start(open))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("serves RESP on loopback only")
                .hasMessageContaining("REPLICAOF");
        assertThat(tmp.resolve("x")).as("nothing was created").doesNotExist();
        // with a RESP password every command, REPLICAOF included, needs AUTH first: the node may serve RESP anywhere
        Node.checkExposure(open.withRequirePass(RespPassword.of("another long enough password")));
    }
}
