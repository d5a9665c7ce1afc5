package dev.armdb.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import io.lettuce.core.ReadFrom;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.masterreplica.MasterReplica;
import io.lettuce.core.masterreplica.StatefulRedisMasterReplicaConnection;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;

/**
 * A real leader node and a real follower node on 127.0.0.1, driven by Lettuce's MasterReplica (a static list of both
 * RESP addresses, and discovered from the leader's address alone through INFO replication) and by Jedis reading ROLE
 * and INFO replication, all at the clients' default settings (Lettuce speaks RESP3). Reads routed to the replica are
 * proven by the follower's {@code total_commands_processed} counting them and the leader's not.
 */
class MasterReplicaTest {
    private static final String V = "value-of-16-byte";
    private static final int READS = 60;

    @TempDir
    Path tmp;

    private Node leader;
    private Node follower;
    private RedisClient client;
    private InetAddress loopback = InetAddress.getLoopbackAddress();
    private Path base;

    @BeforeEach
    void start() throws Exception {
        client = RedisClient.create();
        startPair("v4");
    }

    /** A leader and a follower on {@link #loopback}, in directories under {@code name}, once the link is up. */
    private void startPair(String name) throws InterruptedException {
        base = tmp.resolve(name);
        FixedConfig cfg = FixedConfig.builder()
                .keySize(8)
                .valueSize(16)
                .shards(3)
                .durability(Durability.NONE)
                .build();
        InetSocketAddress any = new InetSocketAddress(loopback, 0);
        leader = Node.start(new NodeConfig(base.resolve("leader"), cfg, any, any, null, null).withIoThreads(1));
        follower = startFollower();
        awaitLinked();
    }

    private Node startFollower() {
        InetSocketAddress any = new InetSocketAddress(loopback, 0);
        return Node.start(new NodeConfig(
                        base.resolve("follower"),
                        leader.map().config(),
                        any,
                        any,
                        leader.replicationServer().address(),
                        null)
                .withIoThreads(1));
    }

    @AfterEach
    void stop() {
        client.shutdown();
        follower.close();
        leader.close();
    }

    private static String key(int i) {
        return String.format("k%07d", i);
    }

    private RedisURI uri(Node n) {
        return RedisURI.create(
                n.respAddress().getAddress().getHostAddress(), n.respAddress().getPort());
    }

    /** Until the leader lists the follower node in ROLE (every shard streaming) and the follower's link is up. */
    private void awaitLinked() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        try (Jedis l = jedis(leader);
                Jedis f = jedis(follower)) {
            while (System.nanoTime() < deadline
                    && !(l.info("replication").contains("state=online")
                            && f.info("replication").contains("master_link_status:up"))) {
                Thread.sleep(20);
            }
            assertThat(l.info("replication")).contains("connected_slaves:1", "state=online");
            assertThat(f.info("replication")).contains("master_link_status:up");
        }
    }

    private static Jedis jedis(Node n) {
        return new Jedis(
                n.respAddress().getAddress().getHostAddress(), n.respAddress().getPort());
    }

    private static long commandsProcessed(Node n) {
        try (Jedis j = jedis(n)) {
            String stats = j.info("stats");
            for (String line : stats.split("\r\n")) {
                if (line.startsWith("total_commands_processed:")) {
                    return Long.parseLong(line.substring(line.indexOf(':') + 1));
                }
            }
            throw new AssertionError("no total_commands_processed in INFO stats: " + stats);
        }
    }

    /**
     * Writes through the connection (they must reach the leader: the follower answers READONLY), waits until the
     * follower holds them, then reads them {@link #READS} times and checks the follower served the reads.
     */
    private void writesToLeaderReadsFromReplica(StatefulRedisMasterReplicaConnection<String, String> c)
            throws InterruptedException {
        RedisCommands<String, String> s = c.sync();
        for (int i = 0; i < 20; i++) {
            assertThat(s.set(key(i), V)).isEqualTo("OK");
        }
        assertThat(s.waitForReplication(1, 10_000)).isEqualTo(1);
        try (Jedis l = jedis(leader);
                Jedis f = jedis(follower)) {
            assertThat(l.get(key(19))).isEqualTo(V);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (f.get(key(19)) == null && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
        }
        long leaderBefore = commandsProcessed(leader);
        long followerBefore = commandsProcessed(follower);
        for (int i = 0; i < READS; i++) {
            assertThat(s.get(key(i % 20))).isEqualTo(V);
        }
        long leaderServed = commandsProcessed(leader) - leaderBefore;
        long followerServed = commandsProcessed(follower) - followerBefore;
        assertThat(followerServed)
                .as("the follower served the reads (leader: %d commands)", leaderServed)
                .isGreaterThanOrEqualTo(READS);
        assertThat(leaderServed).as("the leader served none of the reads").isLessThan(READS);
    }

    @Test
    void staticTopologyReadsFromTheReplica() throws Exception {
        for (ReadFrom readFrom : List.of(ReadFrom.REPLICA, ReadFrom.REPLICA_PREFERRED)) {
            try (StatefulRedisMasterReplicaConnection<String, String> c =
                    MasterReplica.connect(client, StringCodec.UTF8, List.of(uri(leader), uri(follower)))) {
                c.setReadFrom(readFrom);
                assertThat(c.sync().clientInfo()).as("Lettuce negotiated RESP3").contains("resp=3");
                writesToLeaderReadsFromReplica(c);
            }
        }
    }

    @Test
    void discoveredTopologyFindsTheFollowersRespAddress() throws Exception {
        try (StatefulRedisMasterReplicaConnection<String, String> c =
                MasterReplica.connect(client, StringCodec.UTF8, uri(leader))) {
            c.setReadFrom(ReadFrom.REPLICA);
            writesToLeaderReadsFromReplica(c);
        }
    }

    @Test
    void discoveredFromTheFollowerWritesStillReachTheLeader() throws Exception {
        try (StatefulRedisMasterReplicaConnection<String, String> c =
                MasterReplica.connect(client, StringCodec.UTF8, uri(follower))) {
            c.setReadFrom(ReadFrom.REPLICA);
            writesToLeaderReadsFromReplica(c);
        }
    }

    @Test
    void ipv6LoopbackNodesAreDiscoveredToo() throws Exception {
        follower.close();
        leader.close();
        loopback = InetAddress.getByName("::1");
        startPair("v6");
        try (StatefulRedisMasterReplicaConnection<String, String> c =
                MasterReplica.connect(client, StringCodec.UTF8, uri(leader))) {
            c.setReadFrom(ReadFrom.REPLICA);
            writesToLeaderReadsFromReplica(c);
        }
        try (StatefulRedisMasterReplicaConnection<String, String> c =
                MasterReplica.connect(client, StringCodec.UTF8, List.of(uri(leader), uri(follower)))) {
            c.setReadFrom(ReadFrom.REPLICA);
            writesToLeaderReadsFromReplica(c);
        }
    }

    @Test
    void redisCliScansTheFollower() throws Exception {
        String why = runs("redis-cli", "--version") ? null : "redis-cli (Debian: redis-tools) is not on the PATH";
        if (why != null) {
            System.out.println("MasterReplicaTest SKIPPED redis-cli: " + why);
        }
        Assumptions.assumeTrue(why == null, "redis-cli skipped: " + why);
        int keys = 300;
        try (Jedis l = jedis(leader);
                Jedis f = jedis(follower)) {
            for (int i = 0; i < keys; i++) {
                assertThat(l.set(key(i), V)).isEqualTo("OK");
            }
            assertThat(l.waitReplicas(1, 10_000)).isEqualTo(1);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (f.dbSize() < keys && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(f.dbSize()).isEqualTo(keys);
        }
        String port = Integer.toString(follower.respAddress().getPort());
        assertThat(redisCli("-p", port, "--scan").lines().distinct().count()).isEqualTo(keys);
        assertThat(redisCli("-p", port, "--bigkeys")).contains(keys + " strings with " + keys * 16 + " bytes");
    }

    private static String redisCli(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("redis-cli", "-h", "127.0.0.1"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS))
                .as("redis-cli ended within 60 s")
                .isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    private static boolean runs(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (java.io.IOException | InterruptedException e) {
            return false;
        }
    }

    @Test
    void aFollowerThatLeftIsNoLongerDiscovered() throws Exception {
        follower.close();
        try (Jedis l = jedis(leader)) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!l.info("replication").contains("connected_slaves:0") && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(l.info("replication")).contains("connected_slaves:0").doesNotContain("slave0:");
            assertThat((List<?>) l.role().get(2)).isEmpty();
        }
        try (StatefulRedisMasterReplicaConnection<String, String> c =
                MasterReplica.connect(client, StringCodec.UTF8, uri(leader))) {
            c.setReadFrom(ReadFrom.REPLICA_PREFERRED);
            assertThat(c.sync().set(key(1), V)).isEqualTo("OK");
            long before = commandsProcessed(leader);
            for (int i = 0; i < READS; i++) {
                assertThat(c.sync().get(key(1))).isEqualTo(V);
            }
            assertThat(commandsProcessed(leader) - before)
                    .as("with no replica left the leader serves the reads")
                    .isGreaterThanOrEqualTo(READS);
        }
    }

    @Test
    void aRestartedFollowerIsDiscoveredAtItsNewAddress() throws Exception {
        follower.close();
        follower = startFollower();
        awaitLinked();
        String port = Integer.toString(follower.respAddress().getPort());
        try (Jedis l = jedis(leader)) {
            // the previous run's sessions stay listed until the leader notices they are gone
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!l.info("replication").contains("port=" + port + ",") && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            List<?> replicas = (List<?>) l.role().get(2);
            assertThat(replicas).hasSize(1);
            assertThat(((List<?>) replicas.get(0)).get(1)).isEqualTo(port);
        }
        try (StatefulRedisMasterReplicaConnection<String, String> c =
                MasterReplica.connect(client, StringCodec.UTF8, uri(leader))) {
            c.setReadFrom(ReadFrom.REPLICA);
            writesToLeaderReadsFromReplica(c);
        }
    }

    @Test
    void jedisReadsRoleAndInfoReplicationAsRedisShapesThem() throws Exception {
        int leaderResp = leader.respAddress().getPort();
        int followerResp = follower.respAddress().getPort();
        try (Jedis l = jedis(leader);
                Jedis f = jedis(follower)) {
            assertThat(l.set(key(1), V)).isEqualTo("OK");
            assertThat(l.waitReplicas(1, 10_000)).isEqualTo(1);

            List<Object> master = l.role();
            assertThat(master).hasSize(3);
            assertThat(master.get(0)).isEqualTo("master");
            assertThat(master.get(1)).isInstanceOf(Long.class);
            long offset = (Long) master.get(1);
            assertThat(offset).isPositive();
            assertThat((List<?>) master.get(2)).hasSize(1);
            List<?> replica = (List<?>) ((List<?>) master.get(2)).get(0);
            assertThat(replica).hasSize(3);
            assertThat(replica.get(0)).isEqualTo("127.0.0.1");
            assertThat(replica.get(1)).isEqualTo(Integer.toString(followerResp));
            assertThat(Long.parseLong((String) replica.get(2))).isBetween(0L, offset);

            List<Object> slave = f.role();
            assertThat(slave).hasSize(5);
            assertThat(slave.get(0)).isEqualTo("slave");
            assertThat(slave.get(1)).isEqualTo("127.0.0.1");
            assertThat(slave.get(2)).isEqualTo((long) leaderResp);
            assertThat(slave.get(3)).isEqualTo("connected");
            assertThat(slave.get(4)).isInstanceOf(Long.class);

            Map<String, String> li = fields(l.info("replication"));
            assertThat(li).containsEntry("role", "master").containsEntry("connected_slaves", "1");
            assertThat(li.get("slave0")).startsWith("ip=127.0.0.1,port=" + followerResp + ",state=online,offset=");
            assertThat(Long.parseLong(li.get("master_repl_offset"))).isGreaterThanOrEqualTo(offset);
            Map<String, String> fi = fields(f.info("replication"));
            assertThat(fi)
                    .containsEntry("role", "slave")
                    .containsEntry("master_host", "127.0.0.1")
                    .containsEntry("master_port", Integer.toString(leaderResp))
                    .containsEntry("master_link_status", "up")
                    .containsKey("slave_repl_offset");
        }
    }

    private static Map<String, String> fields(String info) {
        Map<String, String> m = new java.util.LinkedHashMap<>();
        for (String line : info.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && !line.startsWith("#")) {
                m.put(line.substring(0, colon), line.substring(colon + 1));
            }
        }
        return m;
    }
}
