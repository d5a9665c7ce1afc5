package dev.armdb.concurrency;

import static dev.armdb.concurrency.Lincheck.call;
import static dev.armdb.concurrency.Lincheck.calls;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.armdb.index.HashIndex;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jetbrains.kotlinx.lincheck.execution.ExecutionScenario;
import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.jetbrains.lincheck.datastructures.StressOptions;
import org.junit.jupiter.api.Test;

/**
 * Linearizability check of {@link HashIndex} lookups against its single writer: a reader racing inserts,
 * copy-on-write replacements, removals, slot reuse and rebuilds (growth) never misses a key that is present
 * throughout its lookup and never finds a key in a slot that no longer holds it.
 *
 * <p>Model. {@link IndexedSlots} is the index as a shard uses it: slots hold a key (or the bytes of a key freed
 * from them, as a freed slot keeps its old bytes until reused), an update writes the key into a new slot and
 * {@linkplain HashIndex#replace replaces} the entry before freeing the old slot, a removal tombstones the entry
 * before freeing, and freed slots are reused last-in first-out (so a reader can hold the entry of a slot that has
 * been freed and refilled with another key, the case {@link HashIndex#find}'s re-check exists for). Twelve
 * background keys fill the 16-entry table to just under its load limit, so the first insert of a new key rebuilds
 * it; {@code grow()} rebuilds it again on demand. Test keys 1..4 share two hash tags (1 and 3, 2 and 4), so lookups
 * walk entries with their tag but another key. The writer operations are in one non-parallel group: at most one
 * thread writes, as the shard's lock guarantees. A reader's {@code find} is a shard's lookup: the index's hint,
 * accepted only if that slot still holds the key live, retried otherwise.
 *
 * <p>Check. Lincheck generates scenarios of these operations on three threads, runs each under its model checker
 * (thread switches explored at shared-memory accesses) and in stress mode (real threads), plus two fixed scenarios (a
 * slot freed and reused under a reader; a rebuild under readers), and requires every outcome to be explained by some
 * sequential order of the operations on {@link Model}, a {@code HashMap} with the same slot allocation. The stress mode
 * runs only under {@code -Psoak} (or {@code -Darmdb.lincheck.scale=N} with N > 1), which also scales both modes'
 * iterations.
 *
 * <p>Limits found by mutation: with the entry/table re-check in {@code HashIndex.find} removed (a slot freed and
 * reused under a reader then turns a present key into a miss) this test still passes: the model checker does not
 * reach that interleaving here. {@link HashIndexScheduleTest} places the writer exactly there and fails on that
 * mutation; this test is the general linearizability check of the index under its single writer.
 */
@Param(name = "key", gen = IntGen.class, conf = "1:4")
public class HashIndexLincheckTest {
    private final IndexedSlots slots = new IndexedSlots();

    static final int BACKGROUND_KEYS = 12;
    static final int SLOTS = 64;
    static final int READ_ATTEMPTS = 16;
    static final int MAX_GROWN_CAPACITY = 100;
    static final int KEY_LIMIT = 128;

    /** Puts {@code key} (copy-on-write when present); returns the slot now holding it. Writer only. */
    @Operation(nonParallelGroup = "writer")
    public int put(@Param(name = "key") int key) {
        return slots.put(key);
    }

    /** Removes {@code key}; true if it was present. Writer only. */
    @Operation(nonParallelGroup = "writer")
    public boolean remove(@Param(name = "key") int key) {
        return slots.remove(key);
    }

    /** Rebuilds the index into a larger table (while it has fewer than 100 entries). Writer only. */
    @Operation(nonParallelGroup = "writer")
    public void grow() {
        slots.grow();
    }

    /** The slot holding {@code key}, or -1. Any thread, lock-free. */
    @Operation
    public int find(@Param(name = "key") int key) {
        return slots.find(key);
    }

    @Test
    void modelChecking() {
        new ModelCheckingOptions()
                .iterations(10 * Lincheck.scale())
                .invocationsPerIteration(1_000)
                // a rebuild walks the whole old table in one loop: not a spin loop
                .loopBound(256)
                .threads(3)
                .actorsPerThread(3)
                .actorsBefore(2)
                .actorsAfter(1)
                .sequentialSpecification(Model.class)
                .addCustomScenario(slotReusedUnderReader())
                .addCustomScenario(rebuildUnderReader())
                .check(HashIndexLincheckTest.class);
    }

    @Test
    void stress() {
        // real threads on x86 add little to the model checker and cost half the module's run: soak runs only
        assumeTrue(Lincheck.scale() > 1, "Lincheck stress mode runs under -Psoak (-Darmdb.lincheck.scale > 1)");
        new StressOptions()
                .iterations(10 * Lincheck.scale())
                .invocationsPerIteration(2_000)
                .threads(3)
                .actorsPerThread(3)
                .actorsBefore(2)
                .actorsAfter(1)
                .sequentialSpecification(Model.class)
                .addCustomScenario(slotReusedUnderReader())
                .addCustomScenario(rebuildUnderReader())
                .check(HashIndexLincheckTest.class);
    }

    /** A reader holds key 1's entry while the writer moves key 1 to a new slot and gives its old slot to key 2. */
    private static ExecutionScenario slotReusedUnderReader() {
        Class<?> c = HashIndexLincheckTest.class;
        return Lincheck.scenario(
                calls(call(c, "put", 1)),
                List.of(calls(call(c, "put", 1), call(c, "put", 2)), calls(call(c, "find", 1), call(c, "find", 2))));
    }

    /** A reader looks keys up while the writer rebuilds the table and then inserts and removes. */
    private static ExecutionScenario rebuildUnderReader() {
        Class<?> c = HashIndexLincheckTest.class;
        return Lincheck.scenario(
                calls(call(c, "put", 1), call(c, "put", 3)),
                List.of(
                        calls(call(c, "grow"), call(c, "put", 2), call(c, "remove", 1)),
                        calls(call(c, "find", 3), call(c, "find", 2)),
                        calls(call(c, "find", 1))));
    }

    static long hash(int key) {
        if (key >= 100) {
            return (key * 0x9E37_79B9L) & 0xFFFF_FFFFL;
        }
        // two tags for the four test keys: lookups walk over entries of the same tag holding another key
        return (key & 1) == 1 ? 0x4000_0000L : 0x8000_0000L;
    }

    static byte[] bytes(int key) {
        return new byte[] {(byte) key};
    }

    static int[] absentKeys() {
        int[] slots = new int[KEY_LIMIT];
        Arrays.fill(slots, -1);
        return slots;
    }

    /** Slot allocation shared by the implementation and the model: reuse the last freed slot, else the next new. */
    static final class Allocator {
        private final int[] free = new int[SLOTS];
        private int freeCount;
        private int next;

        int allocate() {
            return freeCount > 0 ? free[--freeCount] : next++;
        }

        void release(int slot) {
            free[freeCount++] = slot;
        }
    }

    /** The sequential specification: a map from key to slot with the same allocation. */
    public static final class Model {
        private final Allocator allocator = new Allocator();
        private final Map<Integer, Integer> current = new HashMap<>();

        /** The model's state after the background keys. */
        public Model() {
            for (int k = 100; k < 100 + BACKGROUND_KEYS; k++) {
                put(k);
            }
        }

        /** See {@link HashIndexLincheckTest#put}. */
        public int put(int key) {
            int slot = allocator.allocate();
            Integer old = current.put(key, slot);
            if (old != null) {
                allocator.release(old);
            }
            return slot;
        }

        /** See {@link HashIndexLincheckTest#remove}. */
        public boolean remove(int key) {
            Integer old = current.remove(key);
            if (old != null) {
                allocator.release(old);
            }
            return old != null;
        }

        /** Rebuilding changes no answer. */
        public void grow() {}

        /** See {@link HashIndexLincheckTest#find}. */
        public int find(int key) {
            return current.getOrDefault(key, -1);
        }
    }
}
