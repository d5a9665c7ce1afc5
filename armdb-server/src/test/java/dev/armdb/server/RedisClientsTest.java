package dev.armdb.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanIterator;
import io.lettuce.core.TransactionResult;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.api.sync.RedisCommands;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.Transaction;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;

/**
 * Jedis and Lettuce at their default settings against a node on 127.0.0.1: handshake (Lettuce's HELLO 3), plain
 * commands, pipelines, MULTI/EXEC, WATCH aborting EXEC, CLIENT and COMMAND replies the clients parse, SCAN under
 * concurrent writes, and AUTH.
 */
class RedisClientsTest {
    private static final String V = "value-of-16-byte";

    @TempDir
    Path tmp;

    private Node node(RespPassword password) {
        InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        FixedConfig cfg = FixedConfig.builder()
                .keySize(8)
                .valueSize(16)
                .shards(4)
                .durability(Durability.NONE)
                .build();
        return Node.start(new NodeConfig(tmp.resolve("n"), cfg, any, any, null, null)
                .withIoThreads(2)
                .withRequirePass(password));
    }

    private static String key(int i) {
        return String.format("k%07d", i);
    }

    @Test
    void jedisDefaults() {
        try (Node n = node(null);
                Jedis j = new Jedis("127.0.0.1", n.respAddress().getPort());
                Jedis other = new Jedis("127.0.0.1", n.respAddress().getPort())) {
            assertThat(j.ping()).isEqualTo("PONG");
            assertThat(j.set(key(1), V)).isEqualTo("OK");
            assertThat(j.get(key(1))).isEqualTo(V);
            assertThat(j.get(key(2))).isNull();
            assertThat(j.type(key(1))).isEqualTo("string");
            assertThat(j.ttl(key(1))).isEqualTo(-1);
            assertThat(j.ttl(key(2))).isEqualTo(-2);
            assertThat(j.getDel(key(1))).isEqualTo(V);
            assertThat(j.exists(key(1))).isFalse();
            assertThat(j.clientId()).isPositive();
            assertThat(j.clientSetname("tester")).isEqualTo("OK");
            assertThat(j.clientGetname()).isEqualTo("tester");
            assertThat(j.clientList()).contains("name=tester");
            assertThat(j.commandCount()).isEqualTo(RespCommandTable.size());
            assertThat(j.info("stats")).contains("total_commands_processed:");
            assertThatThrownBy(() -> j.expire(key(1), 10)).hasMessageContaining("keys do not expire");

            Pipeline p = j.pipelined();
            List<Response<String>> sets = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                sets.add(p.set(key(i), V));
            }
            Response<Long> size = p.dbSize();
            p.sync();
            assertThat(sets).allSatisfy(r -> assertThat(r.get()).isEqualTo("OK"));
            assertThat(size.get()).isEqualTo(200);

            Transaction t = j.multi();
            t.set(key(500), V);
            t.get(key(500));
            t.incr(key(500)); // unknown here: refused while queuing, so EXEC aborts
            assertThatThrownBy(t::exec).isInstanceOf(JedisDataException.class).hasMessageContaining("EXECABORT");
            assertThat(j.exists(key(500)))
                    .as("nothing ran before or after EXECABORT")
                    .isFalse();

            Transaction ok = j.multi();
            ok.set(key(500), V);
            ok.get(key(500));
            ok.set("short", V); // a run-time error of one command only
            List<Object> results = ok.exec();
            assertThat(results.get(0)).isEqualTo("OK");
            assertThat(results.get(1)).isEqualTo(V);
            assertThat(results.get(2)).isInstanceOf(JedisDataException.class);

            j.watch(key(500));
            other.set(key(500), "changed-by-other");
            Transaction aborted = j.multi();
            aborted.set(key(500), V);
            assertThat(aborted.exec()).as("EXEC after a watched key changed").isNull();
            assertThat(j.get(key(500))).isEqualTo("changed-by-other");

            j.watch(key(501));
            Transaction fine = j.multi();
            fine.set(key(501), V);
            assertThat(fine.exec()).containsExactly("OK");
        }
    }

    @Test
    void jedisNewClientAndRedisClientDefaults() {
        try (Node n = node(null);
                redis.clients.jedis.RedisClient c = redis.clients.jedis.RedisClient.create(
                        "127.0.0.1", n.respAddress().getPort())) {
            assertThat(c.set(key(7), V)).isEqualTo("OK");
            assertThat(c.get(key(7))).isEqualTo(V);
            assertThat(c.mget(key(7), key(8))).containsExactly(V, null);
            assertThat(c.del(key(7))).isEqualTo(1);
        }
    }

    @Test
    void lettuceDefaultsSpeakResp3() throws Exception {
        try (Node n = node(null)) {
            RedisClient client = RedisClient.create(
                    RedisURI.create("127.0.0.1", n.respAddress().getPort()));
            try (StatefulRedisConnection<String, String> c = client.connect();
                    StatefulRedisConnection<String, String> other = client.connect()) {
                RedisCommands<String, String> s = c.sync();
                assertThat(s.clientInfo()).as("Lettuce negotiated RESP3").contains("resp=3");
                assertThat(s.set(key(1), V)).isEqualTo("OK");
                assertThat(s.get(key(1))).isEqualTo(V);
                assertThat(s.get(key(2))).isNull();
                assertThat(s.exists(key(1), key(2))).isEqualTo(1);
                assertThat(s.ttl(key(1))).isEqualTo(-1);
                assertThat(s.pttl(key(2))).isEqualTo(-2);
                assertThat(s.type(key(1))).isEqualTo("string");
                assertThat(s.clientId()).isPositive();
                assertThat(s.clientSetname("lettuce")).isEqualTo("OK");
                assertThat(s.clientGetname()).isEqualTo("lettuce");
                assertThat(s.commandCount()).isEqualTo(RespCommandTable.size());
                assertThat(s.info("memory")).contains("used_memory:");
                assertThat(s.time()).hasSize(2);
                assertThat(s.setGet(key(1), "value-of-16-new!")).isEqualTo(V);

                RedisAsyncCommands<String, String> async = c.async();
                c.setAutoFlushCommands(false);
                List<io.lettuce.core.RedisFuture<String>> futures = new ArrayList<>();
                for (int i = 10; i < 210; i++) {
                    futures.add(async.set(key(i), V));
                }
                c.flushCommands();
                c.setAutoFlushCommands(true);
                for (var f : futures) {
                    assertThat(f.get(10, TimeUnit.SECONDS)).isEqualTo("OK");
                }

                assertThat(s.multi()).isEqualTo("OK");
                s.set(key(300), V);
                s.get(key(300));
                TransactionResult r = s.exec();
                assertThat(r.wasDiscarded()).isFalse();
                assertThat((Object) r.get(1)).isEqualTo(V);

                s.watch(key(300));
                other.sync().del(key(300));
                s.multi();
                s.set(key(300), V);
                assertThat(s.exec().wasDiscarded())
                        .as("EXEC after a watched key was deleted")
                        .isTrue();
                assertThat(s.get(key(300))).isNull();

                Set<String> seen = new HashSet<>();
                ScanIterator<String> it = ScanIterator.scan(s, ScanArgs.Builder.limit(7));
                for (int i = 0; i < 10_000 && it.hasNext(); i++) {
                    seen.add(it.next());
                }
                assertThat(seen).hasSize((int) (long) s.dbsize());
            } finally {
                client.shutdown();
            }
        }
    }

    @Test
    void authWithAPassword() {
        try (Node n = node(RespPassword.of("s3cret-pass"))) {
            int port = n.respAddress().getPort();
            try (Jedis anonymous = new Jedis("127.0.0.1", port)) {
                assertThatThrownBy(() -> anonymous.get(key(1))).hasMessageContaining("NOAUTH");
                assertThatThrownBy(() -> anonymous.auth("wrong")).hasMessageContaining("WRONGPASS");
                assertThat(anonymous.auth("s3cret-pass")).isEqualTo("OK");
                assertThat(anonymous.set(key(1), V)).isEqualTo("OK");
            }
            try (Jedis j = new Jedis(
                    new HostAndPort("127.0.0.1", port),
                    DefaultJedisClientConfig.builder().password("s3cret-pass").build())) {
                assertThat(j.get(key(1))).isEqualTo(V);
            }
            RedisClient client = RedisClient.create(RedisURI.builder()
                    .withHost("127.0.0.1")
                    .withPort(port)
                    .withPassword("s3cret-pass".toCharArray())
                    .build());
            try (StatefulRedisConnection<String, String> c = client.connect()) {
                assertThat(c.sync().get(key(1))).isEqualTo(V);
                assertThat(c.sync().clientInfo()).contains("resp=3");
            } finally {
                client.shutdown();
            }
            RedisClient wrong = RedisClient.create(RedisURI.builder()
                    .withHost("127.0.0.1")
                    .withPort(port)
                    .withPassword("nope".toCharArray())
                    .build());
            try {
                assertThatThrownBy(wrong::connect).hasStackTraceContaining("WRONGPASS");
            } finally {
                wrong.shutdown();
            }
        }
    }

    /**
     * SCAN's promise under concurrent writes: every key present for the whole scan is returned at least once, while
     * another client overwrites those keys (copy-on-write moves them to other slots) and inserts and deletes others
     * (the index grows and shrinks). Seeded; re-run with {@code -Darmdb.seed=N}.
     */
    @Test
    void scanReturnsEveryKeyPresentThroughoutWhileOthersWrite() throws Exception {
        long seed = Long.getLong("armdb.seed", System.nanoTime());
        System.out.println("RedisClientsTest scan seed " + seed);
        Random rnd = new Random(seed);
        try (Node n = node(null);
                Jedis j = new Jedis("127.0.0.1", n.respAddress().getPort());
                Jedis writer = new Jedis("127.0.0.1", n.respAddress().getPort())) {
            int stable = 3_000;
            Pipeline p = j.pipelined();
            for (int i = 0; i < stable; i++) {
                p.set(key(i), V);
            }
            p.sync();
            AtomicBoolean stop = new AtomicBoolean();
            long writerSeed = rnd.nextLong();
            Thread t = Thread.ofPlatform().start(() -> {
                Random w = new Random(writerSeed);
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (!stop.get() && System.nanoTime() < end) {
                    Pipeline wp = writer.pipelined();
                    for (int i = 0; i < 100; i++) {
                        int k = w.nextInt(3);
                        if (k == 0) {
                            wp.set(key(w.nextInt(stable)), String.format("%016d", w.nextInt(1_000_000)));
                        } else if (k == 1) {
                            wp.set(key(stable + w.nextInt(20_000)), V);
                        } else {
                            wp.del(key(stable + w.nextInt(20_000)));
                        }
                    }
                    wp.sync();
                }
            });
            try {
                for (int round = 0; round < 3; round++) {
                    Set<String> seen = new HashSet<>();
                    String cursor = ScanParams.SCAN_POINTER_START;
                    int calls = 0;
                    do {
                        ScanResult<String> r = j.scan(cursor, new ScanParams().count(1 + rnd.nextInt(50)));
                        seen.addAll(r.getResult());
                        cursor = r.getCursor();
                        assertThat(++calls).as("seed %d: the scan ends", seed).isLessThan(1_000_000);
                    } while (!cursor.equals("0"));
                    for (int i = 0; i < stable; i++) {
                        assertThat(seen).as("seed %d round %d", seed, round).contains(key(i));
                    }
                }
            } finally {
                stop.set(true);
                t.join(30_000);
            }
        }
    }
}
