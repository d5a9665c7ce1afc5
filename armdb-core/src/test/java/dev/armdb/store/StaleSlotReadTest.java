package dev.armdb.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.index.KeyHash;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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
 * Not isolated here: the same re-check in {@code SlotReader.readIfIndexed} (the ordered scan's read of a slot hint,
 * {@link Shard#getAt}). That read tests the index's bit before the slot as well, in the same call, and in this
 * interleaving the bit is already clear then; without the re-check after the copy it passes here all the same. Its
 * case needs the bit read before the first update and the slot after the second, inside one call.
 */
class StaleSlotReadTest {
    @TempDir
    Path dir;

    @Test
    void aSlotReusedForAnUnindexedUpdateOfTheSameKeyIsNotRead() {
        // NONE releases a superseded slot at once, and the next write reuses the slot released last
        FixedConfig cfg = FixedConfig.builder()
                .keySize(8)
                .valueSize(16)
                .shards(1)
                .durability(Durability.NONE)
                .build();
        DbMeta meta = DbMeta.create(cfg);
        Runnable[] onStored = {() -> {}};
        ShardStorage.Opener opener = (path, readOnly) ->
                HookedStorage.onStored(MappedShardStorage.OPENER.open(path, readOnly), () -> onStored[0].run());
        Shard shard = Shard.open(dir, meta, cfg, 0, null, false, opener, new FailStop());
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

    private static byte[] value(int v) {
        byte[] b = new byte[16];
        Arrays.fill(b, (byte) v);
        return b;
    }
}
