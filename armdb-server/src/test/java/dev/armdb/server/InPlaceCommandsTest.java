package dev.armdb.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The in-place hot commands answer exactly as the generic path: a seeded random stream of requests (the hot commands
 * in any case, with wrong sizes, options and wrong arity, mixed with AUTH, MULTI/EXEC/DISCARD, CLIENT REPLY, HELLO,
 * unknown commands) runs on one node the way a connection runs it and on a second node through the generic path
 * only; every reply's bytes, each shard's last-write LSN (what WAIT waits for) and the stored pairs must agree.
 * Re-run a failure with -Darmdb.test.seed=N.
 */
class InPlaceCommandsTest {
    private static final String PASSWORD = "pw-123";
    private static final int STEPS = 4_000;

    @TempDir
    Path tmp;

    private Node node(String dir, Durability durability) {
        InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        FixedConfig cfg = FixedConfig.builder()
                .keySize(8)
                .valueSize(16)
                .shards(3)
                .durability(durability)
                .build();
        return Node.start(new NodeConfig(tmp.resolve(dir), cfg, any, any, null, null)
                .withIoThreads(1)
                .withRequirePass(RespPassword.of(PASSWORD)));
    }

    @Test
    void repliesAndWriteTrackingMatchTheGenericPath() throws IOException {
        sameAsGenericPath(Durability.NONE);
    }

    @Test
    void underSyncDurabilityWritesTakeTheGenericPath() throws IOException {
        sameAsGenericPath(Durability.SYNC);
    }

    private void sameAsGenericPath(Durability durability) throws IOException {
        long seed = Long.getLong("armdb.test.seed", System.nanoTime());
        System.out.println("InPlaceCommandsTest " + durability + " seed=" + seed);
        Random rnd = new Random(seed);
        try (Node a = node("a", durability);
                Node b = node("b", durability);
                Wire wire = new Wire()) {
            RequestPathAllocationTest.Connection fast = new RequestPathAllocationTest.Connection(a, false);
            RequestPathAllocationTest.Connection generic = new RequestPathAllocationTest.Connection(b, false);
            int shards = a.map().config().shards();
            for (int step = 0; step < STEPS; step++) {
                String[] req = request(rnd);
                byte[] bytes = RequestPathAllocationTest.command(req);
                fast.executeAll(ByteBuffer.wrap(bytes));
                genericOnly(generic, ByteBuffer.wrap(bytes));
                String what = "seed " + seed + " step " + step + " " + String.join(" ", req);
                assertThat(wire.take(fast.out)).as(what).isEqualTo(wire.take(generic.out));
                for (int s = 0; s < shards; s++) {
                    assertThat(fast.commands.lastWriteLsn(s))
                            .as(what + " shard " + s)
                            .isEqualTo(generic.commands.lastWriteLsn(s));
                }
            }
            assertThat(a.map().size()).isEqualTo(b.map().size());
            assertThat(dev.armdb.Digest.of(a.map()).hex())
                    .isEqualTo(dev.armdb.Digest.of(b.map()).hex());
            assertThat(fast.inPlace).as("requests taken in place").isGreaterThan(STEPS / 10);
        }
    }

    private static void genericOnly(RequestPathAllocationTest.Connection c, ByteBuffer in) {
        RespRequest r;
        while ((r = c.parser.next(in)) != null) {
            if (r.argc() > 0) {
                c.commands.execute(r.toList());
            }
        }
    }

    private static String[] request(Random rnd) {
        int kind = rnd.nextInt(100);
        if (kind < 25) {
            return new String[] {name("GET", rnd), key(rnd)};
        }
        if (kind < 45) {
            return new String[] {name("SET", rnd), key(rnd), value(rnd)};
        }
        if (kind < 52) {
            return withKeys(name("MGET", rnd), rnd);
        }
        if (kind < 59) {
            return withKeys(name("DEL", rnd), rnd);
        }
        if (kind < 66) {
            return withKeys(name("EXISTS", rnd), rnd);
        }
        return switch (kind) {
            case 66, 67, 68 -> new String[] {"AUTH", rnd.nextInt(4) == 0 ? "wrong" : PASSWORD};
            case 69, 70 -> new String[] {"MULTI"};
            case 71, 72 -> new String[] {"EXEC"};
            case 73 -> new String[] {"DISCARD"};
            case 74, 75 -> new String[] {"CLIENT", "REPLY", pick(rnd, "OFF", "ON", "SKIP")};
            case 76 -> new String[] {"HELLO", pick(rnd, "2", "3")};
            case 77 -> new String[] {"GETX", key(rnd)};
            case 78 -> new String[] {"SET", key(rnd), value(rnd), pick(rnd, "NX", "XX", "GET", "EX", "KEEPTTL")};
            case 79 -> new String[] {"SET", key(rnd)};
            case 80 -> new String[] {"GET", key(rnd), key(rnd)};
            case 81 -> new String[] {"WATCH", key(rnd)};
            case 82 -> new String[] {"RESET"};
            case 83 -> new String[] {"DBSIZE"};
            case 84 -> new String[] {"WAIT", "0", "1"};
            default -> new String[] {name("GET", rnd), key(rnd)};
        };
    }

    private static String[] withKeys(String name, Random rnd) {
        List<String> args = new ArrayList<>(List.of(name));
        int keys = rnd.nextInt(5);
        for (int i = 0; i < keys; i++) {
            args.add(key(rnd));
        }
        return args.toArray(String[]::new);
    }

    /** {@code upper} in random case. */
    private static String name(String upper, Random rnd) {
        StringBuilder sb = new StringBuilder();
        for (char ch : upper.toCharArray()) {
            sb.append(rnd.nextBoolean() ? Character.toLowerCase(ch) : ch);
        }
        return sb.toString();
    }

    /** Mostly one of 12 keys of the right size; sometimes one byte short or long. */
    private static String key(Random rnd) {
        String k = "key0000" + Integer.toHexString(rnd.nextInt(12));
        return switch (rnd.nextInt(20)) {
            case 0 -> k.substring(1);
            case 1 -> k + "x";
            default -> k;
        };
    }

    private static String value(Random rnd) {
        String v = "v" + rnd.nextInt(10) + "-0123456789abc";
        return rnd.nextInt(20) == 0 ? v + "!" : v;
    }

    private static String pick(Random rnd, String... options) {
        return options[rnd.nextInt(options.length)];
    }

    /** A loopback socket pair that a writer's pending replies are drained through, to read their bytes. */
    private static final class Wire implements AutoCloseable {
        private final ServerSocketChannel server;
        private final SocketChannel out;
        private final SocketChannel in;

        Wire() throws IOException {
            server = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            out = SocketChannel.open(server.getLocalAddress());
            in = server.accept();
        }

        String take(RespWriter w) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(w.pending());
            while (b.hasRemaining()) {
                w.drainTo(out);
                in.read(b);
            }
            return new String(b.array(), StandardCharsets.ISO_8859_1);
        }

        @Override
        public void close() throws IOException {
            try (server;
                    out;
                    in) {
                // closes all three
            }
        }
    }
}
