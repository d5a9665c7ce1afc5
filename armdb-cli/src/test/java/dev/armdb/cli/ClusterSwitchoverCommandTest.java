package dev.armdb.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.cluster.ClusterConfig;
import dev.armdb.cluster.ClusterNode;
import dev.armdb.cluster.GroupState;
import dev.armdb.cluster.StandaloneZooKeeper;
import dev.armdb.server.NodeConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code armdb cluster switchover} against a group of two nodes in this JVM (ZooKeeper on loopback): it hands the
 * leadership to the follower and exits 0; a switchover that cannot be done exits 1 with the reason.
 */
class ClusterSwitchoverCommandTest {
    @TempDir
    Path tmp;

    /** Runs the command line, capturing both streams; returns {status, stdout, stderr}. */
    private static Object[] run(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
        int status;
        try {
            status = Main.run(args);
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        return new Object[] {status, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8)};
    }

    private ClusterNode node(String connect, String id) {
        FixedConfig cfg = FixedConfig.builder()
                .keySize(8)
                .valueSize(8)
                .shards(2)
                .durability(Durability.GROUP)
                .build();
        InetSocketAddress any = new InetSocketAddress("127.0.0.1", 0);
        return ClusterNode.start(
                new NodeConfig(tmp.resolve(id), cfg, any, any, null, null).withIoThreads(1),
                ClusterConfig.of(connect, "g", id)
                        .withTimings(
                                Duration.ofSeconds(3),
                                Duration.ofSeconds(2),
                                Duration.ofMillis(100),
                                Duration.ofMillis(500),
                                Duration.ofSeconds(60)));
    }

    @Test
    void handsTheLeadershipToTheFollowerOrSaysWhyNot() throws Exception {
        List<ClusterNode> nodes = new ArrayList<>();
        try (StandaloneZooKeeper zk =
                StandaloneZooKeeper.start(tmp.resolve("zk"), new InetSocketAddress("127.0.0.1", 0))) {
            String connect = zk.connectString() + "/cli-test";
            Object[] r = run("cluster", "switchover", "--cluster", connect, "--group", "g", "--to", "n2");
            assertThat(r[0]).as("%s", r[2]).isEqualTo(1);
            assertThat((String) r[2]).contains("group g has no state");

            try {
                nodes.add(node(connect, "n1"));
                nodes.add(node(connect, "n2"));
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (!formed(nodes)) {
                    assertThat(System.nanoTime()).as("group formed").isLessThan(deadline);
                    Thread.sleep(20);
                }
                GroupState s = nodes.get(0).groupState();
                String follower = s.isr().get(0);
                r = run("cluster", "switchover", "--cluster", connect, "--group", "g", "--to", s.leader());
                assertThat(r[0]).isEqualTo(1);
                assertThat((String) r[2]).contains("leads group g already");

                r = run(
                        "cluster",
                        "switchover",
                        "--cluster",
                        connect,
                        "--group",
                        "g",
                        "--to",
                        follower,
                        "--timeout",
                        "60s");
                assertThat(r[0]).as("stdout %s stderr %s", r[1], r[2]).isEqualTo(0);
                assertThat((String) r[1]).contains("done: group g led by " + follower);
            } finally {
                for (ClusterNode n : nodes) {
                    n.close();
                }
            }
        }
    }

    /** One node leads and the other is in its ISR. */
    private static boolean formed(List<ClusterNode> nodes) {
        GroupState s = nodes.get(0).groupState();
        return s != null
                && s.isr().size() == 1
                && nodes.stream().filter(ClusterNode::acceptsWrites).count() == 1;
    }
}
