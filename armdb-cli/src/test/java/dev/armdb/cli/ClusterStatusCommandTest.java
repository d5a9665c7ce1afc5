package dev.armdb.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.cluster.ClusterConfig;
import dev.armdb.cluster.ClusterNode;
import dev.armdb.cluster.StandaloneZooKeeper;
import dev.armdb.server.NodeConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code armdb cluster status} in this JVM: a table and JSON of a live one-node group; a bounded, clear failure. */
class ClusterStatusCommandTest {
    @TempDir
    Path tmp;

    /** Runs the command line; returns {status, stdout, stderr}. */
    private static String[] run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        int status;
        try {
            status = Main.run(args);
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        return new String[] {
            Integer.toString(status), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)
        };
    }

    @Test
    void unreachableZooKeeperIsAClearErrorWithinTheTimeout() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        long t0 = System.nanoTime();
        String[] r = run("cluster", "status", "--cluster", "127.0.0.1:" + port, "--timeout", "1s");
        assertThat(r[0]).isEqualTo("2");
        // in this JVM another test may have made the ZooKeeper client's logger before the command could quiet it
        assertThat(r[2])
                .containsPattern("(?m)^armdb cluster status: cannot reach ZooKeeper at 127\\.0\\.0\\.1:" + port
                        + " within 1000 ms");
        assertThat(r[1]).isEmpty();
        assertThat(System.nanoTime() - t0).isLessThan(TimeUnit.SECONDS.toNanos(20));
    }

    @Test
    void showsTheGroupItsLeaderAndTheNodesAsATableAndAsJson() throws Exception {
        try (StandaloneZooKeeper zk =
                StandaloneZooKeeper.start(tmp.resolve("zk"), new InetSocketAddress("127.0.0.1", 0))) {
            String cluster = zk.connectString() + "/status-test";
            FixedConfig cfg = FixedConfig.builder()
                    .keySize(8)
                    .valueSize(8)
                    .shards(2)
                    .durability(Durability.GROUP)
                    .build();
            NodeConfig nc = new NodeConfig(
                            tmp.resolve("n1"),
                            cfg,
                            new InetSocketAddress("127.0.0.1", 0),
                            new InetSocketAddress("127.0.0.1", 0),
                            null,
                            null)
                    .withIoThreads(1);
            ClusterConfig cc = ClusterConfig.of(cluster, "g1", "n1")
                    .withTimings(
                            Duration.ofSeconds(3),
                            Duration.ofSeconds(2),
                            Duration.ofMillis(100),
                            Duration.ofMillis(500),
                            Duration.ofSeconds(60));
            try (ClusterNode n = ClusterNode.start(nc, cc)) {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (n.groupState() == null
                        || !n.isController()
                        || n.member().term() != n.groupState().term()) {
                    assertThat(System.nanoTime()).as("the node leads its group").isLessThan(deadline);
                    Thread.sleep(50);
                }
                String[] text = run("cluster", "status", "--cluster", cluster);
                assertThat(text[0]).as(text[2]).isEqualTo("0");
                assertThat(text[1])
                        .startsWith("cluster " + cluster + ": controller n1, 1 group (read ")
                        .contains("group g1: leader n1, term 1, ISR [], min in-sync 0")
                        .contains("last failover: none")
                        .containsPattern(
                                "(?m)^  n1 +leader +yes +- +1 +group +127\\.0\\.0\\.1:\\d+ +- +- +0 +0 \\(shard 0\\)$");
                String[] json = run("cluster", "status", "--cluster", cluster, "--json");
                assertThat(json[0]).isEqualTo("0");
                assertThat(json[1])
                        .startsWith("{\n  \"format\": 1,\n  \"connect\": \"" + cluster + "\",")
                        .contains("\"controller\": \"n1\"")
                        .contains("\"group\": \"g1\"")
                        .contains("\"role\": \"leader\"")
                        .contains("\"lag\": 0");
            }
        }
    }
}
