package dev.armdb.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The RESP event loop's I/O on real loopback sockets: requests split into single bytes, replies larger than the socket
 * takes at once, back-pressure from a client that does not read, and a waiting command that must not stall the other
 * clients of its loop. One event loop, so every client shares it.
 */
class RespEventLoopTest {
    private static final String V = "0123456789abcdef";

    @TempDir
    Path tmp;

    private Node node(Durability durability) {
        return node(durability, NodeConfig.DEFAULT_MAX_CLIENTS);
    }

    private Node node(Durability durability, int maxClients) {
        FixedConfig cfg = FixedConfig.builder()
                .keySize(8)
                .valueSize(16)
                .shards(2)
                .durability(durability)
                .build();
        InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        return Node.start(new NodeConfig(tmp.resolve("n"), cfg, any, any, null, null)
                .withIoThreads(1)
                .withMaxClients(maxClients));
    }

    private static byte[] command(String... args) {
        StringBuilder sb = new StringBuilder("*" + args.length + "\r\n");
        for (String a : args) {
            sb.append('$').append(a.length()).append("\r\n").append(a).append("\r\n");
        }
        return sb.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    @Test
    void requestsArrivingOneByteAtATimeAreAnsweredInOrder() throws Exception {
        try (Node n = node(Durability.NONE);
                RespTestClient c = new RespTestClient(n)) {
            ByteArrayOutputStream pipeline = new ByteArrayOutputStream();
            pipeline.writeBytes(command("SET", "key00001", V));
            pipeline.writeBytes("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            pipeline.writeBytes(command("GET", "key00001"));
            for (byte b : pipeline.toByteArray()) {
                c.sendRaw(new byte[] {b});
            }
            assertThat(c.reply()).isEqualTo("+OK");
            assertThat(c.reply()).isEqualTo("+PONG");
            assertThat(c.reply()).isEqualTo(V);
        }
    }

    @Test
    void aRequestLargerThanTheBuffersIsEchoedWhole() throws Exception {
        try (Node n = node(Durability.NONE);
                RespTestClient c = new RespTestClient(n)) {
            String big = "z".repeat(5 << 20);
            c.sendRaw(command("ECHO", big));
            assertThat(c.reply()).isEqualTo(big);
            assertThat(c.call("PING")).isEqualTo("+PONG");
        }
    }

    @Test
    void aClientThatWritesALongPipelineBeforeReadingGetsEveryReply() throws Exception {
        int requests = 100_000;
        try (Node n = node(Durability.NONE);
                RespTestClient c = new RespTestClient(n);
                RespTestClient other = new RespTestClient(n)) {
            assertThat(c.call("SET", "key00001", V)).isEqualTo("+OK");
            byte[] mget = command("MGET", "key00001", "key00001", "key00001", "key00001");
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    for (int i = 0; i < requests; i++) {
                        c.sendRaw(mget);
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            // the replies (~5 MB) exceed what the sockets buffer: the server must stop reading, not drop or block
            Thread.sleep(300);
            assertThat(other.call("PING")).isEqualTo("+PONG");
            String expected = "[" + V + "," + V + "," + V + "," + V + "]";
            for (int i = 0; i < requests; i++) {
                assertThat(c.reply()).isEqualTo(expected);
            }
            writer.get(30, TimeUnit.SECONDS);
            assertThat(c.call("PING")).isEqualTo("+PONG");
        }
    }

    @Test
    void aWaitingCommandPausesOnlyItsOwnConnection() throws Exception {
        try (Node n = node(Durability.NONE);
                RespTestClient waiting = new RespTestClient(n);
                RespTestClient other = new RespTestClient(n)) {
            assertThat(waiting.call("SET", "key00001", V)).isEqualTo("+OK");
            long start = System.nanoTime();
            // WAIT for a follower that does not exist: it waits its whole timeout
            ByteArrayOutputStream pipeline = new ByteArrayOutputStream();
            pipeline.writeBytes(command("WAIT", "1", "1500"));
            pipeline.writeBytes(command("GET", "key00001"));
            waiting.sendRaw(pipeline.toByteArray());
            assertThat(other.call("SET", "key00002", V)).isEqualTo("+OK");
            assertThat(other.call("GET", "key00002")).isEqualTo(V);
            long otherDone = System.nanoTime();
            assertThat(waiting.reply()).isEqualTo(":0");
            long waitDone = System.nanoTime();
            assertThat(waiting.reply()).isEqualTo(V);
            assertThat(otherDone).isLessThan(waitDone);
            assertThat(TimeUnit.NANOSECONDS.toMillis(waitDone - start)).isGreaterThanOrEqualTo(1_400);
        }
    }

    @Test
    void syncWritesRunOffTheLoopAndStayInOrder() throws Exception {
        try (Node n = node(Durability.SYNC);
                RespTestClient c = new RespTestClient(n)) {
            ByteArrayOutputStream pipeline = new ByteArrayOutputStream();
            for (int i = 0; i < 50; i++) {
                pipeline.writeBytes(command("SET", String.format("key%05d", i), V));
                pipeline.writeBytes(command("GET", String.format("key%05d", i)));
            }
            c.sendRaw(pipeline.toByteArray());
            for (int i = 0; i < 50; i++) {
                assertThat(c.reply()).isEqualTo("+OK");
                assertThat(c.reply()).isEqualTo(V);
            }
            assertThat(c.call("DBSIZE")).isEqualTo(":50");
        }
    }

    @Test
    void clientsOverTheLimitAreRefusedAndCountedOut() throws Exception {
        try (Node n = node(Durability.NONE, 2);
                RespTestClient a = new RespTestClient(n);
                RespTestClient b = new RespTestClient(n)) {
            assertThat(a.call("PING")).isEqualTo("+PONG");
            assertThat(b.call("PING")).isEqualTo("+PONG");
            try (RespTestClient c = new RespTestClient(n)) {
                assertThat(c.reply()).isEqualTo("-ERR max number of clients reached");
            }
            assertThat(a.call("INFO", "clients"))
                    .contains("connected_clients:2")
                    .contains("maxclients:2");
            b.close();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!a.call("INFO", "clients").contains("connected_clients:1") && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            try (RespTestClient d = new RespTestClient(n)) {
                assertThat(d.call("PING"))
                        .as("a place freed by a closed client")
                        .isEqualTo("+PONG");
            }
        }
    }
}
