package dev.armdb.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.index.CurrentSlots;
import dev.armdb.index.KeyHash;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A lock-free read that found a key's slot before an update must not return what a later, unfinished update of the
 * same key wrote into that slot after it was freed and reused: that value is not indexed yet, so the reader's next
 * call would return the older, indexed value (reads going back in time). {@code SlotSeqlockStressTest} caught this
 * once, with a slow writer; here the interleaving is placed exactly: the reader's two steps ({@link
 * Shard#currentSlotOf}, then {@link Shard#readFound}) run around two updates, the second step from a hook on the
 * writer's thread after the reused slot's image is complete and before the index moves to it.
 *
 * <p>Mutation check: {@link Shard#readFound} without its index re-check ({@code stillIndexed}) returns the unfinished
 * update's value here ("found 3", then "get 2") and fails {@link
 * #aSlotReusedForAnUnindexedUpdateOfTheSameKeyIsNotRead}.
 *
 * <p>The ordered scan's read of a slot hint ({@link Shard#getAt}, {@link SlotReader#readIfIndexed}) tests the index's
 * bit before the slot as well, in the same call, so its case needs the bit read before the first update and the slot
 * read after the second, inside one call: {@link #aHintReadDoesNotCountASlotReusedAfterItsBitWasRead} runs the reader
 * on a thread of its own, held between the two by the bit check it is given. Mutation check: {@code readIfIndexed}
 * without its re-check of the bit after the copy returns the unfinished update's value there ("hint read 3").
 */
class StaleSlotReadTest {
    @TempDir
    Path dir;

    @Test
    void aSlotReusedForAnUnindexedUpdateOfTheSameKeyIsNotRead() {
        Runnable[] onStored = {() -> {}};
        Shard shard = openNoneShard(onStored);
        try {
            byte[] key = {1, 2, 3, 4, 5, 6, 7, 8};
            long hash = KeyHash.hash(key);
            shard.put(key, hash, value(1));
            // the reader's first step: the index names the key's slot, which holds value 1
            int found = shard.currentSlotOf(key);
            shard.put(key, hash, value(2));
            List<String> seen = new ArrayList<>();
            int[] stores = {0};
            onStored[0] = () -> {
                // the third store of the update's first slot write is its final state word: the image is whole and
                // valid, and the index still names the slot of value 2
                if (++stores[0] == 3) {
                    byte[] out = new byte[16];
                    int read = shard.readFound(found, key, hash, out);
                    seen.add(read == SlotReader.FOUND ? "found " + out[0] : "not found (" + read + ")");
                    // the ordered scan's read of a slot hint (FixedTree) is the same kind of read
                    byte[] hinted = new byte[16];
                    seen.add(shard.getAt(found, key, 0, hinted) ? "hint read " + hinted[0] : "hint stale");
                    byte[] now = new byte[16];
                    seen.add(shard.get(key, hash, now) ? "get " + now[0] : "get absent");
                }
            };
            shard.put(key, hash, value(3));
            onStored[0] = () -> {};
            assertThat(shard.currentSlotOf(key))
                    .as("the update reused the slot the reader found (the interleaving under test)")
                    .isEqualTo(found);
            assertThat(seen)
                    .as("the reader's second step, and a whole get, while the update of value 3 is unindexed")
                    .containsExactly("not found (" + SlotReader.RETRY + ")", "hint stale", "get 2");
            byte[] out = new byte[16];
            assertThat(shard.readFound(found, key, hash, out))
                    .as("once the index names the slot, the read counts")
                    .isEqualTo(SlotReader.FOUND);
            assertThat(out[0]).isEqualTo((byte) 3);
        } finally {
            shard.close();
        }
    }

    @Test
    void aHintReadDoesNotCountASlotReusedAfterItsBitWasRead() throws Exception {
        Runnable[] onStored = {() -> {}};
        Shard shard = openNoneShard(onStored);
        ExecutorService readerThread = Executors.newSingleThreadExecutor();
        try {
            byte[] key = {1, 2, 3, 4, 5, 6, 7, 8};
            long hash = KeyHash.hash(key);
            shard.put(key, hash, value(1));
            int found = shard.currentSlotOf(key);
            CountDownLatch bitRead = new CountDownLatch(1);
            CountDownLatch updated = new CountDownLatch(1);
            AtomicInteger checks = new AtomicInteger();
            // the reader's first look at the bit answers for the slot of value 1, then waits for the updates
            CurrentSlots heldAfterFirstCheck = slot -> {
                boolean held = shard.index().holdsSlot(slot);
                if (checks.incrementAndGet() == 1) {
                    bitRead.countDown();
                    awaitOrFail(updated, "the writer's second update");
                }
                return held;
            };
            byte[] hinted = new byte[16];
            Future<Boolean> read =
                    readerThread.submit(() -> shard.reader().readIfIndexed(heldAfterFirstCheck, found, key, 0, hinted));
            awaitOrFail(bitRead, "the reader's first bit check");
            shard.put(key, hash, value(2));
            List<String> seen = new ArrayList<>();
            int[] stores = {0};
            onStored[0] = () -> {
                // as in the test above: the reused slot's image of value 3 is whole, the index still names value 2's
                if (++stores[0] == 3) {
                    updated.countDown();
                    try {
                        seen.add(read.get(10, TimeUnit.SECONDS) ? "hint read " + hinted[0] : "hint stale");
                    } catch (Exception e) {
                        throw new AssertionError("the reader did not finish", e);
                    }
                }
            };
            shard.put(key, hash, value(3));
            onStored[0] = () -> {};
            assertThat(shard.currentSlotOf(key))
                    .as("the update reused the slot the reader's hint names (the interleaving under test)")
                    .isEqualTo(found);
            assertThat(seen)
                    .as("a hint read that saw the bit before the first update and the slot during the second")
                    .containsExactly("hint stale");
            assertThat(checks.get())
                    .as("the reader checked the bit before the updates and after its copy")
                    .isEqualTo(2);
            assertThat(shard.getAt(found, key, 0, hinted))
                    .as("once the index names the slot, the hint read counts")
                    .isTrue();
            assertThat(hinted[0]).isEqualTo((byte) 3);
        } finally {
            readerThread.shutdownNow();
            shard.close();
        }
    }

    private Shard openNoneShard(Runnable[] onStored) {
        // NONE releases a superseded slot at once, and the next write reuses the slot released last
        FixedConfig cfg = FixedConfig.builder()
                .keySize(8)
                .valueSize(16)
                .shards(1)
                .durability(Durability.NONE)
                .build();
        ShardStorage.Opener opener = (path, readOnly) ->
                HookedStorage.onStored(MappedShardStorage.OPENER.open(path, readOnly), () -> onStored[0].run());
        return Shard.open(dir, DbMeta.create(cfg), cfg, 0, null, false, opener, new FailStop());
    }

    private static void awaitOrFail(CountDownLatch latch, String what) {
        try {
            if (!latch.await(10, TimeUnit.SECONDS)) {
                throw new AssertionError("timed out waiting for " + what);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted waiting for " + what, e);
        }
    }

    private static byte[] value(int v) {
        byte[] b = new byte[16];
        Arrays.fill(b, (byte) v);
        return b;
    }
}
