package dev.armdb.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The leader's self-fencing over a fake monotonic clock. */
class LeaderFenceTest {
    private static final long LEASE = 2_000_000_000L;

    private long now = 1_000;
    private final LeaderFence fence = new LeaderFence(LEASE, () -> now, "g");

    @Test
    void writesOnlyWithinTheLeaseFromTheLastConfirmedRoundTripStart() {
        assertThat(fence.refuseWrite()).isEqualTo(LeaderFence.NOT_LEADER);
        long start = now;
        now += 500_000_000L;
        fence.confirmLeader(start);
        assertThat(fence.refuseWrite()).isNull();
        now = start + LEASE - 1;
        assertThat(fence.refuseWrite()).isNull();
        now = start + LEASE;
        assertThat(fence.refuseWrite()).isEqualTo(LeaderFence.LEASE_EXPIRED);
        fence.confirmLeader(now);
        assertThat(fence.refuseWrite()).isNull();
        assertThat(fence.fencedWrites()).isEqualTo(1);
    }

    @Test
    void aLateReplyOfAnOlderRoundTripNeverShortensNorWronglyExtendsTheLease() {
        fence.confirmLeader(now);
        long first = now;
        fence.confirmLeader(first - 1_000_000_000L);
        now = first + LEASE - 1;
        assertThat(fence.refuseWrite()).isNull();
        now = first + LEASE;
        assertThat(fence.refuseWrite()).isEqualTo(LeaderFence.LEASE_EXPIRED);
    }

    @Test
    void suspendedAnswersTryAgainAndOnlyTheNextConfirmationResumes() {
        fence.confirmLeader(now);
        fence.suspended();
        assertThat(fence.refuseWrite()).isEqualTo(LeaderFence.SUSPENDED);
        // a round trip that completes while suspended does not lift it
        fence.confirmLeader(now);
        assertThat(fence.refuseWrite()).isEqualTo(LeaderFence.SUSPENDED);
        fence.reconnected();
        assertThat(fence.refuseWrite()).isEqualTo(LeaderFence.NOT_LEADER);
        fence.confirmLeader(now);
        assertThat(fence.refuseWrite()).isNull();
    }

    @Test
    void lostOrAnotherLeaderNamedStopsWritesAtOnceEvenWithinTheLease() {
        fence.confirmLeader(now);
        fence.lost();
        assertThat(fence.state()).isEqualTo(LeaderFence.State.LOST);
        assertThat(fence.refuseWrite()).isEqualTo(LeaderFence.NOT_LEADER);
        fence.confirmLeader(now);
        assertThat(fence.refuseWrite()).isNull();
        fence.notLeader("another node named");
        assertThat(fence.refuseWrite()).isEqualTo(LeaderFence.NOT_LEADER);
        assertThat(fence.refuseRoleChange()).startsWith("ERR REPLICAOF is not allowed in cluster mode");
    }

    @Test
    void aSuspensionOfANonLeaderChangesNothing() {
        fence.suspended();
        assertThat(fence.state()).isEqualTo(LeaderFence.State.NOT_LEADER);
        fence.reconnected();
        assertThat(fence.state()).isEqualTo(LeaderFence.State.NOT_LEADER);
    }
}
