package dev.armdb.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.index.KeyHash;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * With the automatic checkpoint size (the default) a shard checkpoints once its redo log holds twice as many bytes as
 * its slot file, not at the 4 MiB floor nor at the file's size: each checkpoint write-protects the slot-file pages it
 * forced and the next write to each takes a page fault, so a log small against the file pays that fault every few
 * writes. A real file, since the floor is larger than the simulated disk's files.
 *
 * <p>Mutation checks: a checkpoint due at the fixed 4 MiB of old (the slot file's size ignored), or at one slot
 * file's size (the rule before the multiple), fails {@link #theAutomaticSizeIsTwiceTheSlotFile} at its first
 * assertion.
 */
class CheckpointSizeTest {
    private static final int KEY = 8;
    private static final int VALUE = 24;
    /** Updates between two group commits, which release superseded slots for reuse (so the file stops growing). */
    private static final int UPDATES_PER_FORCE = 512;

    @TempDir
    Path dir;

    @Test
    void theAutomaticSizeIsTwiceTheSlotFile() throws Exception {
        FixedConfig cfg = config(FixedConfig.AUTO_LOG_CHECKPOINT);
        assertThat(FixedConfig.builder().keySize(KEY).valueSize(VALUE).build().logCheckpointBytes())
                .as("the default")
                .isEqualTo(FixedConfig.AUTO_LOG_CHECKPOINT);
        DbMeta meta = DbMeta.create(cfg);
        Shard s = open(cfg, meta);
        try {
            int keys = (int) (ShardLog.AUTO_CHECKPOINT_MIN * 2 / meta.slotSize()) + 1;
            for (int k = 0; k < keys; k++) {
                put(s, k, k + 1);
            }
            s.checkpoint();
            Path file = dir.resolve(ShardFileLayout.fileName(0));
            assertThat(Files.size(file)).as("the slot file").isGreaterThan(ShardLog.AUTO_CHECKPOINT_MIN * 2);
            int next = updatesUntil(s, keys, 0, () -> fileBytes(file));
            long logged = s.loggedBytes();
            assertThat(logged).as("records logged, against the slot file").isLessThan(2 * fileBytes(file));
            assertThat(s.checkpointDue(0, Long.MAX_VALUE))
                    .as(
                            "due with %d bytes of records, past the 4 MiB floor and the size of a slot file of %d",
                            logged, fileBytes(file))
                    .isFalse();
            updatesUntil(s, keys, next, () -> 2 * fileBytes(file));
            assertThat(s.checkpointDue(0, Long.MAX_VALUE))
                    .as("due with %d bytes of records for a slot file of %d", s.loggedBytes(), fileBytes(file))
                    .isTrue();
        } finally {
            s.close();
        }
    }

    /**
     * Updates keys below {@code keys} in turn from update {@code from}, with a group commit every {@link
     * #UPDATES_PER_FORCE}, until the log holds {@code target} bytes of records (read again after every update, since
     * the slot file may still grow); returns the next update's number.
     */
    private static int updatesUntil(Shard s, int keys, int from, LongSupplier target) {
        int k = from;
        for (int bound = from + 10_000_000; s.loggedBytes() < target.getAsLong(); k++) {
            assertThat(k).as("updates before the log reached its target").isLessThan(bound);
            put(s, k % keys, k + 7);
            if (k % UPDATES_PER_FORCE == 0) {
                s.forceIfDirty();
            }
        }
        return k;
    }

    private static long fileBytes(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void aConfiguredSizeIsTakenAsGiven() {
        FixedConfig cfg = config(64 << 10);
        DbMeta meta = DbMeta.create(cfg);
        Shard s = open(cfg, meta);
        try {
            for (int k = 0; k < 4096; k++) {
                put(s, k, k + 1);
            }
            s.checkpoint();
            long record = ShardLogLayout.recordSize(meta.slotSize());
            long logged = updates(s, 4096, 0, (64 << 10) - record);
            assertThat(logged).isLessThan(64 << 10);
            assertThat(s.checkpointDue(0, Long.MAX_VALUE))
                    .as("due below 64 KiB of records")
                    .isFalse();
            logged = updates(s, 4096, logged, 64 << 10);
            assertThat(s.checkpointDue(0, Long.MAX_VALUE))
                    .as("due at %d bytes of records", logged)
                    .isTrue();
        } finally {
            s.close();
        }
    }

    /**
     * Updates keys below {@code keys} in turn until {@code target} bytes of records are logged (at most one record
     * more), from {@code logged}; returns the bytes logged. Without a force no superseded slot is released, and a
     * release is a record of its own: so one record per update.
     */
    private static long updates(Shard s, int keys, long logged, long target) {
        long record = ShardLogLayout.recordSize(s.slotSize());
        long n = logged;
        for (int k = (int) (logged / record); n < target; k++) {
            put(s, k % keys, k + 7);
            n += record;
        }
        return n;
    }

    private FixedConfig config(long checkpointBytes) {
        return FixedConfig.builder()
                .keySize(KEY)
                .valueSize(VALUE)
                .shards(1)
                .durability(Durability.GROUP)
                .growthStepBytes(1 << 20)
                .logCheckpointBytes(checkpointBytes)
                .build();
    }

    private Shard open(FixedConfig cfg, DbMeta meta) {
        return Shard.open(dir, meta, cfg, 0, null, false, MappedShardStorage.OPENER, new FailStop());
    }

    private static void put(Shard s, int k, long id) {
        byte[] key = new byte[KEY];
        key[0] = 1;
        key[1] = (byte) k;
        key[2] = (byte) (k >> 8);
        key[3] = (byte) (k >> 16);
        s.put(key, KeyHash.hash(key), CrashStateEnumerationTest.value(id));
    }
}
