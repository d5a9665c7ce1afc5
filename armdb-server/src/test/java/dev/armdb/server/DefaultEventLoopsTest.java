package dev.armdb.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How many RESP event loops a node runs when its configuration leaves the count to it: one per core but one, at
 * least one, and that count of loop threads really running in a started node.
 */
class DefaultEventLoopsTest {
    @TempDir
    Path tmp;

    @Test
    void aNodeLeavesOneCoreToReplicationAndTheGroupCommit() {
        assertThat(RespServer.defaultEventLoops(1)).isEqualTo(1);
        assertThat(RespServer.defaultEventLoops(2)).isEqualTo(1);
        assertThat(RespServer.defaultEventLoops(3)).isEqualTo(2);
        assertThat(RespServer.defaultEventLoops(8)).isEqualTo(7);
        assertThat(RespServer.defaultEventLoops(64)).isEqualTo(63);
    }

    @Test
    void aNodeStartedWithoutAnIoThreadCountRunsTheDefaultNumberOfLoops() {
        FixedConfig cfg = FixedConfig.builder()
                .keySize(8)
                .valueSize(8)
                .shards(2)
                .durability(Durability.NONE)
                .build();
        InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        int expected = RespServer.defaultEventLoops(Runtime.getRuntime().availableProcessors());
        try (Node n = Node.start(new NodeConfig(tmp.resolve("n"), cfg, any, any, null, null))) {
            assertThat(n.runningEventLoops()).isEqualTo(expected);
        }
    }
}
