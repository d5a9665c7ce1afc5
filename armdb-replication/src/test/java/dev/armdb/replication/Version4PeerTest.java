package dev.armdb.replication;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.FixedMap;
import dev.armdb.replication.ReplicationFaultTest.Outcome;
import dev.armdb.replication.follower.ReplicationClient;
import dev.armdb.replication.follower.ReplicationClientConfig;
import dev.armdb.replication.leader.ReplicationServer;
import dev.armdb.replication.leader.ReplicationServerConfig;
import dev.armdb.replication.protocol.ErrorCode;
import dev.armdb.replication.protocol.MessageType;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/**
 * Peers of protocol version 4 on 127.0.0.1, speaking the exact frames of the version 4 golden file: a real leader
 * answers a v4 SYNC_REQUEST with PROTOCOL_VERSION naming both versions, and a real follower that meets a v4
 * CHALLENGE stops the shard (FAILED) saying why, without sending anything.
 */
class Version4PeerTest extends ClosingTest {
    private static byte[] v4Payload(String type) throws IOException {
        try (InputStream in = Version4PeerTest.class.getResourceAsStream("/golden/protocol-v4.txt")) {
            assertThat(in).isNotNull();
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.startsWith(type + " ")) {
                    return HexFormat.of().parseHex(line.substring(type.length() + 1));
                }
            }
        }
        throw new AssertionError("no " + type + " in protocol-v4.txt");
    }

    @Test
    void aVersion4FollowerIsRefusedByTheLeader() throws Exception {
        FixedMap leader = track(FixedMap.open(tmp.resolve("leader"), ReplicationTest.config(32, 1024)));
        leader.put(ReplicationTest.key(1), ReplicationTest.value(1, 1));
        ReplicationServer server = track(ReplicationServer.start(leader, ReplicationServerConfig.defaults()));
        byte[] request = v4Payload("SYNC_REQUEST");
        assertThat(request[0]).as("a v4 frame").isEqualTo((byte) 4);
        Outcome o = ReplicationFaultTest.exchange(
                server.address(),
                ReplicationFaultTest.frame(MessageType.SYNC_REQUEST.code(), request),
                false,
                Duration.ofSeconds(5));
        ReplicationFaultTest.assertRefused(
                o, ErrorCode.PROTOCOL_VERSION, "protocol version mismatch: this side speaks 5, the follower 4");
    }

    @Test
    void aVersion4LeaderStopsTheFollowerCleanly() throws Exception {
        FixedMap follower = track(FixedMap.open(tmp.resolve("follower"), ReplicationTest.config(32, 1024)));
        try (ServerSocket fake = new ServerSocket(0, 50, ReplicationFaultTest.LOOPBACK)) {
            ReplicationClient client = track(ReplicationClient.start(
                    follower,
                    new java.net.InetSocketAddress(ReplicationFaultTest.LOOPBACK, fake.getLocalPort()),
                    ReplicationClientConfig.defaults()));
            fake.setSoTimeout(10_000);
            byte[] challenge = ReplicationFaultTest.frame(MessageType.CHALLENGE.code(), v4Payload("CHALLENGE"));
            for (int i = 0; i < ReplicationTest.SHARDS; i++) {
                try (Socket s = fake.accept()) {
                    s.getOutputStream().write(challenge);
                    s.getOutputStream().flush();
                    s.setSoTimeout(5_000);
                    try {
                        assertThat(s.getInputStream().read())
                                .as("the follower sends nothing to a v4 leader")
                                .isEqualTo(-1);
                    } catch (SocketTimeoutException e) {
                        throw new AssertionError("the follower kept a v4 leader's connection open", e);
                    }
                }
            }
            ReplicationFaultTest.awaitUntil(
                    () -> "every shard FAILED: " + client.status(),
                    Duration.ofSeconds(10),
                    () -> client.status().stream().allMatch(st -> st.state().equals("FAILED")));
            assertThat(client.status())
                    .allSatisfy(st -> assertThat(st.lastError())
                            .startsWith("PROTOCOL_VERSION")
                            .contains("this side speaks 5, the leader 4"));
            assertThat(follower.size()).isZero();
        }
    }
}
