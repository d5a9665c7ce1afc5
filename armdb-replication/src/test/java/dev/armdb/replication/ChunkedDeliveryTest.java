package dev.armdb.replication;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.FixedMap;
import dev.armdb.replication.follower.ReplicationClient;
import dev.armdb.replication.follower.ReplicationClientConfig;
import dev.armdb.replication.leader.ReplicationServer;
import dev.armdb.replication.leader.ReplicationServerConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * A follower whose leader's bytes arrive in small pieces, cut anywhere inside frames, with pauses between: each of
 * its reads returns less than it has room for, so its worker ends a read pass early and waits for the selector to
 * report the socket again (see {@code LeaderSession.receive}). Through a seeded loopback proxy that forwards the
 * leader's bytes in pieces of 1 to 40 bytes, a first copy and a live stream of puts and deletes must both reach the
 * follower, whose contents must then equal the leader's, with no session failed on the way. Mutation check
 * (2026-12-05): a receive pass that drops what it staged when it ends early on a short read fails it.
 */
class ChunkedDeliveryTest extends ClosingTest {
    private static final int KEYS = 3_000;

    @Test
    void aFollowerFedInSmallPiecesConvergesOnItsLeader() throws Exception {
        long seed = Long.getLong("armdb.seed", System.nanoTime());
        System.out.println("ChunkedDeliveryTest seed " + seed);
        FixedConfig cfg = FixedConfig.builder()
                .keySize(8)
                .valueSize(16)
                .shards(2)
                .durability(Durability.NONE)
                .build();
        FixedMap leader = track(FixedMap.open(tmp.resolve("leader"), cfg));
        for (int i = 0; i < KEYS; i++) {
            leader.put(key(i), value(i, 0));
        }
        ReplicationServer server = track(ReplicationServer.start(leader, ReplicationServerConfig.defaults()));
        ChunkingProxy proxy = track(new ChunkingProxy(server.address(), seed));
        FixedMap follower = track(FixedMap.open(tmp.resolve("follower"), cfg));
        ReplicationClient client =
                track(ReplicationClient.start(follower, proxy.address(), ReplicationClientConfig.defaults()));
        ReplicationFaultTest.awaitConverged(leader, client);

        SplittableRandom rnd = new SplittableRandom(seed);
        for (int op = 0; op < 2_000; op++) {
            int k = rnd.nextInt(KEYS);
            if (rnd.nextInt(5) == 0) {
                leader.delete(key(k));
            } else {
                leader.put(key(k), value(k, op + 1));
            }
            if (op % 100 == 0) {
                LockSupport.parkNanos(1_000_000);
            }
        }
        ReplicationFaultTest.awaitConverged(leader, client);
        assertThat(ReplicationTest.contents(follower)).as("seed %d", seed).isEqualTo(ReplicationTest.contents(leader));
        assertThat(proxy.piecesToFollower())
                .as("pieces forwarded to the follower")
                .isGreaterThan(1_000);
        assertThat(client.status())
                .as("seed %d: no session failed (a frame lost or misread ends one)", seed)
                .allSatisfy(st -> assertThat(st.lastError()).isNullOrEmpty());
    }

    private static byte[] key(int i) {
        return ByteBuffer.allocate(8).putLong(i).array();
    }

    private static byte[] value(int i, int version) {
        return ByteBuffer.allocate(16).putLong(i).putLong(version).array();
    }

    /**
     * A loopback proxy: the follower's bytes go to the leader as they come; the leader's go to the follower in
     * seeded pieces of 1 to 40 bytes, with a short pause now and then, each written and flushed on its own.
     */
    private static final class ChunkingProxy implements AutoCloseable {
        private final ServerSocket listener;
        private final InetSocketAddress upstream;
        private final long seed;
        private final AtomicLong pieces = new AtomicLong();

        ChunkingProxy(InetSocketAddress upstream, long seed) throws IOException {
            this.upstream = upstream;
            this.seed = seed;
            this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread.ofPlatform().daemon().name("chunking-proxy-accept").start(this::acceptLoop);
        }

        InetSocketAddress address() {
            return new InetSocketAddress(InetAddress.getLoopbackAddress(), listener.getLocalPort());
        }

        long piecesToFollower() {
            return pieces.get();
        }

        private void acceptLoop() {
            for (int n = 0; !listener.isClosed(); n++) {
                try {
                    Socket down = listener.accept();
                    Socket up = new Socket(upstream.getAddress(), upstream.getPort());
                    up.setTcpNoDelay(true);
                    down.setTcpNoDelay(true);
                    long connectionSeed = seed + n;
                    Thread.ofPlatform().daemon().start(() -> pump(down, up, null));
                    Thread.ofPlatform().daemon().start(() -> pump(up, down, new SplittableRandom(connectionSeed)));
                } catch (IOException e) {
                    return;
                }
            }
        }

        /** Copies {@code from} to {@code to} until either ends; in seeded pieces if {@code rnd} is given. */
        private void pump(Socket from, Socket to, SplittableRandom rnd) {
            byte[] buf = new byte[8192];
            try (from;
                    to) {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                for (int n; (n = in.read(buf)) > 0; ) {
                    if (rnd == null) {
                        out.write(buf, 0, n);
                        continue;
                    }
                    for (int at = 0; at < n; ) {
                        int piece = Math.min(n - at, 1 + rnd.nextInt(40));
                        out.write(buf, at, piece);
                        out.flush();
                        at += piece;
                        pieces.incrementAndGet();
                        if (rnd.nextInt(200) == 0) {
                            LockSupport.parkNanos(200_000);
                        }
                    }
                }
            } catch (IOException e) {
                // one side ended: the try closes both
            }
        }

        @Override
        public void close() throws IOException {
            listener.close();
        }
    }
}
