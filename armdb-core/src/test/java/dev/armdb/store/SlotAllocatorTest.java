package dev.armdb.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The durability order of slot reuse, without files: nothing is reusable before the force that makes it safe. */
class SlotAllocatorTest {
    /** Stands in for the shard: FREE marks take the next LSN and are recorded. */
    private static final class FakeShard implements SlotAllocator.Releaser {
        long lsn;
        final List<long[]> marks = new ArrayList<>();

        @Override
        public long markFree(int slot) {
            lsn++;
            marks.add(new long[] {slot, lsn});
            return lsn;
        }

        @Override
        public long lastLsn() {
            return lsn;
        }
    }

    @Test
    void releasedSlotIsMarkedAfterItsSupersederIsDurableAndReusableAfterItsMarkIs() {
        FakeShard shard = new FakeShard();
        SlotAllocator a = new SlotAllocator(shard, false);
        shard.lsn = 5;
        a.retire(3, 5);
        a.drain(4);
        assertThat(shard.marks).isEmpty();
        assertThat(a.pop()).isEqualTo(-1);
        a.drain(5);
        assertThat(shard.marks).hasSize(1);
        assertThat(shard.marks.getFirst()).containsExactly(3, 6);
        assertThat(a.pop()).as("the FREE mark (LSN 6) is not durable yet").isEqualTo(-1);
        assertThat(a.pending()).isEqualTo(1);
        a.drain(6);
        assertThat(a.pop()).isEqualTo(3);
        assertThat(a.pending()).isZero();
    }

    @Test
    void tombstoneIsReusableOnlyAfterTheReleaseQueuedBeforeItIsDurable() {
        FakeShard shard = new FakeShard();
        SlotAllocator a = new SlotAllocator(shard, false);
        // put v2 superseded slot 1 at LSN 2; the delete's tombstone (slot 2, LSN 3) superseded slot 0
        shard.lsn = 3;
        a.retire(1, 2);
        a.retire(0, 3);
        a.retireTombstone(2, 3);
        a.drain(3);
        assertThat(shard.marks).hasSize(2);
        assertThat(a.pop()).isEqualTo(-1);
        a.drain(4);
        assertThat(a.pop()).as("slot 1's mark (LSN 4) is durable").isEqualTo(1);
        assertThat(a.pop())
                .as("slot 0's mark (LSN 5) and so the tombstone are not")
                .isEqualTo(-1);
        a.drain(5);
        List<Integer> got = new ArrayList<>();
        for (int s = a.pop(); s >= 0; s = a.pop()) {
            got.add(s);
        }
        assertThat(got).containsExactlyInAnyOrder(0, 2);
    }

    @Test
    void withoutDurabilityARetiredSlotIsMarkedAndReusableAtOnce() {
        FakeShard shard = new FakeShard();
        SlotAllocator a = new SlotAllocator(shard, true);
        shard.lsn = 2;
        a.retire(0, 2);
        assertThat(shard.marks).hasSize(1);
        assertThat(shard.marks.getFirst()).containsExactly(0, 3);
        a.retireTombstone(1, 3);
        assertThat(a.pending()).isZero();
        assertThat(a.freeCount()).isEqualTo(2);
        List<Integer> got = new ArrayList<>();
        for (int s = a.pop(); s >= 0; s = a.pop()) {
            got.add(s);
        }
        assertThat(got).containsExactlyInAnyOrder(0, 1);
        assertThat(shard.marks).as("a tombstone needs no FREE mark").hasSize(1);
    }

    @Test
    void recoverySeedsReleasedSlotsFirstThenTheOthersEachInTheOrderGiven() {
        FakeShard shard = new FakeShard();
        SlotAllocator a = new SlotAllocator(shard, false);
        a.seed(new int[] {2, 5, 9}, new int[] {4, 7});
        List<Integer> got = new ArrayList<>();
        for (int s = a.pop(); s >= 0; s = a.pop()) {
            got.add(s);
        }
        assertThat(got).containsExactly(4, 7, 2, 5, 9);
        assertThat(shard.marks).isEmpty();
        assertThat(a.pending()).isZero();
    }

    @Test
    void clearForgetsFreeAndPendingSlots() {
        FakeShard shard = new FakeShard();
        SlotAllocator a = new SlotAllocator(shard, false);
        a.seed(new int[] {1}, new int[0]);
        shard.lsn = 3;
        a.retire(2, 3);
        a.retireTombstone(3, 3);
        a.clear();
        assertThat(a.pop()).isEqualTo(-1);
        assertThat(a.pending()).isZero();
        a.drain(Long.MAX_VALUE);
        assertThat(shard.marks).as("nothing queued is released after a clear").isEmpty();
        assertThat(a.pop()).isEqualTo(-1);
    }

    /**
     * A drain in steps of one (as each write drains a few) marks and frees the same slots in the same order as one
     * whole drain, tombstones included, and says when steps are left.
     */
    @Test
    void drainsInStepsKeepTheOrderOfOneWholeDrain() {
        FakeShard wholeShard = new FakeShard();
        FakeShard steppedShard = new FakeShard();
        SlotAllocator whole = new SlotAllocator(wholeShard, false);
        SlotAllocator stepped = new SlotAllocator(steppedShard, false);
        for (SlotAllocator a : List.of(whole, stepped)) {
            FakeShard shard = a == whole ? wholeShard : steppedShard;
            shard.lsn = 10;
            a.retire(4, 2);
            a.retire(1, 3);
            a.retireTombstone(9, 3);
            a.retire(6, 7);
            a.retire(2, 11);
        }
        whole.drain(10);
        int steps = 0;
        while (stepped.drain(10, 1)) {
            steps++;
        }
        assertThat(steps + 1).as("steps: three FREE marks and a tombstone").isEqualTo(4);
        assertThat(steppedShard.marks.stream().map(m -> m[0]).toList())
                .isEqualTo(wholeShard.marks.stream().map(m -> m[0]).toList())
                .containsExactly(4L, 1L, 6L);
        assertThat(stepped.drain(10, 1)).as("nothing left that LSN 10 allows").isFalse();
        // the marks took LSNs 11-13; a force then covers them (and the release of slot 2, superseded at 11)
        whole.drain(13);
        while (stepped.drain(13, 1)) {}
        List<Integer> wholeOrder = new ArrayList<>();
        List<Integer> steppedOrder = new ArrayList<>();
        for (int s; (s = whole.pop()) >= 0; ) {
            wholeOrder.add(s);
        }
        for (int s; (s = stepped.pop()) >= 0; ) {
            steppedOrder.add(s);
        }
        assertThat(steppedOrder).isEqualTo(wholeOrder).containsExactlyInAnyOrder(4, 1, 9, 6);
        assertThat(stepped.pending()).isEqualTo(whole.pending()).isEqualTo(1);
    }

    /** Seeded: whatever the interleaving of retirements and forces, a slot is popped only when safe. */
    @Test
    void randomScheduleNeverReusesEarly() {
        long seed = Long.getLong("armdb.seed", System.nanoTime());
        System.out.println("SlotAllocatorTest: seed=" + seed + " (-Darmdb.seed=" + seed + ")");
        Random rnd = new Random(seed);
        FakeShard shard = new FakeShard();
        SlotAllocator a = new SlotAllocator(shard, false);
        // per slot: the LSN that must be durable before it may be reused
        java.util.Map<Integer, Long> safeAt = new java.util.HashMap<>();
        long durable = 0;
        int nextSlot = 0;
        for (int step = 0; step < 10_000; step++) {
            int what = rnd.nextInt(4);
            if (what == 0) {
                int slot = nextSlot++;
                shard.lsn++;
                a.retire(slot, shard.lsn);
                safeAt.put(slot, Long.MAX_VALUE);
            } else if (what == 1) {
                int old = nextSlot++;
                int tomb = nextSlot++;
                shard.lsn++;
                a.retire(old, shard.lsn);
                a.retireTombstone(tomb, shard.lsn);
                safeAt.put(old, Long.MAX_VALUE);
                safeAt.put(tomb, -old - 1L);
            } else if (what == 2) {
                durable = shard.lsn;
                int marksBefore = shard.marks.size();
                if (rnd.nextBoolean()) {
                    a.drain(durable);
                } else {
                    // as writers drain: a few steps at a time, the rest left for later
                    a.drain(durable, 1 + rnd.nextInt(8));
                }
                for (long[] m : shard.marks.subList(marksBefore, shard.marks.size())) {
                    safeAt.put((int) m[0], m[1]);
                }
            } else {
                int s = a.pop();
                if (s >= 0) {
                    long need = safeAt.get(s);
                    if (need < 0) {
                        // a tombstone: the slot it hid must have a durable FREE mark
                        need = safeAt.get((int) (-need - 1));
                    }
                    assertThat(need)
                            .as("seed %d: slot %d reused at durable LSN %d", seed, s, durable)
                            .isLessThanOrEqualTo(durable);
                }
            }
        }
    }
}
