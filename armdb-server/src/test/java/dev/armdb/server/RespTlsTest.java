package dev.armdb.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.replication.ReplicationTls;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.Response;

/**
 * TLS on the RESP port: Jedis over TLS (commands and a pipeline larger than every TLS and connection buffer), TLS 1.2
 * and 1.3 clients, the real {@code redis-cli --tls}, a plain-text client refused without harming the event loop, and
 * clients stalled in the handshake that do not hold up others. One event loop, so every client shares it.
 */
class RespTlsTest {
    private static final char[] PASSWORD = "resp-tls-test-password".toCharArray();
    private static final String V = "value-of-16-byte";

    @TempDir
    Path tmp;

    private Path keyStore;
    private SSLContext serverTls;
    private SSLContext clientTls;

    @BeforeEach
    void keys() throws Exception {
        keyStore = tmp.resolve("node.p12");
        ReplicationTls.writeSelfSignedKeyStore(keyStore, PASSWORD, List.of("ip:127.0.0.1", "dns:localhost"), 2);
        serverTls = ReplicationTls.fromKeyStore(keyStore, PASSWORD);
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keyStore)) {
            ks.load(in, PASSWORD);
        }
        // the client trusts the node's certificate only; it has no key (server authentication only)
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        clientTls = SSLContext.getInstance("TLS");
        clientTls.init(null, tmf.getTrustManagers(), null);
    }

    private Node node() {
        InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        FixedConfig cfg = FixedConfig.builder()
                .keySize(8)
                .valueSize(16)
                .shards(4)
                .durability(Durability.NONE)
                .build();
        return Node.start(new NodeConfig(tmp.resolve("n"), cfg, any, any, null, null)
                .withIoThreads(1)
                .withRespTls(serverTls));
    }

    private Jedis jedis(Node n) {
        return new Jedis(
                new HostAndPort("127.0.0.1", n.respAddress().getPort()),
                DefaultJedisClientConfig.builder()
                        .ssl(true)
                        .sslSocketFactory(clientTls.getSocketFactory())
                        .connectionTimeoutMillis(5_000)
                        .socketTimeoutMillis(10_000)
                        .build());
    }

    private static String key(int i) {
        return String.format("k%07d", i);
    }

    private static String value(int i) {
        return String.format("v%015d", i);
    }

    @Test
    void jedisOverTlsPingSetGetAndAPipelineLargerThanTheBuffers() {
        try (Node n = node();
                Jedis j = jedis(n)) {
            assertThat(j.ping()).isEqualTo("PONG");
            assertThat(j.set(key(1), V)).isEqualTo("OK");
            assertThat(j.get(key(1))).isEqualTo(V);
            assertThat(j.get(key(2))).isNull();
            // ~300 KiB of requests and replies each way: many TLS records per read, input beyond one record buffer
            int count = 6_000;
            Pipeline p = j.pipelined();
            List<Response<String>> gets = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                p.set(key(i), value(i));
            }
            for (int i = 0; i < count; i++) {
                gets.add(p.get(key(i)));
            }
            p.sync();
            for (int i = 0; i < count; i++) {
                assertThat(gets.get(i).get()).as("GET %s", key(i)).isEqualTo(value(i));
            }
            assertThat(j.dbSize()).isEqualTo(count);
        }
    }

    @Test
    void tls12AndTls13ClientsAreServedAndQuitEndsTheSessionCleanly() throws IOException {
        try (Node n = node()) {
            for (String protocol : List.of("TLSv1.3", "TLSv1.2")) {
                try (SSLSocket s = (SSLSocket) clientTls
                        .getSocketFactory()
                        .createSocket("127.0.0.1", n.respAddress().getPort())) {
                    s.setSoTimeout(10_000);
                    s.setEnabledProtocols(new String[] {protocol});
                    s.startHandshake();
                    assertThat(s.getSession().getProtocol()).isEqualTo(protocol);
                    assertThat(s.getSession().getPeerCertificates()).hasSize(1);
                    OutputStream out = s.getOutputStream();
                    out.write("PING\r\nQUIT\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    // an SSLException here would mean the node closed without close_notify (a truncation)
                    byte[] got = s.getInputStream().readAllBytes();
                    assertThat(new String(got, StandardCharsets.US_ASCII)).isEqualTo("+PONG\r\n+OK\r\n");
                }
            }
        }
    }

    @Test
    void plainTextClientIsRefusedAndTheLoopGoesOn() throws IOException {
        try (Node n = node()) {
            for (int round = 0; round < 5; round++) {
                try (Socket s = new Socket("127.0.0.1", n.respAddress().getPort())) {
                    s.setSoTimeout(10_000);
                    s.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
                    byte[] got = readUntilEnd(s.getInputStream(), 4096);
                    // at most a TLS alert, never a RESP reply in plain text
                    assertThat(new String(got, StandardCharsets.ISO_8859_1)).doesNotContain("PONG", "ERR");
                }
            }
            try (Jedis j = jedis(n)) {
                assertThat(j.ping()).isEqualTo("PONG");
            }
            // every refused connection gave its place back (the loop notices the last hang-up soon)
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (n.respConnectedClients() > 0 && System.nanoTime() < deadline) {
                Thread.onSpinWait();
                Thread.yield();
            }
            assertThat(n.respConnectedClients()).isZero();
        }
    }

    @Test
    void clientsStalledInTheHandshakeDoNotHoldUpOthers() throws IOException {
        long seed = Long.getLong("armdb.test.seed", System.nanoTime());
        System.out.println("RespTlsTest seed " + seed + " (re-run with -Darmdb.test.seed=" + seed + ")");
        Random rnd = new Random(seed);
        List<Socket> stalled = new ArrayList<>();
        try (Node n = node()) {
            try {
                for (int i = 0; i < 30; i++) {
                    Socket s = new Socket("127.0.0.1", n.respAddress().getPort());
                    stalled.add(s);
                    if (i % 3 == 1) {
                        // the start of a handshake record that never completes
                        byte[] partial = new byte[5 + rnd.nextInt(40)];
                        rnd.nextBytes(partial);
                        partial[0] = 0x16;
                        partial[1] = 0x03;
                        partial[2] = 0x01;
                        partial[3] = 0x02;
                        partial[4] = 0x00;
                        s.getOutputStream().write(partial);
                    } else if (i % 3 == 2) {
                        // a real handshake started by a client that then never reads or answers
                        SSLSocket tls = (SSLSocket)
                                clientTls.getSocketFactory().createSocket(s, "127.0.0.1", s.getPort(), false);
                        stalled.add(tls);
                        Thread.ofVirtual().start(() -> {
                            try {
                                tls.setSoTimeout(1);
                                tls.startHandshake();
                            } catch (IOException expected) {
                                // times out at once: the client stalls mid-handshake
                            }
                        });
                    }
                }
                long start = System.nanoTime();
                try (Jedis j = jedis(n)) {
                    for (int i = 0; i < 20; i++) {
                        assertThat(j.set(key(i), V)).isEqualTo("OK");
                        assertThat(j.get(key(i))).isEqualTo(V);
                    }
                }
                assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start))
                        .as("a generous bound: the stalled clients must not block the loop")
                        .isLessThan(10);
            } finally {
                for (Socket s : stalled) {
                    s.close();
                }
            }
        }
    }

    @Test
    void aClientThatStallsInTheHandshakeIsClosedAtTheDeadline() throws IOException {
        long seed = Long.getLong("armdb.test.seed", System.nanoTime());
        System.out.println("RespTlsTest seed " + seed + " (re-run with -Darmdb.test.seed=" + seed + ")");
        Random rnd = new Random(seed);
        try (Node n = node();
                SSLSocket done = tlsSocket(n)) {
            // a client whose handshake finished before the stalled one's deadline must outlive it
            assertThat(ping(done)).isEqualTo("+PONG\r\n");
            int before = n.respConnectedClients();
            long timeoutMillis = RespTlsTransport.HANDSHAKE_TIMEOUT.toMillis();
            try (Socket silent = new Socket("127.0.0.1", n.respAddress().getPort());
                    Socket trickler = new Socket("127.0.0.1", n.respAddress().getPort())) {
                // the start of a ClientHello record announcing 512 bytes, of which a few arrive, then nothing
                byte[] partial = new byte[5 + 1 + rnd.nextInt(40)];
                rnd.nextBytes(partial);
                partial[0] = 0x16;
                partial[1] = 0x03;
                partial[2] = 0x01;
                partial[3] = 0x02;
                partial[4] = 0x00;
                partial[5] = 0x01;
                trickler.getOutputStream().write(partial);
                awaitClients(n, before + 2);
                long start = System.nanoTime();
                for (Socket s : List.of(silent, trickler)) {
                    s.setSoTimeout((int) (2 * timeoutMillis));
                    assertThat(readUntilEnd(s.getInputStream(), 4096))
                            .as("the node closes the stalled connection (at most a TLS alert first)")
                            .hasSizeLessThan(64);
                }
                long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                assertThat(waited)
                        .as("closed within the handshake timeout plus a generous margin, after %d ms", waited)
                        .isLessThan(timeoutMillis + 10_000);
            }
            awaitClients(n, before);
            assertThat(n.respConnectedClients()).isEqualTo(before);
            assertThat(ping(done)).isEqualTo("+PONG\r\n");
        }
    }

    @Test
    void tlsRecordsSplitOverManySmallTcpWritesAreReassembled() throws IOException {
        long seed = Long.getLong("armdb.test.seed", System.nanoTime());
        System.out.println("RespTlsTest seed " + seed + " (re-run with -Darmdb.test.seed=" + seed + ")");
        try (Node n = node()) {
            for (String protocol : List.of("TLSv1.3", "TLSv1.2")) {
                Random rnd = new Random(seed);
                try (Socket raw = new TricklingSocket(n.respAddress().getPort(), rnd);
                        SSLSocket s = (SSLSocket)
                                clientTls.getSocketFactory().createSocket(raw, "127.0.0.1", raw.getPort(), true)) {
                    s.setSoTimeout(10_000);
                    s.setEnabledProtocols(new String[] {protocol});
                    s.startHandshake();
                    assertThat(ping(s)).as(protocol).isEqualTo("+PONG\r\n");
                    OutputStream out = s.getOutputStream();
                    out.write(("*3\r\n$3\r\nSET\r\n$8\r\n" + key(3) + "\r\n$16\r\n" + V + "\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    assertThat(readReply(s, 5)).isEqualTo("+OK\r\n");
                    out.write(("GET " + key(3) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    assertThat(readReply(s, 23)).isEqualTo("$16\r\n" + V + "\r\n");
                }
            }
        }
    }

    @Test
    void wholeRecordsLeftUndecryptedBehindAFullBufferAreStillAnswered() throws IOException {
        long seed = Long.getLong("armdb.test.seed", System.nanoTime());
        System.out.println("RespTlsTest seed " + seed + " (re-run with -Darmdb.test.seed=" + seed + ")");
        Random rnd = new Random(seed);
        try (Node n = node();
                SSLSocket s = tlsSocket(n)) {
            for (int round = 0; round < 8; round++) {
                // ECHOs of about 1 KiB filling exactly 10 full TLS records: the node's input buffer often holds part
                // of a request when a record is decrypted, so a whole record can wait behind it, and the last one
                // arrives with nothing after it that would wake the node
                StringBuilder request = new StringBuilder();
                StringBuilder expected = new StringBuilder();
                int total = 10 * 16_384;
                while (request.length() < total) {
                    int room = total - request.length();
                    int length = room < 3_000 ? lastEchoLength(room) : 400 + rnd.nextInt(1_100);
                    String arg = String.valueOf((char) ('a' + rnd.nextInt(26))).repeat(length);
                    request.append("*2\r\n$4\r\nECHO\r\n$")
                            .append(length)
                            .append("\r\n")
                            .append(arg)
                            .append("\r\n");
                    expected.append('$')
                            .append(length)
                            .append("\r\n")
                            .append(arg)
                            .append("\r\n");
                }
                assertThat(request.length()).isEqualTo(total);
                s.getOutputStream().write(request.toString().getBytes(StandardCharsets.US_ASCII));
                s.getOutputStream().flush();
                assertThat(readReply(s, expected.length()))
                        .as("round %d", round)
                        .isEqualTo(expected.toString());
            }
        }
    }

    /** The argument length of the ECHO request that is exactly {@code room} bytes long. */
    private static int lastEchoLength(int room) {
        // *2\r\n$4\r\nECHO\r\n$<digits>\r\n<arg>\r\n: 19 bytes besides the argument and its length's digits
        for (int length = 0; length < room; length++) {
            if (19 + Integer.toString(length).length() + length == room) {
                return length;
            }
        }
        throw new IllegalArgumentException("no ECHO request is exactly " + room + " bytes long");
    }

    @Test
    void redisCliWithTls() throws Exception {
        Assumptions.assumeTrue(
                redisCliHasTls(),
                "SKIPPED: redis-cli is missing or built without TLS (redis-cli --help lists no --tls)");
        Path cert = tmp.resolve("node.pem");
        Files.writeString(cert, pem(keyStore));
        try (Node n = node()) {
            String port = Integer.toString(n.respAddress().getPort());
            assertThat(redisCli("--tls", "--cacert", cert.toString(), "-h", "127.0.0.1", "-p", port, "PING"))
                    .isEqualTo("PONG");
            assertThat(redisCli("--tls", "--cacert", cert.toString(), "-h", "127.0.0.1", "-p", port, "SET", key(7), V))
                    .isEqualTo("OK");
            assertThat(redisCli("--tls", "--insecure", "-h", "127.0.0.1", "-p", port, "GET", key(7)))
                    .isEqualTo(V);
        }
    }

    private static boolean redisCliHasTls() {
        try {
            Process p = new ProcessBuilder("redis-cli", "--help")
                    .redirectErrorStream(true)
                    .start();
            String help = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(10, TimeUnit.SECONDS);
            return help.contains("--tls");
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    private static String redisCli(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("redis-cli"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).as("redis-cli finished").isTrue();
        return text.strip();
    }

    private static String pem(Path keyStore) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keyStore)) {
            ks.load(in, PASSWORD);
        }
        Certificate c = ks.getCertificate(ks.aliases().nextElement());
        return "-----BEGIN CERTIFICATE-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                        .encodeToString(c.getEncoded())
                + "\n-----END CERTIFICATE-----\n";
    }

    private SSLSocket tlsSocket(Node n) throws IOException {
        SSLSocket s = (SSLSocket) clientTls
                .getSocketFactory()
                .createSocket("127.0.0.1", n.respAddress().getPort());
        s.setSoTimeout(10_000);
        s.startHandshake();
        return s;
    }

    private static String ping(Socket s) throws IOException {
        s.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        return readReply(s, 7);
    }

    /** Exactly {@code length} reply bytes, within the socket's read timeout. */
    private static String readReply(Socket s, int length) throws IOException {
        byte[] got = s.getInputStream().readNBytes(length);
        return new String(got, StandardCharsets.US_ASCII);
    }

    private static void awaitClients(Node n, int expected) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (n.respConnectedClients() != expected && System.nanoTime() < deadline) {
            Thread.onSpinWait();
            Thread.yield();
        }
        assertThat(n.respConnectedClients()).as("connected clients").isEqualTo(expected);
    }

    /**
     * A loopback socket that sends what it is given in pieces of 1 to 7 bytes, each its own TCP segment, with a pause
     * after some, so the node receives TLS records (handshake and application data) a few bytes at a time.
     */
    private static final class TricklingSocket extends Socket {
        private final Random rnd;

        TricklingSocket(int port, Random rnd) throws IOException {
            super("127.0.0.1", port);
            this.rnd = rnd;
            setTcpNoDelay(true);
        }

        @Override
        public OutputStream getOutputStream() throws IOException {
            OutputStream out = super.getOutputStream();
            return new OutputStream() {
                @Override
                public void write(int b) throws IOException {
                    write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    int end = off + len;
                    while (off < end) {
                        int piece = Math.min(end - off, 1 + rnd.nextInt(7));
                        out.write(b, off, piece);
                        out.flush();
                        off += piece;
                        if (rnd.nextInt(4) == 0) {
                            pause();
                        }
                    }
                }
            };
        }

        private static void pause() throws IOException {
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while trickling");
            }
        }
    }

    private static byte[] readUntilEnd(InputStream in, int max) throws IOException {
        byte[] buf = new byte[max];
        int n = 0;
        try {
            int r;
            while (n < max && (r = in.read(buf, n, max - n)) > 0) {
                n += r;
            }
        } catch (java.net.SocketException reset) {
            // a reset is a refusal too
        }
        return java.util.Arrays.copyOf(buf, n);
    }
}
