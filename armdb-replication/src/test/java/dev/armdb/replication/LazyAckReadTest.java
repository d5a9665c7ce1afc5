package dev.armdb.replication;

import static dev.armdb.replication.ReplicationFaultTest.awaitConverged;
import static dev.armdb.replication.ReplicationFaultTest.awaitUntil;
import static dev.armdb.replication.ReplicationFaultTest.config;
import static dev.armdb.replication.ReplicationFaultTest.contents;
import static dev.armdb.replication.ReplicationFaultTest.key;
import static dev.armdb.replication.ReplicationFaultTest.value;
import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.FixedMap;
import dev.armdb.replication.follower.ReplicationClient;
import dev.armdb.replication.follower.ReplicationClientConfig;
import dev.armdb.replication.leader.FollowerStatus;
import dev.armdb.replication.leader.ReplicationServer;
import dev.armdb.replication.leader.ReplicationServerConfig;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * A leader reads the acks nobody waits for only every {@link ReplicationServerConfig#ackReadInterval} (here an
 * hour, so that within the peer timeout only the other triggers read them): a waiter ({@code awaitReplicated}, what {@code WAIT} uses)
 * still sees every ack at once, and a window the unread acks would fill still opens.
 *
 * <p>Mutation check (done when written, each fails here): waiters that do not make the sessions read acks as they
 * arrive fail the first test (the wait times out); a full window that does not watch the socket for the next ack
 * fails the second (the stream stalls).
 */
class LazyAckReadTest extends ClosingTest {
    private static final Duration NEVER = Duration.ofHours(1);
    /** A session reads its follower's frames at least every half of it, whatever the ack read interval. */
    private static final Duration PEER_TIMEOUT = Duration.ofSeconds(60);
    /** Well below half the peer timeout: what only that read would bring fails the test. */
    private static final Duration BOUND = Duration.ofSeconds(10);

    @Test
    void aWaiterSeesAcksTheLeaderHadLeftUnread() {
        FixedMap leader = track(FixedMap.open(tmp.resolve("leader"), config(32, 1)));
        FixedMap follower = track(FixedMap.open(tmp.resolve("follower"), config(32, 1)));
        ReplicationServer server = startLeader(
                leader, ReplicationServerConfig.defaults().withTimeouts(Duration.ofMillis(100), PEER_TIMEOUT));
        ReplicationClient client = followConverged(leader, follower, server);
        // past the catch-up and with no waiter the acks are left in the socket until half the window is unacknowledged
        // or half the peer timeout has passed: the waiter has to make the session read them
        for (int round = 0; round < 20; round++) {
            leader.put(key(round), value(32, round, 1));
            long lsn = leader.engine().view(0).lastLsn();
            assertThat(client.awaitApplied(0, lsn, Duration.ofSeconds(30))).isTrue();
            assertThat(server.awaitReplicated(0, lsn, 1, BOUND))
                    .as("round %d: the follower acknowledged LSN %d; %s", round, lsn, server.status())
                    .isTrue();
        }
        assertThat(contents(follower)).isEqualTo(contents(leader));
    }

    @Test
    void aWindowFullOfUnreadAcksStillOpens() {
        FixedMap leader = track(FixedMap.open(tmp.resolve("leader"), config(32, 1)));
        FixedMap follower = track(FixedMap.open(tmp.resolve("follower"), config(32, 1)));
        ReplicationServer server = startLeader(
                leader,
                ReplicationServerConfig.defaults()
                        .withTimeouts(Duration.ofSeconds(1), PEER_TIMEOUT)
                        .withWindow(2, 4096));
        ReplicationClient client = followConverged(leader, follower, server);
        // one write at a time, each its own batch: far more batches than the window holds, none of them waited for
        for (int i = 0; i < 2_000; i++) {
            leader.put(key(i), value(32, i, 2));
            if (i % 50 == 0) {
                LockSupport.parkNanos(200_000);
            }
        }
        long lsn = leader.engine().view(0).lastLsn();
        awaitUntil(
                () -> "the follower applies LSN " + lsn + " with nobody waiting; " + server.status(),
                BOUND,
                () -> client.status().getFirst().appliedLsn() >= lsn);
        assertThat(contents(follower)).isEqualTo(contents(leader));
        FollowerStatus st = server.status().getFirst();
        assertThat(st.state()).isEqualTo("STREAMING");
    }

    /** Serves {@code leader} with {@code config}, reading the acks nobody waits for hourly. */
    private ReplicationServer startLeader(FixedMap leader, ReplicationServerConfig config) {
        return track(ReplicationServer.start(leader, config.withAckReadInterval(NEVER)));
    }

    /** Starts {@code follower} following {@code server}; returns once it has caught up. */
    private ReplicationClient followConverged(FixedMap leader, FixedMap follower, ReplicationServer server) {
        ReplicationClient client =
                track(ReplicationClient.start(follower, server.address(), ReplicationClientConfig.defaults()));
        awaitConverged(leader, client);
        return client;
    }
}
