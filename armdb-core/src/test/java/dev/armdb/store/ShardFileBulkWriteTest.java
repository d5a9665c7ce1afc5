package dev.armdb.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bulk copy's {@link ShardFile#writeSlots} may extend the file past the mapped chunks, while a growth (the
 * background grower) zero-fills the next chunk. If the two interleaved, the growth could read the file's length
 * before the write and then write its zeros over the copied slots. The write is serialised with growth, so the copied
 * slots survive whichever comes first.
 */
class ShardFileBulkWriteTest {
    @TempDir
    Path dir;

    @Test
    void aBulkWriteDuringAGrowthIsNotZeroedByIt() throws Exception {
        FixedConfig cfg = FixedConfig.builder()
                .keySize(8)
                .valueSize(24)
                .shards(1)
                .durability(Durability.GROUP)
                .growthStepBytes(4096)
                .build();
        DbMeta meta = DbMeta.create(cfg);
        int shift = ShardFile.chunkShiftFor(cfg.growthStepBytes(), meta.slotSize());
        int slots = 1 << shift;
        AtomicBoolean armed = new AtomicBoolean(false);
        CountDownLatch copied = new CountDownLatch(1);
        ShardFile[] opened = new ShardFile[1];
        Thread[] copier = new Thread[1];
        int[] first = new int[1];
        ByteBuffer images = ByteBuffer.allocate(slots * meta.slotSize());
        while (images.hasRemaining()) {
            images.put((byte) 0x5A);
        }
        images.flip();
        ShardStorage.Opener opener = (path, readOnly) ->
                HookedStorage.onWrite(MappedShardStorage.OPENER.open(path, readOnly), (self, position, length) -> {
                    if (Thread.currentThread() == copier[0]) {
                        return () -> copied.countDown();
                    }
                    if (armed.getAndSet(false)) {
                        // the grower, about to write its zeros: the copy's write of the same range goes now
                        copier[0] = Thread.ofPlatform().start(() -> opened[0].writeSlots(first[0], images));
                        try {
                            // serialised, the copy cannot write until this growth ends: wait a bounded while
                            copied.await(300, TimeUnit.MILLISECONDS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                    return () -> {};
                });
        ShardFile file = ShardFile.open(dir, meta, 0, shift, 1 << 20, false, opener, new FailStop());
        opened[0] = file;
        try {
            first[0] = file.capacity();
            armed.set(true);
            file.grow(false);
            assertThat(armed).as("the copy ran inside the growth").isFalse();
            copier[0].join(10_000);
            assertThat(copier[0].isAlive()).isFalse();
            assertThat(file.capacity()).isGreaterThanOrEqualTo(first[0] + slots);
            MemorySegment seg = file.segment(first[0]);
            long from = file.offset(first[0]);
            for (long i = 0; i < (long) slots * meta.slotSize(); i++) {
                assertThat(seg.get(ValueLayout.JAVA_BYTE, from + i))
                        .as("byte %d of the copied slots", i)
                        .isEqualTo((byte) 0x5A);
            }
        } finally {
            file.close();
        }
    }
}
