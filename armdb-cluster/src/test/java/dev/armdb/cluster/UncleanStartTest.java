package dev.armdb.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.server.NodeConfig;
import dev.armdb.store.EpochStateLayout;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node whose previous epochs are no longer trusted (the open found that writes may have been lost) reports an
 * unclean start, is not made leader by a bootstrap, and does not lead even when the state names it; a clean restart
 * clears the mark.
 */
class UncleanStartTest {
    @TempDir
    Path tmp;

    private StandaloneZooKeeper zk;

    @BeforeEach
    void start() {
        zk = StandaloneZooKeeper.start(tmp.resolve("zk"), new InetSocketAddress("127.0.0.1", 0));
    }

    @AfterEach
    void stop() {
        zk.close();
    }

    private ClusterNode node(String group) {
        FixedConfig cfg = FixedConfig.builder()
                .keySize(4)
                .valueSize(4)
                .shards(1)
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
        return ClusterNode.start(
                nc,
                ClusterConfig.of(zk.connectString(), group, "n1")
                        .withTimings(
                                Duration.ofSeconds(3),
                                Duration.ofSeconds(2),
                                Duration.ofMillis(100),
                                Duration.ofMillis(300),
                                Duration.ofSeconds(60)));
    }

    private static void await(String what, java.util.function.BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!done.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waiting for " + what).isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    @Test
    void anUntrustedHistoryIsReportedAndNeverLedAutomatically() throws Exception {
        try (ClusterNode n = node("first")) {
            assertThat(n.uncleanStart()).isFalse();
            await("bootstrap of a clean node", () -> n.acceptsWrites());
        }
        // the previous open's epoch can no longer be vouched for, as after a power loss
        Files.write(tmp.resolve("n1").resolve(EpochStateLayout.FILE_NAME), new byte[] {1, 2, 3});
        try (ClusterNode n = node("first")) {
            assertThat(n.uncleanStart()).isTrue();
            assertThat(n.member().uncleanStart()).isTrue();
            await("the member read back", () -> n.groupState() != null);
            // still named leader by the state written in the first run, but it must not take writes
            Thread.sleep(1_000);
            assertThat(n.groupState().leader()).isEqualTo("n1");
            assertThat(n.acceptsWrites()).isFalse();
        }
        try (ClusterNode n = node("second")) {
            assertThat(n.uncleanStart()).isFalse();
        }
        Files.write(tmp.resolve("n1").resolve(EpochStateLayout.FILE_NAME), new byte[] {1, 2, 3});
        try (ClusterNode n = node("third")) {
            Thread.sleep(1_500);
            assertThat(n.groupState())
                    .as("no bootstrap with only an unclean member")
                    .isNull();
            assertThat(n.acceptsWrites()).isFalse();
        }
    }
}
