package dev.armdb.replication;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.FixedMap;
import dev.armdb.replication.follower.ReplicationClient;
import dev.armdb.replication.follower.ReplicationClientConfig;
import dev.armdb.replication.leader.ReplicationServer;
import dev.armdb.replication.leader.ReplicationServerConfig;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Without a secret every peer passes the handshake, so the sessions a leader streams to are capped too: a follower
 * beyond the cap gets a transient error and retries, and streams once a place is free. Fails without the cap (the
 * third follower is served at once).
 */
class SessionLimitTest extends ClosingTest {
    private static FixedConfig config() {
        return FixedConfig.builder()
                .keySize(16)
                .valueSize(32)
                .shards(1)
                .durability(Durability.NONE)
                .build();
    }

    @Test
    void followersBeyondTheSessionCapRetryUntilAPlaceIsFree() throws Exception {
        FixedMap leader = track(FixedMap.open(tmp.resolve("leader"), config()));
        for (int i = 0; i < 100; i++) {
            leader.put(ReplicationTest.key(i), ReplicationTest.value(i, 1));
        }
        ReplicationServer server = track(ReplicationServer.start(
                leader, ReplicationServerConfig.defaults().withMaxSessions(2)));
        ReplicationClientConfig ccfg = new ReplicationClientConfig(
                Duration.ofSeconds(2),
                Duration.ofMillis(100),
                Duration.ofSeconds(5),
                Duration.ofMillis(20),
                Duration.ofMillis(200),
                null,
                null,
                null);
        long target = leader.engine().view(0).lastLsn();
        ReplicationClient[] clients = new ReplicationClient[3];
        FixedMap[] followers = new FixedMap[3];
        for (int f = 0; f < 2; f++) {
            followers[f] = track(FixedMap.open(tmp.resolve("f" + f), config()));
            clients[f] = ReplicationClient.start(followers[f], server.address(), ccfg);
            assertThat(clients[f].awaitApplied(0, target, Duration.ofSeconds(20)))
                    .isTrue();
        }
        followers[2] = track(FixedMap.open(tmp.resolve("f2"), config()));
        clients[2] = track(ReplicationClient.start(followers[2], server.address(), ccfg));
        ReplicationFaultTest.awaitUntil(
                () -> "the third follower is refused: " + clients[2].status(),
                Duration.ofSeconds(10),
                () -> server.metrics().sessionsRefused.sum() > 0);
        // the follower notes the refusal when the error frame arrives, after the leader counted it
        ReplicationFaultTest.awaitUntil(
                () -> "the third follower reports the limit: " + clients[2].status(),
                Duration.ofSeconds(10),
                () -> clients[2].status().getFirst().lastError().contains("limit"));
        assertThat(clients[2].appliedLsn(0)).isZero();
        assertThat(clients[2].status().getFirst().state()).isNotEqualTo("FAILED");

        clients[0].close();
        assertThat(clients[2].awaitApplied(0, target, Duration.ofSeconds(20)))
                .as("the third follower streams once a place is free; %s", clients[2].status())
                .isTrue();
        clients[1].close();
    }
}
