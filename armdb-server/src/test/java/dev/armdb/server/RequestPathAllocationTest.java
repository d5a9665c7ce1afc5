package dev.armdb.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The request path of a RESP connection allocates nothing per GET, SET, MGET, EXISTS and DEL once warm: requests are
 * parsed into slices of the input buffer, handed to the commands as the connection hands them ({@link
 * RespCommands#executeInPlace}, else a copy for {@link RespCommands#execute}), run against the engine and encoded
 * into the reply buffer. Measured with the JVM's allocation counter of the current thread, as the engine's own
 * allocation test; no socket is involved (the selector and socket I/O are the JDK's).
 */
class RequestPathAllocationTest {
    private static final int KEY = 8;
    private static final int VALUE = 16;
    private static final String V = "0123456789abcdef";
    private static final int PAIRS = 200;

    @TempDir
    Path tmp;

    private Node node() {
        InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        FixedConfig cfg = FixedConfig.builder()
                .keySize(KEY)
                .valueSize(VALUE)
                .shards(3)
                .durability(Durability.NONE)
                .build();
        return Node.start(new NodeConfig(tmp.resolve("n"), cfg, any, any, null, null).withIoThreads(1));
    }

    /** A parser, the commands and the reply buffer of one authenticated connection, without its socket. */
    static final class Connection {
        final RespParser parser = new RespParser();
        final RespWriter out = new RespWriter(1 << 20);
        final RespCommands commands;
        long inPlace;

        Connection(Node node, boolean authenticated) {
            RespClient client = new RespClient(1, null, null, authenticated, () -> {});
            this.commands = new RespCommands(node, out, client);
        }

        /** Runs every whole request in {@code in} as the connection's event loop does. */
        void executeAll(ByteBuffer in) {
            RespRequest r;
            while ((r = parser.next(in)) != null) {
                if (r.argc() == 0) {
                    continue;
                }
                if (commands.executeInPlace(r)) {
                    inPlace++;
                } else {
                    commands.execute(r.toList());
                }
            }
        }
    }

    static byte[] command(String... args) {
        StringBuilder sb = new StringBuilder().append('*').append(args.length).append("\r\n");
        for (String a : args) {
            sb.append('$').append(a.length()).append("\r\n").append(a).append("\r\n");
        }
        return sb.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    private static String key(char kind, int i) {
        return String.format("%c%07d", kind, i);
    }

    @Test
    void getSetPipelinesAllocateNothingPerRequest() {
        ByteArrayOutputStream stream = new ByteArrayOutputStream();
        int requests = 0;
        long replyBytes = 0;
        for (int i = 0; i < PAIRS; i++) {
            stream.writeBytes(command("SET", key('k', i), V));
            stream.writeBytes(command("get", key('k', i)));
            stream.writeBytes(command("GET", key('m', i)));
            stream.writeBytes(("GET " + key('k', i) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            requests += 4;
            replyBytes += "+OK\r\n".length() + 2 * ("$16\r\n".length() + VALUE + 2) + "$-1\r\n".length();
            if (i % 10 == 0) {
                stream.writeBytes(command("MGET", key('k', i), key('m', i)));
                stream.writeBytes(command("EXISTS", key('k', i), key('m', i)));
                stream.writeBytes(command("DEL", key('m', i)));
                requests += 3;
                replyBytes += "*2\r\n".length() + "$16\r\n".length() + VALUE + 2 + "$-1\r\n".length();
                replyBytes += ":1\r\n".length() + ":0\r\n".length();
            }
        }
        ByteBuffer in = ByteBuffer.wrap(stream.toByteArray());
        try (Node n = node()) {
            Connection c = new Connection(n, true);
            for (int warm = 0; warm < 300; warm++) {
                round(c, in, replyBytes);
            }
            int rounds = 100;
            long before = allocatedBytes();
            for (int r = 0; r < rounds; r++) {
                round(c, in, replyBytes);
            }
            long allocated = allocatedBytes() - before;
            double perRequest = (double) allocated / ((long) rounds * requests);
            System.out.printf(
                    "request path: %d bytes over %d requests, %.3f bytes/request%n",
                    allocated, (long) rounds * requests, perRequest);
            // Not exactly zero: the window may hold a one-off of a few hundred bytes (the allocation counter's own
            // bookkeeping, a JIT deoptimisation, a counter cell created on first contention). 4 KiB over 86,000
            // requests is still far below one 16-byte object on each MGET, EXISTS or DEL (2,000 of each here).
            assertThat(allocated)
                    .as("bytes allocated by %d requests", (long) rounds * requests)
                    .isLessThan(4096);
            assertThat(c.inPlace).isEqualTo(400L * requests);
            assertThat(n.map().size()).isEqualTo(PAIRS);
        }
    }

    /** Runs the pipeline once, checks the replies' length and drops them (as a drained socket would). */
    private static void round(Connection c, ByteBuffer in, long replyBytes) {
        in.position(0);
        c.executeAll(in);
        // not AssertJ: its assertion objects would be counted in the measured window
        if (c.out.pending() != replyBytes) {
            throw new AssertionError("replies of a round: expected " + replyBytes + " bytes, got " + c.out.pending());
        }
        c.out.truncate(0);
    }

    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }
}
