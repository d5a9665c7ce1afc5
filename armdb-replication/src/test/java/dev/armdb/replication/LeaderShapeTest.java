package dev.armdb.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.FixedMap;
import dev.armdb.ShardRouting;
import dev.armdb.replication.follower.LeaderShape;
import dev.armdb.replication.follower.ReplicationClient;
import dev.armdb.replication.follower.ReplicationClientConfig;
import dev.armdb.replication.leader.ReplicationServer;
import dev.armdb.replication.leader.ReplicationServerConfig;
import dev.armdb.replication.protocol.ErrorCode;
import dev.armdb.replication.protocol.ProtocolException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;

/**
 * Learning a leader's shape before a follower's collection exists: the probe reports what the leader holds (not a
 * default), goes through authentication both ways, and a collection created from its answer replicates the leader.
 */
class LeaderShapeTest extends ClosingTest {
    private static final ReplicationSecret SECRET =
            ReplicationSecret.of("correct horse battery staple".getBytes(StandardCharsets.US_ASCII));
    private static final ReplicationSecret OTHER =
            ReplicationSecret.of("incorrect horse battery staple".getBytes(StandardCharsets.US_ASCII));
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private FixedMap leader(ShardRouting routing) {
        FixedMap m = track(FixedMap.open(
                tmp.resolve("leader"),
                FixedConfig.builder()
                        .keySize(12)
                        .valueSize(20)
                        .shards(3)
                        .routing(routing)
                        .durability(Durability.NONE)
                        .build()));
        for (int i = 0; i < 500; i++) {
            m.put(key(i), value(i));
        }
        return m;
    }

    private static byte[] key(int i) {
        return String.format("k%011d", i).getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] value(int i) {
        return String.format("v%019d", i).getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void aFollowerCreatedFromTheProbedShapeReplicatesTheLeader() throws IOException {
        FixedMap leader = leader(ShardRouting.KEY_PREFIX);
        ReplicationServer server = track(ReplicationServer.start(leader, ReplicationServerConfig.defaults()));
        LeaderShape shape = LeaderShape.probe(server.address(), ReplicationClientConfig.defaults(), TIMEOUT);
        assertThat(shape).isEqualTo(new LeaderShape(3, 12, 20, ShardRouting.KEY_PREFIX));

        FixedMap follower = track(FixedMap.open(
                tmp.resolve("follower"),
                FixedConfig.builder()
                        .keySize(shape.keySize())
                        .valueSize(shape.valueSize())
                        .shards(shape.shardCount())
                        .routing(shape.routing())
                        .durability(Durability.NONE)
                        .build()));
        ReplicationClient client =
                track(ReplicationClient.start(follower, server.address(), ReplicationClientConfig.defaults()));
        ReplicationFaultTest.awaitConverged(leader, client);
        assertThat(ReplicationTest.contents(follower)).isEqualTo(ReplicationTest.contents(leader));
    }

    @Test
    void theProbeAuthenticatesBothWays() throws IOException {
        FixedMap leader = leader(ShardRouting.HASH);
        ReplicationServer withSecret = track(ReplicationServer.start(
                leader, ReplicationServerConfig.defaults().withSecret(SECRET)));
        assertThat(LeaderShape.probe(
                        withSecret.address(), ReplicationClientConfig.defaults().withSecret(SECRET), TIMEOUT))
                .isEqualTo(new LeaderShape(3, 12, 20, ShardRouting.HASH));
        assertThatThrownBy(() -> LeaderShape.probe(
                        withSecret.address(), ReplicationClientConfig.defaults().withSecret(OTHER), TIMEOUT))
                .isInstanceOfSatisfying(
                        ProtocolException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.AUTH_FAILED));
        assertThatThrownBy(() -> LeaderShape.probe(withSecret.address(), ReplicationClientConfig.defaults(), TIMEOUT))
                .isInstanceOfSatisfying(
                        ProtocolException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.AUTH_FAILED))
                .hasMessageContaining("requires a replication secret");
    }

    @Test
    void noLeaderOrTlsIsAClearError() throws Exception {
        InetSocketAddress nobody;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            nobody = new InetSocketAddress(s.getInetAddress(), s.getLocalPort());
        }
        InetSocketAddress closed = nobody;
        assertThatThrownBy(() -> LeaderShape.probe(closed, ReplicationClientConfig.defaults(), TIMEOUT))
                .isInstanceOf(IOException.class);
        assertThatThrownBy(() -> LeaderShape.probe(
                        closed, ReplicationClientConfig.defaults().withTls(SSLContext.getDefault()), TIMEOUT))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("TLS");
    }
}
