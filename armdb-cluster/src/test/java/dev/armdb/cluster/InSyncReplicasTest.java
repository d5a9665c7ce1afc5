package dev.armdb.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The leader's ISR over fake acknowledgements, a fake clock and a fake compare-and-set: replies wait for every member,
 * a lagging member stops being waited for only once ZooKeeper no longer names it, the ISR below {@code minInsync}
 * refuses writes and the replies held then, and a follower joins only once it holds everything acknowledged without
 * it. No threads: the test answers held replies itself ({@link InSyncReplicas#evaluate}).
 */
class InSyncReplicasTest {
    private static final long MS = 1_000_000L;
    private static final long LAG = 1_000 * MS;
    private static final int SHARDS = 2;

    private long now = 1_000_000 * MS;
    private final long[] lastLsn = new long[SHARDS];
    private final Map<String, long[]> acked = new HashMap<>();
    private final Map<String, Long> heardAt = new HashMap<>();
    private final List<GroupState> written = new ArrayList<>();
    private boolean casWins = true;

    private final InSyncReplicas.Acks acks = new InSyncReplicas.Acks() {
        @Override
        public long lastLsn(int shard) {
            return lastLsn[shard];
        }

        @Override
        public long acked(String followerId, int shard) {
            long[] a = acked.get(followerId);
            return a == null ? -1 : a[shard];
        }

        @Override
        public long silentNanos(String followerId) {
            Long at = heardAt.get(followerId);
            return at == null ? Long.MAX_VALUE : now - at;
        }
    };

    private InSyncReplicas isr(int minInsync) {
        return new InSyncReplicas("g", SHARDS, minInsync, LAG, 10 * LAG, () -> now, acks, () -> false);
    }

    private GroupState writeIfCasWins(GroupState next) {
        if (casWins) {
            written.add(next);
            return next;
        }
        return null;
    }

    private static byte[] dbId(String node) {
        byte[] id = new byte[16];
        id[0] = (byte) node.charAt(0);
        return id;
    }

    private static String followerId(String node) {
        return HexFormat.of().formatHex(dbId(node));
    }

    private static MemberInfo follower(String id, Durability d, boolean unclean) {
        return new MemberInfo(id, "h:1", "h:2", dbId(id), 1, 3, d, 1, true, unclean, true, "a", new long[SHARDS]);
    }

    private static MemberInfo follower(String id) {
        return follower(id, Durability.GROUP, false);
    }

    private static MemberInfo leader() {
        return new MemberInfo(
                "a", "h:1", "h:2", dbId("a"), 1, 3, Durability.GROUP, 1, false, false, false, "", new long[SHARDS]);
    }

    /** Follower {@code node} acknowledged {@code lsns} and was heard from now. */
    private void ack(String node, long... lsns) {
        acked.put(followerId(node), lsns.clone());
        heardAt.put(followerId(node), now);
    }

    private void write(long... lsns) {
        for (int s = 0; s < SHARDS; s++) {
            lastLsn[s] = Math.max(lastLsn[s], lsns[s]);
        }
    }

    /** One round of upkeep; returns the state to use next (the one written, or the same). */
    private GroupState round(InSyncReplicas isr, GroupState s, MemberInfo... members) throws Exception {
        GroupState w = isr.maintain(s, List.of(members), next -> writeIfCasWins(next) != null);
        return w == null ? s : w;
    }

    private static AtomicReference<String> await(InSyncReplicas isr, long... lsns) {
        AtomicReference<String> answer = new AtomicReference<>("(waiting)");
        isr.await(lsns, answer::set);
        return answer;
    }

    @Test
    void aReplyWaitsUntilEveryMemberAcknowledgedItsLsnOnEveryShard() throws Exception {
        InSyncReplicas isr = isr(1);
        GroupState s = new GroupState(3, "a", List.of("b", "c"), 1, 0, "");
        ack("b", 0, 0);
        ack("c", 0, 0);
        s = round(isr, s, leader(), follower("b"), follower("c"));
        write(5, 7);
        AtomicReference<String> r = await(isr, 5, 7);
        ack("b", 5, 7);
        ack("c", 5, 6);
        isr.evaluate(now);
        assertThat(r.get()).as("c has not acknowledged LSN 7 of shard 1").isEqualTo("(waiting)");
        ack("c", 5, 7);
        isr.evaluate(now);
        assertThat(r.get()).isNull();
        assertThat(isr.waiting()).isZero();
    }

    /**
     * A member that stopped acknowledging is removed from the ISR in ZooKeeper first: while that compare-and-set
     * loses, replies keep waiting for it; once it is written they are answered without it.
     */
    @Test
    void aLaggingMemberStopsBeingWaitedForOnlyOnceZooKeeperNoLongerNamesIt() throws Exception {
        InSyncReplicas isr = isr(1);
        GroupState s = new GroupState(3, "a", List.of("b", "c"), 1, 0, "");
        MemberInfo[] members = {leader(), follower("b"), follower("c")};
        ack("b", 0, 0);
        ack("c", 0, 0);
        s = round(isr, s, members);
        write(4, 4);
        AtomicReference<String> r = await(isr, 4, 4);
        for (int i = 0; i < 12; i++) {
            now += LAG / 4;
            ack("b", 4, 4);
            s = round(isr, s, members);
        }
        assertThat(written).as("c removed once it lagged for the bound").hasSize(1);
        assertThat(written.get(0).isr()).containsExactly("b");
        assertThat(r.get()).isNull();

        // again, with the compare-and-set losing: the reply keeps waiting for the lagging member
        written.clear();
        GroupState again = new GroupState(3, "a", List.of("b", "c"), 1, 0, "");
        InSyncReplicas other = isr(1);
        ack("c", 4, 4);
        again = round(other, again, members);
        write(9, 9);
        AtomicReference<String> held = await(other, 9, 9);
        casWins = false;
        for (int i = 0; i < 12; i++) {
            now += LAG / 4;
            ack("b", 9, 9);
            again = round(other, again, members);
            other.evaluate(now);
        }
        assertThat(held.get())
                .as("still waiting for c: ZooKeeper still names it")
                .isEqualTo("(waiting)");
        assertThat(other.isr()).contains("c");
        casWins = true;
        round(other, again, members);
        assertThat(written).hasSize(1);
        assertThat(held.get()).isNull();
    }

    @Test
    void belowMinInsyncWritesAreRefusedAndHeldRepliesGetNoReplicas() throws Exception {
        InSyncReplicas isr = isr(2);
        GroupState s = new GroupState(3, "a", List.of("b", "c"), 2, 0, "");
        MemberInfo[] members = {leader(), follower("b"), follower("c")};
        ack("b", 0, 0);
        ack("c", 0, 0);
        s = round(isr, s, members);
        assertThat(isr.refusal()).isNull();
        write(3, 0);
        AtomicReference<String> r = await(isr, 3, 0);
        for (int i = 0; i < 8 && written.isEmpty(); i++) {
            now += LAG / 2;
            ack("b", 3, 0);
            s = round(isr, s, members);
        }
        assertThat(s.isr()).containsExactly("b");
        assertThat(r.get())
                .as("b acknowledged, but one in-sync follower is fewer than min-insync 2")
                .startsWith("NOREPLICAS")
                .contains("outcome is unknown");
        assertThat(isr.refusal()).startsWith("NOREPLICAS Not enough good replicas to write");
    }

    /**
     * A follower outside the ISR is waited for from the moment the leader considers it (it kept up with the leader's
     * LSNs of one round earlier), and joins only once it holds the leader's LSNs of that moment on every shard;
     * durability NONE and an unclean start never join.
     */
    @Test
    void aFollowerJoinsOnlyOnceCaughtUpOnEveryShardAndNeverWithDurabilityNoneOrAnUncleanStart() throws Exception {
        InSyncReplicas isr = isr(0);
        GroupState s = new GroupState(3, "a", List.of(), 0, 0, "");
        MemberInfo d = follower("d");
        MemberInfo n = follower("n", Durability.NONE, false);
        MemberInfo u = follower("u", Durability.SYNC, true);
        write(10, 10);
        ack("d", 8, 8);
        ack("n", 10, 10);
        ack("u", 10, 10);
        s = round(isr, s, leader(), d, n, u);
        assertThat(isr.joining()).as("d is behind, n and u may never join").isEmpty();
        assertThat(await(isr, 10, 10).get()).as("nothing to wait for").isNull();

        write(12, 15);
        now += 100 * MS;
        ack("d", 10, 10);
        s = round(isr, s, leader(), d, n, u);
        assertThat(isr.joining()).as("d kept up with the previous round's LSNs").containsExactly("d");
        AtomicReference<String> r = await(isr, 12, 15);
        ack("d", 12, 11);
        isr.evaluate(now);
        assertThat(r.get()).as("waits for the joiner").isEqualTo("(waiting)");
        now += 100 * MS;
        s = round(isr, s, leader(), d, n, u);
        assertThat(s.isr()).as("not caught up on shard 1").isEmpty();
        ack("d", 12, 15);
        isr.evaluate(now);
        assertThat(r.get()).isNull();
        now += 100 * MS;
        s = round(isr, s, leader(), d, n, u);
        assertThat(s.isr()).containsExactly("d");
        assertThat(written).hasSize(1);
        for (int i = 0; i < 20; i++) {
            now += 100 * MS;
            for (String f : List.of("d", "n", "u")) {
                ack(f, 12, 15);
            }
            s = round(isr, s, leader(), d, n, u);
        }
        assertThat(s.isr()).containsExactly("d");
        assertThat(isr.joining()).isEmpty();
    }

    @Test
    void aMemberThatNowReportsDurabilityNoneIsRemoved() throws Exception {
        InSyncReplicas isr = isr(0);
        GroupState s = new GroupState(3, "a", List.of("b"), 0, 0, "");
        ack("b", 0, 0);
        s = round(isr, s, leader(), follower("b", Durability.NONE, false));
        assertThat(s.isr()).isEmpty();
    }

    @Test
    void repliesHeldWhenLeadershipEndsOrPastTheHoldBoundGetAnError() throws Exception {
        InSyncReplicas isr = isr(1);
        GroupState s = new GroupState(3, "a", List.of("b"), 1, 0, "");
        ack("b", 0, 0);
        round(isr, s, leader(), follower("b"));
        write(1, 1);
        AtomicReference<String> timedOut = await(isr, 1, 1);
        now += 10 * LAG + MS;
        isr.evaluate(now);
        assertThat(timedOut.get()).startsWith("NOREPLICAS").contains("did not acknowledge it within");
        AtomicReference<String> cut = await(isr, 1, 1);
        isr.stop("group state names b in term 4");
        assertThat(cut.get()).startsWith("NOREPLICAS").contains("stopped leading (group state names b in term 4)");
        assertThat(isr.refusal()).as("not leading: the fence refuses writes").isNull();
    }
}
