package dev.armdb.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bulk copy's sparse-growth window ({@link ShardFile#beginSparseGrowth} to {@link ShardFile#endSparseGrowth}):
 * its growth writes no zeros ahead of the copy, yet the file it leaves has no hole (every byte written, data or
 * zeros), whatever the copy's runs, gaps and per-slot stores were. Every write through the file is recorded, byte by
 * byte; the copy is a seeded random sequence of ascending runs with gaps, rewrites of slots already copied and stores
 * through the mapping (the applier's per-slot path), over private and shared mappings.
 */
class ShardFileSparseGrowthTest {
    private static final int ROUNDS = 40;

    @TempDir
    Path dir;

    @Test
    void aCopyLeavesNoHoleAndWritesNoByteTwice() throws Exception {
        long seed = System.nanoTime();
        System.out.println("ShardFileSparseGrowthTest seed " + seed);
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int round = 0; round < ROUNDS; round++) {
            runCopy(rnd, round, round % 2 == 0);
        }
    }

    private void runCopy(SplittableRandom rnd, int round, boolean privatePages) throws IOException {
        FixedConfig cfg = FixedConfig.builder()
                .keySize(8)
                .valueSize(24)
                .shards(1)
                .durability(privatePages ? Durability.GROUP : Durability.NONE)
                .growthStepBytes(4096)
                .build();
        DbMeta meta = DbMeta.create(cfg);
        int slotSize = meta.slotSize();
        int shift = ShardFile.chunkShiftFor(cfg.growthStepBytes(), slotSize);
        Recording rec = new Recording();
        Path roundDir = dir.resolve("r" + round);
        java.nio.file.Files.createDirectories(roundDir);
        ShardFile file = ShardFile.open(
                roundDir,
                meta,
                0,
                shift,
                1 << 20,
                false,
                (path, readOnly) -> rec.wrap(MappedShardStorage.OPENER.open(path, readOnly)),
                new FailStop(),
                privatePages);
        try {
            rec.reset();
            file.beginSparseGrowth();
            int written = 0;
            int gapSlots = 0;
            int slot = 0;
            BitSet copied = new BitSet();
            for (int step = 0, steps = 1 + rnd.nextInt(30); step < steps; step++) {
                int choice = rnd.nextInt(10);
                if (choice < 6) {
                    int gap = rnd.nextInt(4) == 0 ? rnd.nextInt(2 << shift) : 0;
                    int count = 1 + rnd.nextInt(3 << shift);
                    slot += gap;
                    gapSlots += gap;
                    writeRun(file, slot, count, slotSize, (byte) (1 + step));
                    copied.set(slot, slot + count);
                    slot += count;
                    written += count;
                } else if (slot > 0 && choice < 8) {
                    // a slot sent again: written over through the file
                    int again = rnd.nextInt(slot);
                    writeRun(file, again, 1, slotSize, (byte) 0x77);
                    copied.set(again);
                    written++;
                } else {
                    // the applier's per-slot path: a store through the mapping, possibly past what was written
                    int target = slot + rnd.nextInt(2 << shift);
                    while (target >= file.capacity()) {
                        file.grow(false);
                    }
                    file.fillHolesThrough(target);
                    MemorySegment seg = file.segment(target);
                    seg.set(ValueLayout.JAVA_BYTE, file.offset(target) + slotSize - 1, (byte) 0x33);
                    file.markDirty(target);
                    copied.set(target);
                    gapSlots += Math.max(0, target + 1 - slot); // zeros through the slot itself, then the store
                    slot = Math.max(slot, target + 1);
                }
            }
            long beforeEnd = rec.bytesWritten;
            file.endSparseGrowth();
            long end = file.fileBytes();
            long from = ShardFileLayout.HEADER_SIZE;
            int hole = rec.written.nextClearBit((int) from);
            assertThat((long) hole)
                    .as(
                            "round %d (%s pages): first byte never written after the copy (file %d bytes)",
                            round, privatePages ? "private" : "shared", end)
                    .isGreaterThanOrEqualTo(end);
            assertThat(beforeEnd)
                    .as(
                            "round %d: bytes written during the copy: its slots and the gaps it skipped, no zeros ahead",
                            round)
                    .isLessThanOrEqualTo((long) (written + gapSlots) * slotSize);
            assertThat(rec.bytesWritten)
                    .as("round %d: bytes written by the copy and the final fill", round)
                    .isLessThanOrEqualTo((long) (written + gapSlots) * slotSize + (end - from));
            for (int s = copied.nextSetBit(0); s >= 0; s = copied.nextSetBit(s + 1)) {
                assertThat(file.segment(s).get(ValueLayout.JAVA_BYTE, file.offset(s) + slotSize - 1))
                        .as("round %d: last byte of copied slot %d", round, s)
                        .isNotEqualTo((byte) 0);
            }
        } finally {
            file.close();
        }
    }

    /** As the applier's run path: grows to reach the run's first slot, then writes the run through the file. */
    private static void writeRun(ShardFile file, int first, int count, int slotSize, byte fill) {
        while (first > file.capacity()) {
            file.grow(false);
        }
        ByteBuffer images = ByteBuffer.allocate(count * slotSize);
        while (images.hasRemaining()) {
            images.put(fill);
        }
        file.writeSlots(first, images.flip());
    }

    /** Records every byte written through the file (not through a mapping), and counts them. */
    private static final class Recording {
        final BitSet written = new BitSet();
        long bytesWritten;

        void reset() {
            bytesWritten = 0;
        }

        ShardStorage wrap(ShardStorage inner) {
            return HookedStorage.onWrite(inner, (storage, position, length) -> () -> {
                written.set((int) position, (int) position + length);
                bytesWritten += length;
            });
        }
    }
}
