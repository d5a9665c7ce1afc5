package dev.armdb.concurrency;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.index.HashIndex;
import dev.armdb.index.SlotKeys;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * {@link HashIndex#find} under seeded schedules of writer steps placed inside the lookup: the lookup's only call out
 * of the index, {@link SlotKeys#keyEquals}, runs the writer's next steps (inserts, copy-on-write replacements,
 * removals with slot reuse, rebuilds) before it answers, exactly as a writer running between the reader's read of an
 * entry and its read of the slot would. The answer must be the key's slot in one of the states the lookup overlapped
 * (before the first step or after any step), or -1 only if the key was absent in one of them.
 *
 * <p>This complements {@link HashIndexLincheckTest}: the model checker explores thread switches at random and does
 * not reach the one interleaving the entry/table re-check exists for; here every schedule puts the writer exactly
 * there. Single-threaded and deterministic: a failing trial prints its seed and replays with {@code
 * -Darmdb.hashindex.seed=N}. Trials: {@value #TRIALS} times {@code -Darmdb.lincheck.scale} (larger under {@code
 * -Psoak}).
 *
 * <p>Mutations of {@code HashIndex.find} this test fails on (each applied, seen failing, and restored):
 *
 * <ul>
 *   <li>the whole re-check after a tag match whose slot holds another key removed (a slot freed and reused under the
 *       reader turns a present key into a miss);
 *   <li>only its entry half ({@code ENTRY.getAcquire(t, i) != e}) removed;
 *   <li>only its table half ({@code t != table}) removed (a rebuild, then a slot reuse: the stale table's entry is
 *       unchanged, only the table check restarts the walk).
 * </ul>
 *
 * <p>Not covered here (one thread, so no memory ordering): weakening the acquire reads of entries or the volatile
 * table field. On x86 those are plain loads either way; no test on this machine can tell them apart.
 */
class HashIndexScheduleTest {
    private static final int TRIALS = 20_000;
    private static final int KEYS = 6;
    private static final int SLOTS = 256;
    private static final int MAX_CAPACITY = 128;

    /** The interleaving the re-check exists for: the reader's slot is freed and reused by another key. */
    @Test
    void slotReusedUnderReaderIsNotAMiss() {
        Slots s = new Slots(new long[] {0, 0x4000_0000L, 0x4000_0000L, 0, 0, 0, 0});
        s.put(1);
        s.onKeyEquals(List.of(() -> s.put(1), () -> s.put(2)));
        int answer = s.index.find(s.hash(1), s.key(1));
        assertThat(answer).as("key 1 is present throughout; its slot now").isEqualTo(s.slotOf(1));
    }

    /** The table half of the re-check: after a rebuild the reader's old table still holds the stale entry. */
    @Test
    void rebuildThenSlotReuseUnderReaderIsNotAMiss() {
        Slots s = new Slots(new long[] {0, 0x4000_0000L, 0x4000_0000L, 0, 0, 0, 0});
        s.put(1);
        s.onKeyEquals(List.of(s::grow, () -> s.put(1), () -> s.put(2)));
        int answer = s.index.find(s.hash(1), s.key(1));
        assertThat(answer).as("key 1 is present throughout; its slot now").isEqualTo(s.slotOf(1));
    }

    /** Random histories and random writer steps at every keyEquals call of one lookup. */
    @Test
    void seededSchedules() {
        Long fixed = Long.getLong("armdb.hashindex.seed");
        long base = fixed != null ? fixed : new Random().nextLong();
        int trials = fixed != null ? 1 : TRIALS * Lincheck.scale();
        System.out.println("HashIndexScheduleTest seed " + base + " (replay: -Darmdb.hashindex.seed=" + base
                + " reruns its first trial; trial i uses seed + i)");
        for (int i = 0; i < trials; i++) {
            long seed = base + i;
            String failure = trial(seed);
            assertThat(failure)
                    .as("trial seed " + seed + " (replay: -Darmdb.hashindex.seed=" + seed + ")")
                    .isNull();
        }
    }

    /** One trial; null if the answer is allowed, else a description. */
    private static String trial(long seed) {
        Random rnd = new Random(seed);
        long[] hashes = new long[KEYS + 1];
        for (int k = 1; k <= KEYS; k++) {
            // three tags for six keys: lookups walk over entries of their tag that hold another key
            hashes[k] = (1 + rnd.nextInt(3)) * 0x3000_0000L + (rnd.nextInt(4) == 0 ? k : 0);
        }
        Slots s = new Slots(hashes);
        int history = rnd.nextInt(30);
        for (int i = 0; i < history; i++) {
            step(s, rnd).run();
        }
        int target = 1 + rnd.nextInt(KEYS);
        List<List<Runnable>> schedule = new ArrayList<>();
        List<String> described = new ArrayList<>();
        int calls = 1 + rnd.nextInt(4);
        for (int c = 0; c < calls; c++) {
            List<Runnable> steps = new ArrayList<>();
            int n = rnd.nextInt(4);
            for (int j = 0; j < n; j++) {
                steps.add(step(s, rnd));
            }
            schedule.add(steps);
        }
        Set<Integer> allowed = new TreeSet<>();
        allowed.add(s.slotOf(target));
        s.onEveryStep(() -> allowed.add(s.slotOf(target)), described);
        s.schedule(schedule);
        int answer = s.index.find(s.hash(target), s.key(target));
        if (allowed.contains(answer)) {
            return null;
        }
        return "find(" + target + ") = " + answer + ", allowed " + allowed + " (history " + history + " steps, then "
                + described + " inside the lookup)";
    }

    private static Runnable step(Slots s, Random rnd) {
        int op = rnd.nextInt(10);
        int key = 1 + rnd.nextInt(KEYS);
        if (op < 6) {
            return s.named("put " + key, () -> s.put(key));
        }
        if (op < 9) {
            return s.named("remove " + key, () -> s.remove(key));
        }
        return s.named("grow", s::grow);
    }

    /**
     * Slots and their index as a shard uses them, on one thread: a freed slot keeps its key's bytes until reused, freed
     * slots are reused last-in first-out, an update writes a new slot and replaces the entry before freeing the old.
     */
    private static final class Slots implements SlotKeys {
        // per slot: the key when live, minus the key once freed, 0 never used
        private final int[] slotKey = new int[SLOTS];
        private final int[] free = new int[SLOTS];
        private final int[] current = new int[KEYS + 1];
        private final long[] hashes;
        private final HashIndex index = new HashIndex(this);
        private int freeCount;
        private int next;
        private List<List<Runnable>> schedule = List.of();
        private int call;
        private Runnable afterStep = () -> {};
        private List<String> log = new ArrayList<>();
        private final Map<Runnable, String> names = new HashMap<>();

        Slots(long[] hashes) {
            this.hashes = hashes;
            Arrays.fill(current, -1);
        }

        Runnable named(String name, Runnable r) {
            names.put(r, name);
            return r;
        }

        long hash(int key) {
            return hashes[key];
        }

        byte[] key(int key) {
            return new byte[] {(byte) key};
        }

        int slotOf(int key) {
            return current[key];
        }

        void onKeyEquals(List<Runnable> steps) {
            schedule(List.of(steps));
        }

        void schedule(List<List<Runnable>> s) {
            schedule = s;
            call = 0;
        }

        void onEveryStep(Runnable r, List<String> described) {
            afterStep = r;
            log = described;
        }

        void put(int key) {
            int slot = freeCount > 0 ? free[--freeCount] : next++;
            slotKey[slot] = key;
            int old = current[key];
            current[key] = slot;
            if (old < 0) {
                index.insert(hash(key), slot);
            } else {
                index.replace(hash(key), old, slot);
                release(old);
            }
        }

        void remove(int key) {
            int old = current[key];
            if (old >= 0) {
                current[key] = -1;
                index.remove(hash(key), old);
                release(old);
            }
        }

        void grow() {
            int capacity = (int) ((index.memoryBytes() - 16) / 8);
            if (capacity < MAX_CAPACITY) {
                index.reserve(capacity);
            }
        }

        private void release(int slot) {
            slotKey[slot] = -slotKey[slot];
            free[freeCount++] = slot;
        }

        @Override
        public boolean keyEquals(int slot, byte[] key) {
            if (call < schedule.size()) {
                for (Runnable step : schedule.get(call)) {
                    step.run();
                    log.add("before keyEquals call " + call + ": " + names.getOrDefault(step, "step"));
                    afterStep.run();
                }
                call++;
            }
            return Math.abs(slotKey[slot]) == key[0];
        }

        @Override
        public boolean keysEqual(int slotA, int slotB) {
            return Math.abs(slotKey[slotA]) == Math.abs(slotKey[slotB]);
        }
    }
}
