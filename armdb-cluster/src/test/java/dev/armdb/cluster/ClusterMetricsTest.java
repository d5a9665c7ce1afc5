package dev.armdb.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.server.Node;
import dev.armdb.server.NodeConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code armdb.cluster.*} counters and gauges as a node serves them: in Prometheus text at {@code /metrics} and in
 * {@code INFO cluster}; and the fenced-writes counter counting each refused write once, whichever command path refused
 * it. Loopback only; every wait bounded.
 */
class ClusterMetricsTest {
    @TempDir
    Path tmp;

    private static FixedConfig config() {
        return FixedConfig.builder()
                .keySize(8)
                .valueSize(8)
                .shards(2)
                .durability(Durability.GROUP)
                .build();
    }

    private NodeConfig nodeConfig(String id, boolean metrics) {
        return new NodeConfig(
                        tmp.resolve(id),
                        config(),
                        new InetSocketAddress("127.0.0.1", 0),
                        new InetSocketAddress("127.0.0.1", 0),
                        null,
                        metrics ? new InetSocketAddress("127.0.0.1", 0) : null)
                .withIoThreads(1);
    }

    /**
     * A fenced leader's refusals are counted once per write the client sent: the in-place SET path looks at the gate
     * before the general path answers, and a look is not a refusal; {@code acceptsWrites}-style looks count nothing.
     */
    @Test
    void eachWriteTheFenceRefusesIsCountedOnce() throws IOException {
        ClusterMetrics metrics = new ClusterMetrics();
        LeaderFence fence = new LeaderFence(TimeUnit.SECONDS.toNanos(4), System::nanoTime, "g1", metrics);
        fence.confirmLeader(System.nanoTime(), 1);
        fence.lost();
        try (Node node = Node.start(nodeConfig("n1", false), fence);
                Resp r = new Resp(node.respAddress())) {
            assertThat(r.call("SET", "k0000001", "v0000001")).startsWith("-READONLY");
            assertThat(r.call("SET", "k0000001", "v0000001", "XX")).startsWith("-READONLY");
            assertThat(r.call("DEL", "k0000001")).startsWith("-READONLY");
            assertThat(r.call("MSET", "k0000001", "v0000001", "k0000002", "v0000002"))
                    .startsWith("-READONLY");
            assertThat(r.call("GET", "k0000001")).isNull();
            assertThat(fence.mayWrite()).isFalse();
            assertThat(metrics.fencedWrites.sum()).isEqualTo(4);
            assertThat(metrics.counters()).containsEntry("armdb.cluster.fenced_writes", 4L);
        }
    }

    /**
     * A node alone in its group: after the bootstrap its {@code /metrics} and INFO show term 1, one controller
     * election, no failover; after ZooKeeper stops, every write it refuses shows in the fenced-writes counter.
     */
    @Test
    void aClusterNodeServesItsCountersAtSlashMetricsAndInInfo() throws Exception {
        StandaloneZooKeeper zk = StandaloneZooKeeper.start(tmp.resolve("zk"), new InetSocketAddress("127.0.0.1", 0));
        try {
            ClusterConfig cc = ClusterConfig.of(zk.connectString() + "/metrics-test", "g1", "n1")
                    .withTimings(
                            Duration.ofSeconds(3),
                            Duration.ofSeconds(2),
                            Duration.ofMillis(100),
                            Duration.ofMillis(500),
                            Duration.ofSeconds(60));
            try (ClusterNode n = ClusterNode.start(nodeConfig("n1", true), cc)) {
                await("the node leads its group", 60, n::acceptsWrites);
                InetSocketAddress metrics = n.node().metricsAddress();
                String text = scrape(metrics);
                assertThat(value(text, "armdb_cluster_term")).isEqualTo(1);
                assertThat(value(text, "armdb_cluster_isr_size")).isZero();
                assertThat(value(text, "armdb_cluster_controller")).isEqualTo(1);
                assertThat(value(text, "armdb_cluster_controller_elections_total"))
                        .isEqualTo(1);
                assertThat(value(text, "armdb_cluster_failovers_total")).isZero();
                assertThat(value(text, "armdb_cluster_fenced_writes_total")).isZero();
                assertThat(text).contains("armdb_slots_live{shard=\"0\"}");
                try (Resp r = new Resp(n.node().respAddress())) {
                    long beforeSet = System.nanoTime();
                    assertThat(r.call("SET", "k0000001", "v0000001")).isEqualTo("+OK");
                    long afterSet = System.nanoTime();
                    String info = info(r, "cluster");
                    long[] accepted = accepted(info, 1);
                    assertThat(accepted[0]).isBetween(beforeSet, afterSet);
                    assertThat(accepted[1]).isEqualTo(accepted[0]);
                    assertThat(info)
                            .startsWith("# Cluster\r\ncluster_enabled:0\r\n")
                            .contains("armdb_cluster_group:g1\r\n")
                            .contains("armdb_cluster_node_id:n1\r\n")
                            .contains("armdb_cluster_role:leader\r\n")
                            .contains("armdb_cluster_leader:n1\r\n")
                            .contains("armdb_cluster_term:1\r\n")
                            .contains("armdb_cluster_accepts_writes:1\r\n")
                            .contains("armdb_cluster_controller_elections:1\r\n")
                            .contains("armdb_cluster_fenced_writes:0\r\n")
                            .contains("armdb_cluster_stale_term_sent:0\r\n")
                            .contains("armdb_cluster_stale_term_received:0\r\n")
                            .containsPattern("armdb_cluster_monotonic_nanos:-?\\d+\r\n");
                    assertThat(info(r, "")).contains("# Replication\r\n").contains("# Cluster\r\n");
                    assertThat(info(r, "replication")).doesNotContain("# Cluster");

                    zk.close();
                    int refused = 0;
                    long firstRefusedAt = 0;
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                    for (int i = 2; refused < 5; i++) {
                        assertThat(System.nanoTime()).as("writes fenced").isLessThan(deadline);
                        String reply = r.call("SET", String.format("k%07d", i), "v0000001");
                        if (reply.startsWith("-")) {
                            assertThat(reply).matches("-(TRYAGAIN|READONLY) .*");
                            firstRefusedAt = refused == 0 ? System.nanoTime() : firstRefusedAt;
                            refused++;
                        } else {
                            Thread.sleep(20);
                        }
                    }
                    assertThat(value(scrape(metrics), "armdb_cluster_fenced_writes_total"))
                            .isEqualTo(refused);
                    assertThat(info(r, "cluster")).contains("armdb_cluster_fenced_writes:" + refused + "\r\n");
                    assertThat(n.fencedWrites()).isEqualTo(refused);
                    // the fence recorded no accept after it began refusing (whatever it accepted before)
                    long[] fenced = accepted(info(r, "cluster"), 1);
                    assertThat(fenced[0]).isEqualTo(accepted[0]);
                    assertThat(fenced[1]).isLessThan(firstRefusedAt);
                }
            }
        } finally {
            zk.close();
        }
    }

    private static String info(Resp r, String section) throws IOException {
        return section.isEmpty() ? r.call("INFO") : r.call("INFO", section);
    }

    private static void await(String what, long seconds, BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!done.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waiting for " + what).isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    /** The value of the unlabelled sample {@code name} in Prometheus text; fails if it is missing. */
    private static long value(String text, String name) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + " ([0-9.eE+-]+)$")
                .matcher(text);
        assertThat(m.find()).as("sample %s in%n%s", name, text).isTrue();
        return (long) Double.parseDouble(m.group(1));
    }

    /** GET /metrics over one connection; the body. */
    private static String scrape(InetSocketAddress at) throws IOException {
        try (Socket s = new Socket("127.0.0.1", at.getPort())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            String all = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertThat(all).startsWith("HTTP/1.1 200 OK");
            return all.substring(all.indexOf("\r\n\r\n") + 4);
        }
    }

    /** The first and last accept times INFO cluster reports for {@code term}. */
    private static long[] accepted(String info, long term) {
        Matcher m = Pattern.compile(
                        "armdb_cluster_accepted\\d+:term=" + term + ",first_nanos=(-?\\d+),last_nanos=(-?\\d+)\r\n")
                .matcher(info);
        assertThat(m.find()).as("accepts of term %d in%n%s", term, info).isTrue();
        return new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))};
    }
}
