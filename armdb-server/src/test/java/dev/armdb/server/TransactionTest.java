package dev.armdb.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** MULTI/EXEC/DISCARD/WATCH over raw RESP: queuing, errors, watch aborts, and no writer interleaving with EXEC. */
class TransactionTest {
    private static final String A = "aaaaaaaaaaaaaaaa";
    private static final String B = "bbbbbbbbbbbbbbbb";

    @TempDir
    Path tmp;

    private Node node() {
        InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        FixedConfig cfg = FixedConfig.builder()
                .keySize(8)
                .valueSize(16)
                .shards(4)
                .durability(Durability.NONE)
                .build();
        return Node.start(new NodeConfig(tmp.resolve("n"), cfg, any, any, null, null).withIoThreads(2));
    }

    @Test
    void queuingErrorsAndWatch() throws Exception {
        try (Node n = node();
                RespTestClient c = new RespTestClient(n);
                RespTestClient other = new RespTestClient(n)) {
            assertThat(c.call("EXEC")).isEqualTo("-ERR EXEC without MULTI");
            assertThat(c.call("DISCARD")).isEqualTo("-ERR DISCARD without MULTI");
            assertThat(c.call("MULTI")).isEqualTo("+OK");
            assertThat(c.call("MULTI")).isEqualTo("-ERR MULTI calls can not be nested");
            assertThat(c.call("WATCH", "key00001")).isEqualTo("-ERR WATCH inside MULTI is not allowed");
            assertThat(c.call("SET", "key00001", A)).isEqualTo("+QUEUED");
            assertThat(other.call("GET", "key00001"))
                    .as("nothing runs before EXEC")
                    .isEqualTo("(nil)");
            assertThat(c.call("DISCARD")).isEqualTo("+OK");
            assertThat(c.call("EXISTS", "key00001")).isEqualTo(":0");

            assertThat(c.call("MULTI")).isEqualTo("+OK");
            assertThat(c.call("SET", "key00001", A)).isEqualTo("+QUEUED");
            assertThat(c.call("FLUSHALL")).isEqualTo("-ERR Command not allowed inside a transaction");
            assertThat(c.call("EXEC")).startsWith("-EXECABORT");
            assertThat(c.call("EXISTS", "key00001")).isEqualTo(":0");

            assertThat(c.call("MULTI")).isEqualTo("+OK");
            assertThat(c.call("GET")).startsWith("-ERR wrong number of arguments");
            assertThat(c.call("EXEC")).startsWith("-EXECABORT");

            assertThat(c.call("MULTI")).isEqualTo("+OK");
            assertThat(c.call("SET", "key00001", A)).isEqualTo("+QUEUED");
            assertThat(c.call("SET", "short", A)).isEqualTo("+QUEUED");
            assertThat(c.call("GET", "key00001")).isEqualTo("+QUEUED");
            assertThat(c.call("EXEC")).isEqualTo("[+OK,-ERR key must be exactly 8 bytes (got 5)," + A + "]");

            // a watched key changed by another client, by this client, created, deleted: EXEC aborts
            String[][] changes = {
                {"other", "SET", "key00001", B},
                {"self", "SET", "key00001", A},
                {"other", "SET", "key00002", B},
                {"other", "DEL", "key00002"},
                {"other", "FLUSHDB"}
            };
            for (String[] ch : changes) {
                assertThat(c.call("SET", "key00001", A)).isEqualTo("+OK");
                assertThat(c.call("WATCH", "key00001", "key00002")).isEqualTo("+OK");
                String[] cmd = java.util.Arrays.copyOfRange(ch, 1, ch.length);
                assertThat((ch[0].equals("self") ? c : other).call(cmd)).doesNotStartWith("-");
                assertThat(c.call("MULTI")).isEqualTo("+OK");
                assertThat(c.call("SET", "key00003", A)).isEqualTo("+QUEUED");
                assertThat(c.call("EXEC")).as("after %s", String.join(" ", ch)).isEqualTo("(nil)");
                assertThat(c.call("EXISTS", "key00003")).isEqualTo(":0");
            }
            // a change of an unwatched key, and UNWATCH, leave EXEC alone
            assertThat(c.call("WATCH", "key00001")).isEqualTo("+OK");
            assertThat(other.call("SET", "key00009", B)).isEqualTo("+OK");
            assertThat(c.call("MULTI")).isEqualTo("+OK");
            assertThat(c.call("SET", "key00003", A)).isEqualTo("+QUEUED");
            assertThat(c.call("EXEC")).isEqualTo("[+OK]");
            assertThat(c.call("WATCH", "key00001")).isEqualTo("+OK");
            assertThat(other.call("SET", "key00001", B)).isEqualTo("+OK");
            assertThat(c.call("UNWATCH")).isEqualTo("+OK");
            assertThat(c.call("MULTI")).isEqualTo("+OK");
            assertThat(c.call("GET", "key00001")).isEqualTo("+QUEUED");
            assertThat(c.call("EXEC")).isEqualTo("[" + B + "]");
        }
    }

    /**
     * Two clients EXEC "set every key to my value" over keys in every shard while a third reads them all inside its
     * own EXEC: with the shards' writer locks held through each EXEC, the reader always sees one writer's value in
     * every key, never a mix. Bounded by count and time.
     */
    @Test
    void execLetsNoOtherWriterInterleave() throws Exception {
        String[] keys = new String[16];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = String.format("key%05d", i);
        }
        try (Node n = node()) {
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> writers = new ArrayList<>();
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
            for (String v : List.of(A, B)) {
                writers.add(Thread.ofPlatform().start(() -> {
                    try (RespTestClient w = new RespTestClient(n)) {
                        for (int round = 0; round < 3_000 && System.nanoTime() < end; round++) {
                            w.send("MULTI");
                            for (String k : keys) {
                                w.send("SET", k, v);
                            }
                            w.send("EXEC");
                            for (int i = 0; i < keys.length + 2; i++) {
                                w.reply();
                            }
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }));
            }
            int mixed = 0;
            int reads = 0;
            try (RespTestClient r = new RespTestClient(n)) {
                while (writers.stream().anyMatch(Thread::isAlive) && reads < 20_000) {
                    assertThat(r.call("MULTI")).isEqualTo("+OK");
                    String[] mget = new String[keys.length + 1];
                    mget[0] = "MGET";
                    System.arraycopy(keys, 0, mget, 1, keys.length);
                    assertThat(r.call(mget)).isEqualTo("+QUEUED");
                    String values = r.call("EXEC");
                    reads++;
                    if (values.contains(A) && values.contains(B)) {
                        mixed++;
                    }
                }
            }
            for (Thread t : writers) {
                t.join(30_000);
            }
            assertThat(failure.get()).isNull();
            assertThat(reads).isPositive();
            assertThat(mixed)
                    .as("EXECs that saw another EXEC half done, of %d", reads)
                    .isZero();
        }
    }
}
