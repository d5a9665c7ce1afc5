package dev.armdb.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A force must not drop the dirty bit of a chunk it cannot see: a growth that maps a chunk while a force runs (the
 * writer grows while the group commit forces) and a store into that chunk leave a bit the force began too early to
 * cover. If the force cleared it, the writer's own force (SYNC) would find nothing dirty and return before the chunk
 * was forced.
 */
class ShardFileForceTest {
    @TempDir
    Path dir;

    @Test
    void aChunkMappedAndWrittenDuringAForceStaysDirtyForTheNextForce() {
        FixedConfig cfg = FixedConfig.builder()
                .keySize(8)
                .valueSize(24)
                .shards(1)
                .durability(Durability.SYNC)
                .growthStepBytes(4096)
                .build();
        DbMeta meta = DbMeta.create(cfg);
        AtomicBoolean armed = new AtomicBoolean(false);
        ShardFile[] opened = new ShardFile[1];
        int shift = ShardFile.chunkShiftFor(cfg.growthStepBytes(), meta.slotSize());
        // real mapped files (65 chunks do not fit a simulated file), with a hook at the start of each chunk's force
        ShardStorage.Opener opener =
                (path, readOnly) -> HookedStorage.onForce(MappedShardStorage.OPENER.open(path, readOnly), () -> {
                    if (armed.getAndSet(false)) {
                        // on the forcing thread, while the force runs: a 65th chunk is mapped and written
                        opened[0].grow();
                        opened[0].markDirty(64 << shift);
                    }
                });
        ShardFile file = ShardFile.open(dir, meta, 0, shift, 1 << 20, false, opener, new FailStop());
        opened[0] = file;
        try {
            // 64 chunks: every bit of the first word of dirty bits names a mapped chunk
            while (file.chunks().length < 64) {
                file.grow();
            }
            file.markDirty(0);
            armed.set(true);
            file.force();
            assertThat(armed).as("the growth ran inside the force").isFalse();
            assertThat(file.isDirty())
                    .as("the chunk mapped and written while the force ran is still dirty")
                    .isTrue();
            file.force();
            assertThat(file.isDirty()).as("after a force that can see it").isFalse();
        } finally {
            file.close();
        }
    }
}
