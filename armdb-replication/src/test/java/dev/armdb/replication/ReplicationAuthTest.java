package dev.armdb.replication;

import static dev.armdb.replication.ReplicationFaultTest.awaitUntil;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.armdb.FixedMap;
import dev.armdb.replication.ReplicationFaultTest.FakeLeader;
import dev.armdb.replication.ReplicationFaultTest.Outcome;
import dev.armdb.replication.follower.ReplicationClient;
import dev.armdb.replication.follower.ReplicationClientConfig;
import dev.armdb.replication.follower.ShardStatus;
import dev.armdb.replication.leader.ReplicationServer;
import dev.armdb.replication.leader.ReplicationServerConfig;
import dev.armdb.replication.protocol.ErrorCode;
import dev.armdb.replication.protocol.FrameLayout;
import dev.armdb.replication.protocol.MessageType;
import dev.armdb.replication.protocol.SyncRequest;
import java.io.InputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The replication secret on real loopback sessions: matching secrets replicate; a missing or different secret on
 * either side stops the follower with AUTH_FAILED before any data moves; an unauthenticated connection learns nothing
 * beyond the Challenge; a fake leader that cannot prove the secret is refused.
 */
class ReplicationAuthTest extends ClosingTest {
    private static final ReplicationSecret SECRET =
            ReplicationSecret.of("correct horse battery staple".getBytes(StandardCharsets.US_ASCII));
    private static final ReplicationSecret OTHER =
            ReplicationSecret.of("incorrect horse battery staple".getBytes(StandardCharsets.US_ASCII));

    private FixedMap leaderWithData() {
        FixedMap leader = track(FixedMap.open(tmp.resolve("leader"), ReplicationTest.config(32, 1024)));
        for (int i = 0; i < 2_000; i++) {
            leader.put(ReplicationTest.key(i), ReplicationTest.value(i, 0));
        }
        return leader;
    }

    private ReplicationServer serve(FixedMap leader, ReplicationSecret secret) {
        return track(ReplicationServer.start(
                leader, ReplicationServerConfig.defaults().withSecret(secret)));
    }

    private FixedMap follower;

    private ReplicationClient follow(String dir, ReplicationServer server, ReplicationSecret secret) {
        follower = track(FixedMap.open(tmp.resolve(dir), ReplicationTest.config(32, 1024)));
        return track(ReplicationClient.start(
                follower, server.address(), ReplicationClientConfig.defaults().withSecret(secret)));
    }

    private static void awaitAllFailed(ReplicationClient client, String errorPart) {
        awaitUntil(
                () -> "every shard FAILED: " + client.status(),
                Duration.ofSeconds(20),
                () -> client.status().stream().allMatch(s -> s.state().equals("FAILED")));
        for (ShardStatus s : client.status()) {
            assertThat(s.lastError()).startsWith("AUTH_FAILED").contains(errorPart);
            assertThat(s.appliedLsn()).isZero();
        }
    }

    @Test
    void followersWithTheLeadersSecretReplicate() {
        FixedMap leader = leaderWithData();
        ReplicationServer server = serve(leader, SECRET);
        ReplicationClient client = follow("follower", server, SECRET);
        ReplicationFaultTest.awaitConverged(leader, client);
        assertThat(ReplicationTest.contents(follower)).isEqualTo(ReplicationTest.contents(leader));
        assertThat(server.metrics().authFailures.sum()).isZero();
    }

    /**
     * A follower holding a secret cannot trust a refusal from a peer that has not proved the secret (it may be
     * forged), so it keeps retrying with backoff; it never gets data.
     */
    private static void awaitAllRefusedAndRetrying(ReplicationClient client, String errorPart) {
        awaitUntil(
                () -> "every shard refused: " + client.status(),
                Duration.ofSeconds(20),
                () -> client.status().stream().allMatch(s -> s.lastError().contains(errorPart)));
        for (ShardStatus s : client.status()) {
            assertThat(s.state()).isIn("CONNECTING", "BACKING_OFF");
            assertThat(s.lastError()).startsWith("AUTH_FAILED");
            assertThat(s.appliedLsn()).isZero();
        }
    }

    @Test
    void aFollowerWithAnotherSecretIsRefusedBeforeAnyDataAndRetries() {
        FixedMap leader = leaderWithData();
        ReplicationServer server = serve(leader, SECRET);
        ReplicationClient client = follow("follower", server, OTHER);
        awaitAllRefusedAndRetrying(client, "failed authentication");
        awaitUntil(
                () -> "retries refused too: " + server.metrics().authFailures.sum(),
                Duration.ofSeconds(20),
                () -> server.metrics().authFailures.sum() >= 2L * ReplicationTest.SHARDS);
        assertThat(follower.size()).isZero();
    }

    @Test
    void aFollowerWithoutASecretStopsAtALeaderThatRequiresOne() {
        FixedMap leader = leaderWithData();
        ReplicationServer server = serve(leader, SECRET);
        ReplicationClient client = follow("follower", server, null);
        awaitAllFailed(client, "requires a replication secret");
        assertThat(follower.size()).isZero();
    }

    @Test
    void aFollowerWithASecretRefusesALeaderWithoutOne() {
        FixedMap leader = leaderWithData();
        ReplicationServer server = serve(leader, null);
        ReplicationClient client = follow("follower", server, SECRET);
        awaitAllRefusedAndRetrying(client, "has no replication secret");
        assertThat(follower.size()).isZero();
    }

    @Test
    void anUnauthenticatedConnectionLearnsNothingButTheChallenge() throws Exception {
        FixedMap leader = leaderWithData();
        ReplicationServer server = serve(leader, SECRET);
        try (Socket s = ReplicationFaultTest.connect(server.address())) {
            InputStream in = s.getInputStream();
            s.setSoTimeout(5_000);
            byte[] header = in.readNBytes(FrameLayout.HEADER_SIZE);
            assertThat(header[0]).isEqualTo((byte) MessageType.CHALLENGE.code());
            ByteBuffer challenge = ByteBuffer.wrap(in.readNBytes(24)).order(ByteOrder.LITTLE_ENDIAN);
            assertThat(challenge.getShort(2)).as("flags: auth required").isEqualTo((short) 1);
            s.getOutputStream()
                    .write(ReplicationFaultTest.frame(
                            1, ReplicationFaultTest.syncRequest(ReplicationFaultTest.V, 0, new byte[16], 0, 9)));
            Outcome o = ReplicationFaultTest.drain(s, Duration.ofSeconds(5), 10);
            ReplicationFaultTest.assertRefused(o, ErrorCode.AUTH_FAILED, "failed authentication");
        }
        assertThat(server.metrics().authFailures.sum()).isEqualTo(1);
    }

    @Test
    void aFakeLeaderThatCannotProveTheSecretIsRefused() throws Exception {
        follower = track(FixedMap.open(tmp.resolve("follower"), ReplicationTest.config(32, 1024)));
        try (FakeLeader fake = new FakeLeader(true)) {
            ReplicationClient client = track(ReplicationClient.start(
                    follower, fake.address(), ReplicationClientConfig.defaults().withSecret(SECRET)));
            Socket s = fake.next(Duration.ofSeconds(10));
            InputStream in = s.getInputStream();
            s.setSoTimeout(5_000);
            byte[] header = in.readNBytes(FrameLayout.HEADER_SIZE);
            assertThat(header[0]).isEqualTo((byte) MessageType.SYNC_REQUEST.code());
            int reqLen =
                    ByteBuffer.wrap(header, 1, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
            ByteBuffer req = ByteBuffer.wrap(in.readNBytes(reqLen)).order(ByteOrder.LITTLE_ENDIAN);
            assertThat(req.getLong(reqLen - SyncRequest.PROOF_BYTES))
                    .as("the follower's proof is set")
                    .isNotZero();
            // the follower's four shards connect in any order: answer whichever came first
            int shard = req.getInt(4);
            byte[] info = ReplicationFaultTest.shardInfo(
                    ReplicationTest.SHARDS,
                    16,
                    32,
                    follower.engine().meta().slotSize(),
                    follower.engine().meta().routing().code(),
                    1,
                    new byte[16],
                    10,
                    2);
            s.getOutputStream().write(ReplicationFaultTest.frame(MessageType.SHARD_INFO.code(), info));
            awaitUntil(
                    () -> "shard " + shard + " refuses the leader and tries again: " + client.status(),
                    Duration.ofSeconds(10),
                    () -> client.status().get(shard).lastError().startsWith("AUTH_FAILED"));
            assertThat(client.status().get(shard).state()).isIn("CONNECTING", "BACKING_OFF");
            assertThat(client.status().get(shard).lastError())
                    .startsWith("AUTH_FAILED")
                    .contains("leader")
                    .contains("failed authentication");
            assertThat(Files.exists(tmp.resolve("follower").resolve("replica.mark")))
                    .as("nothing of the fake leader was recorded")
                    .isFalse();
        }
    }

    @Test
    void secretsShorterThanSixteenBytesAreRefusedWithTheirLength() throws Exception {
        assertThatThrownBy(() -> ReplicationSecret.of(new byte[15]))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a replication secret needs at least 16 bytes, got 15");
        Path file = tmp.resolve("secret");
        Files.writeString(file, "0123456789abcdef\n");
        Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        assertThat(ReplicationSecret.fromFile(file).toString()).doesNotContain("0123");
        Files.writeString(file, "short\n");
        assertThatThrownBy(() -> ReplicationSecret.fromFile(file))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("got 5");
    }

    @Test
    void aSecretFileOthersCanReadIsRefusedAsSshRefusesAKey() throws Exception {
        Path file = tmp.resolve("secret");
        Files.writeString(file, "0123456789abcdef0123\n");
        for (String mode : new String[] {"rw-r--r--", "rw-r-----", "rw-----w-"}) {
            Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString(mode));
            assertThatThrownBy(() -> ReplicationSecret.fromFile(file))
                    .isInstanceOf(dev.armdb.ArmDbException.class)
                    .hasMessageContaining("accessible by other users (mode " + mode + ")")
                    .hasMessageContaining("chmod 600 " + file);
        }
        Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("r--------"));
        assertThat(ReplicationSecret.fromFile(file)).isNotNull();
    }
}
