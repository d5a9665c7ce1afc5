package dev.armdb.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.index.KeyHash;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.BitSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A copy from a leader cut short by a crash can leave holes in a shard's slot file (its sparse-growth window writes
 * no zeros ahead of the copy). The open that empties such a shard must leave its file without a hole: the empty
 * shard is then written through its mapping, and a store into a hole on a full disk faults instead of failing
 * cleanly. The test cuts a real hole into a shard file marked as an incomplete copy, reopens the collection with
 * every positional write to that file recorded, and checks that every byte from the header to the end of the file
 * was written at the open, and that the shard is empty and still marked. Mutation check (2026-12-05): emptying the
 * shard with a plain {@code wipe()} in {@code Store.dropIncompleteCopies} fails both cases.
 */
class CutShortCopyHolesTest {
    private static final int GROWTH_BYTES = 4096;
    private static final int KEYS = 2_000;

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(
            value = Durability.class,
            names = {"NONE", "GROUP"})
    void anIncompleteCopyIsEmptiedIntoAFileWithoutHoles(Durability durability) throws IOException {
        FixedConfig cfg = FixedConfig.builder()
                .keySize(8)
                .valueSize(8)
                .shards(1)
                .durability(durability)
                .growthStepBytes(GROWTH_BYTES)
                .build();
        try (Store store = Store.open(dir, cfg)) {
            putKeys(store);
            store.flush();
            store.replica(true);
            store.beginCopy(0);
        }
        Path file = dir.resolve(ShardFileLayout.fileName(0));
        long size = punchHole(file, DbMeta.create(cfg).slotSize());

        BitSet written = new BitSet();
        ShardStorage.Opener recording = (path, readOnly) -> {
            ShardStorage inner = MappedShardStorage.OPENER.open(path, readOnly);
            if (!path.getFileName().equals(file.getFileName())) {
                return inner;
            }
            return HookedStorage.onWrite(
                    inner, (storage, position, length) -> () -> written.set((int) position, (int) (position + length)));
        };
        try (Store store = Store.open(dir, null, recording)) {
            assertThat(store.shard(0).liveKeys())
                    .as("the incomplete copy was emptied")
                    .isZero();
            assertThat(store.copyIncomplete(0))
                    .as("the mark stays until a copy finishes")
                    .isTrue();
            int firstUnwritten = written.nextClearBit(ShardFileLayout.HEADER_SIZE);
            assertThat((long) firstUnwritten)
                    .as("first byte of the %d-byte shard file not written by the open (%s)", size, durability)
                    .isGreaterThanOrEqualTo(size);
        }
    }

    @Test
    void aCompleteCopyIsLeftAsItIs() throws IOException {
        FixedConfig cfg = FixedConfig.builder()
                .keySize(8)
                .valueSize(8)
                .shards(1)
                .growthStepBytes(GROWTH_BYTES)
                .build();
        try (Store store = Store.open(dir, cfg)) {
            putKeys(store);
            store.replica(true);
        }
        try (Store store = Store.open(dir, null)) {
            assertThat(store.shard(0).liveKeys()).isEqualTo(KEYS);
        }
    }

    /**
     * Cuts the file back to its header and first slots, then writes its last slots back where they were: the slots
     * between are a hole. Returns the file's size, which is unchanged.
     */
    private static long punchHole(Path file, int slotSize) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long size = ch.size();
            long slots = (size - ShardFileLayout.HEADER_SIZE) / slotSize;
            int keep = GROWTH_BYTES / slotSize;
            assertThat(slots).as("slots in the file").isGreaterThan(3L * keep);
            long tailAt = ShardFileLayout.HEADER_SIZE + (slots - keep) * slotSize;
            ByteBuffer tail = ByteBuffer.allocate((int) (size - tailAt));
            ch.read(tail, tailAt);
            ch.truncate(ShardFileLayout.HEADER_SIZE + (long) keep * slotSize);
            ch.write(tail.flip(), tailAt);
            ch.force(true);
            assertThat(ch.size()).isEqualTo(size);
            return size;
        }
    }

    private static void putKeys(Store store) {
        for (int i = 0; i < KEYS; i++) {
            byte[] key = longBytes(i);
            store.shard(0).put(key, KeyHash.hash(key), longBytes(~i));
        }
    }

    private static byte[] longBytes(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }
}
