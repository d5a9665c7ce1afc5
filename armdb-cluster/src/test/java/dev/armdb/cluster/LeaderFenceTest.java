package dev.armdb.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The leader's self-fencing over a fake monotonic clock. */
class LeaderFenceTest {
    private static final long LEASE = 2_000_000_000L;

    private long now = 1_000;
    private final LeaderFence fence = new LeaderFence(LEASE, () -> now, "g");

    /** Confirms leadership in term 1 and lets the new leader's wait (one lease) pass, as the tests below assume. */
    private void lead() {
        fence.confirmLeader(now, 1);
        now += LEASE;
        fence.confirmLeader(now, 1);
    }

    @Test
    void aNewTermIsWritableOnlyOneLeaseAfterItsFirstConfirmationAndNotAgainForTheSameTerm() {
        fence.confirmLeader(now, 3);
        long named = now;
        assertThat(fence.refuseWrite()).isEqualTo(LeaderFence.TAKING_OVER);
        now = named + LEASE - 1;
        fence.confirmLeader(now, 3);
        assertThat(fence.refuseWrite()).isEqualTo(LeaderFence.TAKING_OVER);
        now = named + LEASE;
        assertThat(fence.refuseWrite()).isNull();
        // losing and regaining the session in the same term does not wait again
        fence.lost();
        fence.confirmLeader(now, 3);
        assertThat(fence.refuseWrite()).isNull();
        // a later term waits again
        fence.confirmLeader(now, 5);
        assertThat(fence.refuseWrite()).isEqualTo(LeaderFence.TAKING_OVER);
        assertThat(fence.ledTerm()).isEqualTo(5);
    }

    /**
     * A term reached by a planned switchover is writable at once: the predecessor stopped taking writes before the
     * term was written. A later term reached otherwise waits again.
     */
    @Test
    void aTermHandedOverIsWritableAtOnce() {
        fence.confirmLeader(now, 4, true);
        assertThat(fence.refuseWrite()).isNull();
        // only the first confirmation in a term decides; the hand-over is not a lasting state
        fence.confirmLeader(now, 4, false);
        assertThat(fence.refuseWrite()).isNull();
        fence.confirmLeader(now, 6, false);
        assertThat(fence.refuseWrite()).isEqualTo(LeaderFence.TAKING_OVER);
    }

    /**
     * A step-down (its node then closes its clients' connections) is a confirmed leader told another node leads, or
     * losing its session; not a suspension with a reconnection of the same session, not a node that never led, not
     * closing. While it holds itself the leader (leading or suspended) the node does not call itself a replica.
     */
    @Test
    void stepDownsCountOnlyALeaderThatStopsLeading() {
        fence.notLeader("no group state yet");
        fence.lost();
        assertThat(fence.stepDowns()).as("never led").isZero();
        assertThat(fence.leads()).isFalse();
        lead();
        assertThat(fence.leads()).isTrue();
        fence.suspended();
        assertThat(fence.leads()).as("suspended: may still be the leader").isTrue();
        fence.reconnected();
        fence.confirmLeader(now, 1);
        assertThat(fence.stepDowns()).as("suspended and reconnected").isZero();
        fence.notLeader("the group state names n2");
        assertThat(fence.stepDowns()).isEqualTo(1);
        fence.notLeader("the group state names n2");
        assertThat(fence.stepDowns()).as("once per step-down").isEqualTo(1);
        fence.confirmLeader(now, 2);
        fence.suspended();
        fence.reconnected();
        fence.lost();
        assertThat(fence.stepDowns())
                .as("lost after a reconnection not yet confirmed")
                .isEqualTo(2);
        fence.confirmLeader(now, 2);
        fence.closing();
        assertThat(fence.stepDowns()).as("closing").isEqualTo(2);
        assertThat(fence.leads()).isFalse();
    }

    @Test
    void writesOnlyWithinTheLeaseFromTheLastConfirmedRoundTripStart() {
        assertThat(fence.refuseWrite()).isEqualTo(LeaderFence.NOT_LEADER);
        lead();
        long start = now;
        now += 500_000_000L;
        fence.confirmLeader(start, 1);
        assertThat(fence.refuseWrite()).isNull();
        now = start + LEASE - 1;
        assertThat(fence.refuseWrite()).isNull();
        now = start + LEASE;
        assertThat(fence.refuseWrite()).isEqualTo(LeaderFence.LEASE_EXPIRED);
        fence.confirmLeader(now, 1);
        assertThat(fence.refuseWrite()).isNull();
        assertThat(fence.fencedWrites()).isEqualTo(1);
    }

    @Test
    void aLateReplyOfAnOlderRoundTripNeverShortensNorWronglyExtendsTheLease() {
        lead();
        long first = now;
        fence.confirmLeader(first - 1_000_000_000L, 1);
        now = first + LEASE - 1;
        assertThat(fence.refuseWrite()).isNull();
        now = first + LEASE;
        assertThat(fence.refuseWrite()).isEqualTo(LeaderFence.LEASE_EXPIRED);
    }

    @Test
    void suspendedAnswersTryAgainAndOnlyTheNextConfirmationResumes() {
        lead();
        fence.suspended();
        assertThat(fence.refuseWrite()).isEqualTo(LeaderFence.SUSPENDED);
        // a round trip that completes while suspended does not lift it
        fence.confirmLeader(now, 1);
        assertThat(fence.refuseWrite()).isEqualTo(LeaderFence.SUSPENDED);
        fence.reconnected();
        assertThat(fence.refuseWrite()).isEqualTo(LeaderFence.NOT_LEADER);
        fence.confirmLeader(now, 1);
        assertThat(fence.refuseWrite()).isNull();
    }

    @Test
    void lostOrAnotherLeaderNamedStopsWritesAtOnceEvenWithinTheLease() {
        lead();
        fence.lost();
        assertThat(fence.state()).isEqualTo(LeaderFence.State.LOST);
        assertThat(fence.refuseWrite()).isEqualTo(LeaderFence.NOT_LEADER);
        fence.confirmLeader(now, 1);
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
