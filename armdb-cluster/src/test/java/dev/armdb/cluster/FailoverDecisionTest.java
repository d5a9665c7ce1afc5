package dev.armdb.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.cluster.FailoverDecision.Decision;
import dev.armdb.cluster.FailoverDecision.Input;
import dev.armdb.cluster.FailoverDecision.Kind;
import dev.armdb.cluster.FailoverDecision.Policy;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The controller's decisions over tables of member states, the hostile ones first. */
class FailoverDecisionTest {
    private static final Policy POLICY = new Policy(1_000, 60_000);
    private static final long NOW = 10_000_000;

    /** A follower of {@code leader} at {@code term}, streaming, GROUP durability, clean. */
    private static MemberInfo follower(String id, String leader, long term, long... lsns) {
        return new MemberInfo(
                id, "h:1", "h:2", new byte[16], 1, term, Durability.GROUP, 1, true, false, true, leader, lsns);
    }

    private static MemberInfo leader(String id, long term, long... lsns) {
        return new MemberInfo(
                id, "h:1", "h:2", new byte[16], 1, term, Durability.GROUP, 1, false, false, false, "", lsns);
    }

    private static MemberInfo with(MemberInfo m, Durability d, boolean replica, boolean unclean, boolean streaming) {
        return new MemberInfo(
                m.nodeId(),
                m.respAddress(),
                m.replicationAddress(),
                m.databaseId(),
                m.epoch(),
                m.term(),
                d,
                m.minInsync(),
                replica,
                unclean,
                streaming,
                m.following(),
                m.appliedLsns());
    }

    private static GroupState state(long term, String leader, String... isr) {
        return new GroupState(term, leader, List.of(isr), 1, 0, "");
    }

    private static Decision gone(GroupState s, long goneMillis, MemberInfo... members) {
        return FailoverDecision.decide(new Input(s, List.of(members), NOW, goneMillis, 60_000, true), POLICY);
    }

    @Test
    void noQuorumNoDecisionEvenLongAfterTheLeaderWent() {
        Decision d = FailoverDecision.decide(
                new Input(state(3, "a", "b"), List.of(follower("b", "a", 3, 9)), NOW, 999_999, 999_999, false), POLICY);
        assertThat(d.kind()).isEqualTo(Kind.NONE);
        assertThat(d.reason()).contains("quorum");
    }

    @Test
    void failoverWaitsForTheGracePeriodThenPicksTheHighestLsnsUnderAHigherTerm() {
        GroupState s = state(3, "a", "b", "c");
        MemberInfo b = follower("b", "a", 3, 10, 20);
        MemberInfo c = follower("c", "a", 3, 11, 20);
        assertThat(gone(s, 999, b, c).kind()).isEqualTo(Kind.NONE);
        Decision d = gone(s, 1_000, b, c);
        assertThat(d.kind()).isEqualTo(Kind.FAILOVER);
        assertThat(d.next().leader()).isEqualTo("c");
        assertThat(d.next().term()).isEqualTo(4);
        assertThat(d.next().isr()).isEmpty();
        assertThat(d.next().lastFailoverMillis()).isEqualTo(NOW);
        assertThat(d.next().minInsync()).isEqualTo(1);
    }

    @Test
    void equalLsnsChooseTheSmallestNodeIdWhateverTheOrder() {
        GroupState s = state(3, "a", "b", "c", "d");
        MemberInfo b = follower("b", "a", 3, 7, 7);
        MemberInfo c = follower("c", "a", 3, 7, 7);
        MemberInfo d = follower("d", "a", 3, 7, 7);
        assertThat(gone(s, 5_000, d, c, b).next().leader()).isEqualTo("b");
        assertThat(gone(s, 5_000, c, b, d).next().leader()).isEqualTo("b");
    }

    @Test
    void staleLineageIsNeverChosenEvenWithMoreData() {
        GroupState s = state(5, "a", "b", "c", "d");
        MemberInfo lowerTerm = follower("b", "a", 4, 100, 100);
        MemberInfo otherLeader = follower("c", "x", 5, 100, 100);
        MemberInfo good = follower("d", "a", 5, 1, 1);
        Decision d = gone(s, 5_000, lowerTerm, otherLeader, good);
        assertThat(d.next().leader()).isEqualTo("d");
        assertThat(gone(s, 5_000, lowerTerm, otherLeader).kind()).isEqualTo(Kind.NONE);
        assertThat(gone(s, 5_000, lowerTerm, otherLeader).reason())
                .contains("b=is at term 4")
                .contains("c=follows 'x'");
    }

    @Test
    void aNodeBackFromAnUncleanStopOrWithoutDurabilityIsNeverChosen() {
        GroupState s = state(3, "a", "b", "c", "d");
        MemberInfo unclean = with(follower("b", "a", 3, 99), Durability.SYNC, true, true, true);
        MemberInfo none = with(follower("c", "a", 3, 99), Durability.NONE, true, false, true);
        MemberInfo ok = follower("d", "a", 3, 1);
        assertThat(gone(s, 5_000, unclean, none, ok).next().leader()).isEqualTo("d");
        Decision d = gone(s, 5_000, unclean, none);
        assertThat(d.kind()).isEqualTo(Kind.NONE);
        assertThat(d.reason()).contains("unclean").contains("durability NONE");
    }

    @Test
    void emptyIsrMeansNoFailoverWhateverTheOthersHold() {
        GroupState s = state(3, "a");
        Decision d = gone(s, 60_000, follower("b", "a", 3, 50), follower("c", "a", 3, 60));
        assertThat(d.kind()).isEqualTo(Kind.NONE);
        assertThat(d.reason()).contains("not in the ISR");
    }

    @Test
    void atMostOneFailoverPerBlockPeriod() {
        GroupState s = new GroupState(4, "b", List.of("c"), 1, NOW - 59_999, "");
        assertThat(gone(s, 5_000, follower("c", "b", 4, 3)).kind()).isEqualTo(Kind.NONE);
        s = new GroupState(4, "b", List.of("c"), 1, NOW - 60_000, "");
        assertThat(gone(s, 5_000, follower("c", "b", 4, 3)).kind()).isEqualTo(Kind.FAILOVER);
    }

    @Test
    void theNewTermIsAboveEveryReportedTerm() {
        GroupState s = state(3, "a", "b");
        MemberInfo zombieWatcher = with(follower("z", "q", 9, 1), Durability.GROUP, true, false, false);
        Decision d = gone(s, 5_000, follower("b", "a", 3, 1), zombieWatcher);
        assertThat(d.next().term()).isEqualTo(10);
    }

    @Test
    void noCandidateHoldingEveryShardsHighestFallsBackToTheHighestSum() {
        GroupState s = state(3, "a", "b", "c");
        MemberInfo b = follower("b", "a", 3, 10, 1);
        MemberInfo c = follower("c", "a", 3, 2, 10);
        assertThat(gone(s, 5_000, b, c).next().leader()).isEqualTo("c");
    }

    @Test
    void aLeaderBackFromAnUncleanStopIsUnusable() {
        GroupState s = state(3, "a", "b");
        MemberInfo a = with(leader("a", 3, 5), Durability.GROUP, false, true, false);
        assertThat(FailoverDecision.leaderUsable(s, List.of(a))).isFalse();
        assertThat(FailoverDecision.leaderUsable(s, List.of(leader("a", 3, 5)))).isTrue();
        assertThat(FailoverDecision.leaderUsable(s, List.of(follower("b", "a", 3, 5))))
                .isFalse();
        assertThat(FailoverDecision.leaderUsable(null, List.of(a))).isFalse();
    }

    /**
     * While the leader is up the ISR is the leader's: it waits for its members' acknowledgements, so the controller
     * neither drops a member it still waits for nor adds one that may lack acknowledged writes, whatever the members
     * report. Failed while the controller recomputed the ISR from the members' streaming flags.
     */
    @Test
    void whileTheLeaderIsUpTheControllerLeavesTheIsrToIt() {
        GroupState s = state(3, "a", "gone", "lagging");
        List<MemberInfo> m = List.of(
                leader("a", 3, 9),
                follower("b", "a", 3, 9),
                with(follower("lagging", "a", 3, 1), Durability.GROUP, true, false, false),
                follower("h", "a", 3, 0));
        Decision d = FailoverDecision.decide(new Input(s, m, NOW, -1, 0, true), POLICY);
        assertThat(d.kind()).isEqualTo(Kind.NONE);
        assertThat(d.next()).isNull();
        // who may join, once the leader finds it caught up
        assertThat(m.stream().filter(x -> FailoverDecision.inSync(x, s)).map(MemberInfo::nodeId))
                .containsExactly("b", "h");
        List<MemberInfo> others = List.of(
                with(follower("d", "a", 3, 9), Durability.NONE, true, false, true),
                with(follower("e", "a", 3, 9), Durability.SYNC, true, true, true),
                follower("f", "x", 3, 9),
                follower("g", "a", 2, 9));
        assertThat(others.stream().filter(x -> FailoverDecision.inSync(x, s))).isEmpty();
    }

    /**
     * A leader killed outright (SIGKILL, power off) keeps its member znode until its session expires, while every
     * follower's connection to it is already gone. The ISR is the leader's to keep: the controller leaves it as it
     * is while the leader's member is there (it would otherwise empty it before the member goes and then find no
     * successor), and fails over to the ISR member with the leader's lineage and the most data; a member that no
     * longer follows the leader in its term is not chosen.
     */
    @Test
    void followersOfAKilledLeaderStayEligibleUntilTheFailover() {
        GroupState s = state(3, "a", "b", "c", "d");
        MemberInfo b = with(follower("b", "a", 3, 9), Durability.GROUP, true, false, false);
        MemberInfo c = with(follower("c", "a", 3, 8), Durability.GROUP, true, false, false);
        MemberInfo d = follower("d", "x", 3, 10);
        List<MemberInfo> m = List.of(leader("a", 3, 9), b, c, d);
        Decision kept = FailoverDecision.decide(new Input(s, m, NOW, -1, 0, true), POLICY);
        assertThat(kept.kind()).isEqualTo(Kind.NONE);
        Decision failover = gone(s, 1_000, b, c, d);
        assertThat(failover.kind()).isEqualTo(Kind.FAILOVER);
        assertThat(failover.next().leader()).isEqualTo("b");
    }

    @Test
    void aLeaderServingAHigherTermHasItRecordedFirst() {
        GroupState s = state(3, "a", "b");
        Decision d = FailoverDecision.decide(
                new Input(s, List.of(leader("a", 4, 1), follower("b", "a", 3, 1)), NOW, -1, 0, true), POLICY);
        assertThat(d.kind()).isEqualTo(Kind.UPDATE);
        assertThat(d.next().term()).isEqualTo(4);
        assertThat(d.next().isr()).containsExactly("b");
    }

    @Test
    void bootstrapWaitsForStableMembersAndNamesTheWritableOneWithTheMostData() {
        List<MemberInfo> m = List.of(
                follower("a", "", 0, 100),
                leader("b", 2, 5),
                leader("c", 0, 7),
                with(leader("d", 0, 70), Durability.SYNC, false, true, false));
        assertThat(FailoverDecision.decide(new Input(null, m, NOW, -1, 999, true), POLICY)
                        .kind())
                .isEqualTo(Kind.NONE);
        Decision d = FailoverDecision.decide(new Input(null, m, NOW, -1, 1_000, true), POLICY);
        assertThat(d.kind()).isEqualTo(Kind.BOOTSTRAP);
        assertThat(d.next().leader()).isEqualTo("c");
        assertThat(d.next().term()).isEqualTo(3);
        assertThat(FailoverDecision.decide(new Input(null, List.of(), NOW, -1, 9_999, true), POLICY)
                        .kind())
                .isEqualTo(Kind.NONE);
    }

    @Test
    void bootstrapNamesADurableNodeBeforeOneWithDurabilityNoneEvenWithLessData() {
        MemberInfo volatileOne = with(leader("a", 0, 9), Durability.NONE, false, false, false);
        List<MemberInfo> m = List.of(volatileOne, leader("b", 0, 1), follower("c", "", 0, 50));
        Decision d = FailoverDecision.decide(new Input(null, m, NOW, -1, 1_000, true), POLICY);
        assertThat(d.kind()).isEqualTo(Kind.BOOTSTRAP);
        assertThat(d.next().leader()).as("writable and durable first").isEqualTo("b");
        Decision alone = FailoverDecision.decide(new Input(null, List.of(volatileOne), NOW, -1, 1_000, true), POLICY);
        assertThat(alone.next().leader())
                .as("a node with durability NONE still bootstraps a group of its own")
                .isEqualTo("a");
    }

    /**
     * Seeded random tables (re-run one with -Darmdb.cluster.seed=N): a failover names an ISR member eligible by every
     * rule, under a term above all reported, and no eligible candidate holds more on every shard; no failover happens
     * while an eligible candidate exists past the grace and block periods.
     */
    @Test
    void randomTablesKeepTheRules() {
        long seed = Long.getLong("armdb.cluster.seed", System.nanoTime());
        Random r = new Random(seed);
        for (int round = 0; round < 20_000; round++) {
            long term = 1 + r.nextInt(5);
            List<MemberInfo> members = new ArrayList<>();
            List<String> isr = new ArrayList<>();
            int n = r.nextInt(5);
            for (int i = 0; i < n; i++) {
                String id = "n" + i;
                long[] lsns = {r.nextInt(4), r.nextInt(4)};
                MemberInfo m = follower(id, r.nextInt(5) == 0 ? "x" : "L", term - r.nextInt(2) + r.nextInt(2), lsns);
                m = with(m, Durability.values()[r.nextInt(3)], r.nextInt(8) != 0, r.nextInt(6) == 0, r.nextBoolean());
                members.add(m);
                if (r.nextInt(4) != 0) {
                    isr.add(id);
                }
            }
            GroupState s = new GroupState(term, "L", isr, 1, r.nextBoolean() ? 0 : NOW - r.nextInt(120_000), "");
            long goneFor = r.nextInt(2_000);
            Decision d = FailoverDecision.decide(new Input(s, members, NOW, goneFor, 0, true), POLICY);
            List<MemberInfo> eligible = members.stream()
                    .filter(m -> isr.contains(m.nodeId())
                            && m.replica()
                            && m.following().equals("L")
                            && m.term() == term
                            && m.durability() != Durability.NONE
                            && !m.uncleanStart())
                    .toList();
            boolean blocked = s.lastFailoverMillis() > 0 && NOW - s.lastFailoverMillis() < POLICY.blockMillis();
            boolean expectFailover = goneFor >= POLICY.graceMillis() && !blocked && !eligible.isEmpty();
            assertThat(d.kind())
                    .as("seed %d round %d: %s", seed, round, d)
                    .isEqualTo(expectFailover ? Kind.FAILOVER : Kind.NONE);
            if (expectFailover) {
                MemberInfo chosen = eligible.stream()
                        .filter(m -> m.nodeId().equals(d.next().leader()))
                        .findFirst()
                        .orElseThrow(() -> new AssertionError("seed " + seed + ": chose an ineligible node " + d));
                long maxTerm =
                        members.stream().mapToLong(MemberInfo::term).max().orElse(0);
                assertThat(d.next().term()).as("seed %d", seed).isGreaterThan(Math.max(term, maxTerm));
                for (MemberInfo o : eligible) {
                    boolean strictlyBetter = o.appliedLsn(0) >= chosen.appliedLsn(0)
                            && o.appliedLsn(1) >= chosen.appliedLsn(1)
                            && o.lsnSum() > chosen.lsnSum();
                    assertThat(strictlyBetter)
                            .as("seed %d: %s beats %s", seed, o, chosen)
                            .isFalse();
                }
            }
        }
    }
}
