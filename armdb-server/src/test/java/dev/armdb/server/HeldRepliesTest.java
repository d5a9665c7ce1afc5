package dev.armdb.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A gate that holds replies to writes (cluster mode's in-sync replicas): nothing a client pipelined after a write is
 * answered before the gate acknowledges the write, the event loop keeps serving other clients meanwhile, and a refused
 * acknowledgement replaces every reply from the first held write on with the gate's error, one per request.
 */
class HeldRepliesTest {
    private static final String V = "0123456789abcdef";

    @TempDir
    Path tmp;

    /** A gate whose acknowledgements the test gives by hand. */
    private static final class ManualGate implements WriteGate {
        record Pending(long[] lsns, Consumer<String> done) {}

        final BlockingQueue<Pending> pending = new LinkedBlockingQueue<>();

        @Override
        public String refuseWrite() {
            return null;
        }

        @Override
        public String refuseRoleChange() {
            return null;
        }

        @Override
        public boolean holdsReplies() {
            return true;
        }

        @Override
        public void awaitAcknowledged(long[] lsns, Consumer<String> done) {
            pending.add(new Pending(lsns.clone(), done));
        }

        Pending next() throws InterruptedException {
            Pending p = pending.poll(30, TimeUnit.SECONDS);
            assertThat(p)
                    .as("the connection asked the gate to acknowledge its writes")
                    .isNotNull();
            return p;
        }
    }

    private Node start(ManualGate gate, Durability durability) {
        FixedConfig cfg = FixedConfig.builder()
                .keySize(8)
                .valueSize(16)
                .shards(4)
                .durability(durability)
                .build();
        InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        return Node.start(new NodeConfig(tmp.resolve("n"), cfg, any, null, null, null).withIoThreads(1), gate);
    }

    private static void assertNothingArrives(RespTestClient c) throws IOException {
        c.readTimeout(300);
        try {
            String r = c.reply();
            throw new AssertionError("a reply arrived before the writes were acknowledged: " + r);
        } catch (SocketTimeoutException expected) {
            // held
        } finally {
            c.readTimeout(30_000);
        }
    }

    @Test
    void repliesAfterAWriteWaitForTheAcknowledgementWhileOtherClientsAreServed() throws Exception {
        ManualGate gate = new ManualGate();
        try (Node node = start(gate, Durability.NONE);
                RespTestClient c = new RespTestClient(node);
                RespTestClient other = new RespTestClient(node)) {
            assertThat(c.call("GET", "k0000001")).isEqualTo("(nil)");
            c.send("SET", "k0000001", V);
            ManualGate.Pending p = gate.next();
            long[] expected = new long[4];
            int shard = shardOf(node, "k0000001");
            expected[shard] = node.map().engine().view(shard).lastLsn();
            assertThat(p.lsns())
                    .as("the LSN of the held write in its shard, 0 elsewhere")
                    .isEqualTo(expected);
            // requests behind a held reply wait in the buffer: they run once it is released
            c.send("GET", "k0000001");
            c.send("SET", "k0000002", V);
            assertNothingArrives(c);
            assertThat(node.map().get("k0000002".getBytes(java.nio.charset.StandardCharsets.US_ASCII)))
                    .isNull();
            // the same event loop answers another client at once, and sees the write (applied, not acknowledged)
            assertThat(other.call("GET", "k0000001")).isEqualTo(V);

            p.done().accept(null);
            assertThat(c.reply()).as("the released reply goes out at once").isEqualTo("+OK");
            ManualGate.Pending second = gate.next();
            assertNothingArrives(c);
            second.done().accept(null);
            assertThat(c.reply()).isEqualTo(V);
            assertThat(c.reply()).isEqualTo("+OK");
            // reads alone are not held
            assertThat(c.call("GET", "k0000002")).isEqualTo(V);
            assertThat(gate.pending).isEmpty();
        }
    }

    private static byte[] pipeline(String[]... commands) {
        StringBuilder sb = new StringBuilder();
        for (String[] args : commands) {
            sb.append('*').append(args.length).append("\r\n");
            for (String a : args) {
                sb.append('$').append(a.length()).append("\r\n").append(a).append("\r\n");
            }
        }
        return sb.toString().getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    private static int shardOf(Node node, String key) {
        byte[] k = key.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        return node.map().engine().shardOf(k, dev.armdb.index.KeyHash.hash(k));
    }

    @Test
    void aRefusedAcknowledgementReplacesEveryReplyFromTheFirstHeldWriteOn() throws Exception {
        ManualGate gate = new ManualGate();
        try (Node node = start(gate, Durability.NONE);
                RespTestClient c = new RespTestClient(node)) {
            // one write, so that the node reads them in one go (one batch of replies, held as one)
            c.sendRaw(pipeline(
                    new String[] {"GET", "k0000009"},
                    new String[] {"SET", "k0000001", V},
                    new String[] {"GET", "k0000001"},
                    new String[] {"MULTI"},
                    new String[] {"SET", "k0000003", V},
                    new String[] {"EXEC"}));
            ManualGate.Pending p = gate.next();
            assertNothingArrives(c);
            p.done().accept("NOREPLICAS not acknowledged");
            assertThat(c.reply())
                    .as("the read before the first write keeps its reply")
                    .isEqualTo("(nil)");
            for (int i = 0; i < 5; i++) {
                assertThat(c.reply()).isEqualTo("-NOREPLICAS not acknowledged");
            }
            // the connection goes on: the next write is held and acknowledged on its own
            c.send("SET", "k0000004", V);
            gate.next().done().accept(null);
            assertThat(c.reply()).isEqualTo("+OK");
        }
    }

    @Test
    void writesThatRunOffTheLoopAreHeldToo() throws Exception {
        ManualGate gate = new ManualGate();
        try (Node node = start(gate, Durability.SYNC);
                RespTestClient c = new RespTestClient(node)) {
            c.send("SET", "k0000001", V);
            c.send("PING");
            ManualGate.Pending p = gate.next();
            assertNothingArrives(c);
            p.done().accept(null);
            assertThat(c.reply()).isEqualTo("+OK");
            assertThat(c.reply()).isEqualTo("+PONG");
        }
    }

    @Test
    void aClientThatHangsUpWhileHeldIsForgottenAndTheLateAnswerIgnored() throws Exception {
        ManualGate gate = new ManualGate();
        try (Node node = start(gate, Durability.NONE)) {
            ManualGate.Pending p;
            try (RespTestClient c = new RespTestClient(node)) {
                c.send("SET", "k0000001", V);
                p = gate.next();
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (node.respConnectedClients() > 0) {
                assertThat(System.nanoTime()).as("the held connection closed").isLessThan(deadline);
                Thread.sleep(10);
            }
            p.done().accept(null);
            try (RespTestClient c = new RespTestClient(node)) {
                c.send("SET", "k0000002", V);
                gate.next().done().accept(null);
                assertThat(c.reply()).isEqualTo("+OK");
            }
        }
    }
}
