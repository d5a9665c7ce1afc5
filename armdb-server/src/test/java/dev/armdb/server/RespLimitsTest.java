package dev.armdb.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The memory limits of RESP clients on real loopback sockets: the query buffer limit, the reply buffer limit, the
 * budget all clients share, and the failures that must close one connection only (or replace a stopped loop), never
 * the node.
 */
class RespLimitsTest {
    private static final String V = "0123456789abcdef";

    @TempDir
    Path tmp;

    private Node node(ClientLimits limits, int ioThreads) {
        FixedConfig cfg = FixedConfig.builder()
                .keySize(8)
                .valueSize(16)
                .shards(2)
                .durability(Durability.NONE)
                .build();
        InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        return Node.start(new NodeConfig(tmp.resolve("n"), cfg, any, any, null, null)
                .withIoThreads(ioThreads)
                .withClientLimits(limits));
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static void awaitBudget(Node n, long expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (n.respServer().budget().used() != expected && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(n.respServer().budget().used())
                .as("bytes reserved by grown buffers")
                .isEqualTo(expected);
    }

    @Test
    void aBulkLongerThanTheQueryBufferLimitIsRefusedWhenAnnounced() throws Exception {
        try (Node n = node(ClientLimits.DEFAULTS.withQueryBufferBytes(64 << 10), 1);
                RespTestClient c = new RespTestClient(n);
                RespTestClient other = new RespTestClient(n)) {
            c.sendRaw(ascii("*2\r\n$4\r\nECHO\r\n$65537\r\n"));
            assertThat(c.reply()).isEqualTo("-ERR Protocol error: invalid bulk length");
            assertThat(c.endedByServer()).isTrue();
            assertThat(other.call("PING")).isEqualTo("+PONG");
        }
    }

    @Test
    void aRequestThatFillsTheQueryBufferLimitClosesItsClientWithAnError() throws Exception {
        int limit = 64 << 10;
        try (Node n = node(ClientLimits.DEFAULTS.withQueryBufferBytes(limit), 1);
                RespTestClient c = new RespTestClient(n);
                RespTestClient other = new RespTestClient(n)) {
            ByteArrayOutputStream request = new ByteArrayOutputStream();
            request.writeBytes(ascii("*10000\r\n$6\r\nEXISTS\r\n"));
            while (request.size() < limit) {
                request.writeBytes(ascii("$8\r\nkey00001\r\n"));
            }
            // exactly the limit: the server reads it all, so closing sends a clean end of stream, not a reset
            c.sendRaw(Arrays.copyOf(request.toByteArray(), limit));
            assertThat(c.reply())
                    .isEqualTo("-ERR Protocol error: a request exceeds the client query buffer limit of 65536 bytes");
            assertThat(c.endedByServer()).isTrue();
            assertThat(other.call("PING")).isEqualTo("+PONG");
            awaitBudget(n, 0);
        }
    }

    @Test
    void aClientWhoseRepliesExceedTheReplyLimitIsClosedWithoutThem() throws Exception {
        ClientLimits limits =
                ClientLimits.DEFAULTS.withQueryBufferBytes(1 << 20).withReplyBufferBytes(64 << 10);
        try (Node n = node(limits, 1);
                RespTestClient c = new RespTestClient(n);
                RespTestClient other = new RespTestClient(n)) {
            assertThat(c.call("SET", "key00001", V)).isEqualTo("+OK");
            String[] small = new String[1 + 1_000];
            String[] big = new String[1 + 5_000];
            Arrays.fill(small, "key00001");
            Arrays.fill(big, "key00001");
            small[0] = "MGET";
            big[0] = "MGET";
            assertThat(c.call(small)).as("23 KB of replies fit").startsWith("[" + V + ",");
            c.send(big);
            assertThat(c.endedByServer()).as("115 KB of replies do not").isTrue();
            assertThat(other.call("PING")).isEqualTo("+PONG");
            awaitBudget(n, 0);
        }
    }

    @Test
    void clientsTogetherCannotGrowBuffersBeyondTheNodeBudget() throws Exception {
        ClientLimits limits =
                ClientLimits.DEFAULTS.withQueryBufferBytes(1 << 20).withNodeBufferBytes(256 << 10);
        try (Node n = node(limits, 1);
                RespTestClient a = new RespTestClient(n);
                RespTestClient b = new RespTestClient(n)) {
            assertThat(a.call("SET", "key00001", V)).isEqualTo("+OK");
            ByteArrayOutputStream request = new ByteArrayOutputStream();
            request.writeBytes(ascii("*10001\r\n$6\r\nEXISTS\r\n"));
            for (int i = 0; i < 10_000; i++) {
                request.writeBytes(ascii("$8\r\nkey00001\r\n"));
            }
            byte[] exists = request.toByteArray();
            // a holds 135 KB of its 140 KB request: its buffer grew 16 -> 256 KiB, reserving 240 KiB of 256 KiB
            a.sendRaw(Arrays.copyOf(exists, 135_000));
            awaitBudget(n, 240 << 10);
            // b needs 16 + 32 KiB more for 40 KB: over the budget
            b.sendRaw(Arrays.copyOf(exists, 40_000));
            assertThat(b.reply()).startsWith("-ERR Protocol error: the node's client buffers are full");
            assertThat(b.endedByServer()).isTrue();
            a.sendRaw(Arrays.copyOfRange(exists, 135_000, exists.length));
            assertThat(a.reply()).isEqualTo(":10000");
            awaitBudget(n, 0);
            try (RespTestClient c = new RespTestClient(n)) {
                c.sendRaw(exists);
                assertThat(c.reply()).as("room given back is usable again").isEqualTo(":10000");
            }
        }
    }

    @Test
    void aFailingLoopTaskLeavesTheLoopServing() throws Exception {
        try (Node n = node(ClientLimits.DEFAULTS, 1);
                RespTestClient c = new RespTestClient(n)) {
            assertThat(c.call("PING")).isEqualTo("+PONG");
            RespEventLoop loop = n.respServer().loops()[0];
            loop.execute(() -> {
                throw new StackOverflowError("thrown by a test task");
            });
            loop.execute(() -> {
                throw new OutOfMemoryError("thrown by a test task");
            });
            assertThat(c.call("PING")).isEqualTo("+PONG");
            try (RespTestClient fresh = new RespTestClient(n)) {
                assertThat(fresh.call("PING")).isEqualTo("+PONG");
            }
            assertThat(loop.isRunning()).isTrue();
            assertThat(n.respServer().loopRestarts()).isZero();
        }
    }

    @Test
    void aStoppedLoopIsReplacedSoNewClientsAreServed() throws Exception {
        try (Node n = node(ClientLimits.DEFAULTS, 2)) {
            RespEventLoop dead = n.respServer().loops()[0];
            dead.close();
            assertThat(dead.isRunning()).isFalse();
            for (int i = 0; i < 4; i++) {
                try (RespTestClient c = new RespTestClient(n)) {
                    c.readTimeout(10_000);
                    assertThat(c.call("PING")).as("client " + i).isEqualTo("+PONG");
                }
            }
            assertThat(n.respServer().loopRestarts()).isEqualTo(1);
            assertThat(n.respServer().loops()[0].isRunning()).isTrue();
        }
    }

    @Test
    void waitRefusesANegativeTimeoutAndUnknownCommandsEchoABoundedPrefix() throws Exception {
        try (Node n = node(ClientLimits.DEFAULTS, 1);
                RespTestClient c = new RespTestClient(n)) {
            assertThat(c.call("WAIT", "1", "-1")).isEqualTo("-ERR timeout is negative");
            String name = "N".repeat(1_000);
            String arg = "a".repeat(1_000);
            String reply = c.call(name, arg, arg, arg);
            assertThat(reply)
                    .isEqualTo("-ERR unknown command '" + "n".repeat(128) + "', with args beginning with: '"
                            + "a".repeat(128) + "'");
            assertThat(c.call("NOSUCH", "x", "yy"))
                    .isEqualTo("-ERR unknown command 'nosuch', with args beginning with: 'x' 'yy'");
        }
    }
}
