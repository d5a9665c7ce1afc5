package dev.armdb.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A slot file opened with private pages, on a real file: stores stay in the process's own pages until a force writes
 * them back (so no force write-protects a page a writer stores into), and a bulk copy's {@link ShardFile#writeSlots}
 * lands where readers look, in the mappings. Fails if chunks are mapped shared (the file shows a store before any
 * force) or if the bulk copy writes through the file (a private page already copied would not see it).
 */
class PrivatePagesTest {
    @TempDir
    Path dir;

    private final FixedConfig cfg = config(4096);
    private final DbMeta meta = DbMeta.create(cfg);
    private final int shift = ShardFile.chunkShiftFor(cfg.growthStepBytes(), meta.slotSize());

    /** One shard of 8-byte keys and 24-byte values under GROUP (so with private pages), growing by {@code step}. */
    private static FixedConfig config(long step) {
        return FixedConfig.builder()
                .keySize(8)
                .valueSize(24)
                .shards(1)
                .durability(Durability.GROUP)
                .growthStepBytes(step)
                .build();
    }

    private ShardFile open() {
        return ShardFile.open(dir, meta, 0, shift, 1 << 20, false, MappedShardStorage.OPENER, new FailStop(), true);
    }

    /** The shard file with private pages, its chunks {@code step} bytes. */
    private ShardFile openGrowingBy(long step) {
        int stepShift = ShardFile.chunkShiftFor(config(step).growthStepBytes(), meta.slotSize());
        return ShardFile.open(dir, meta, 0, stepShift, 1 << 20, false, MappedShardStorage.OPENER, new FailStop(), true);
    }

    /** The byte of the file at slot {@code slot}'s offset {@code at}, read through a channel of its own. */
    private byte fileByte(int slot, int at) throws IOException {
        try (FileChannel ch = FileChannel.open(dir.resolve(ShardFileLayout.fileName(0)), StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, ShardFileLayout.HEADER_SIZE + (long) slot * meta.slotSize() + at);
            return b.get(0);
        }
    }

    @Test
    void aStoreReachesTheFileOnlyWhenAForceWritesItBack() throws IOException {
        try (ShardFile file = open()) {
            assertThat(file.privatePages()).isTrue();
            int slot = 3;
            file.segment(slot).set(ValueLayout.JAVA_BYTE, file.offset(slot) + 5, (byte) 0x77);
            file.markDirty(slot);
            assertThat(fileByte(slot, 5)).as("the file before a force").isZero();
            file.force();
            assertThat(fileByte(slot, 5)).as("the file after a force").isEqualTo((byte) 0x77);
            assertThat(file.isDirty()).as("dirty after the force").isFalse();
            // a later store stays private again until the next force
            file.segment(slot).set(ValueLayout.JAVA_BYTE, file.offset(slot) + 5, (byte) 0x78);
            file.markDirty(slot);
            assertThat(fileByte(slot, 5)).as("the file after a second store").isEqualTo((byte) 0x77);
        }
        try (ShardFile reopened = open()) {
            assertThat(reopened.segment(3).get(ValueLayout.JAVA_BYTE, reopened.offset(3) + 5))
                    .as("a reopen sees what the force wrote back, not the later store")
                    .isEqualTo((byte) 0x77);
        }
    }

    /**
     * A force writes back the dirty blocks (about a page each), not whole chunks: a store this test makes without
     * marking it dirty, in another block of the same chunk, stays out of the file. Fails if a force writes back every
     * dirty chunk whole (with random writes into a large file, a thousand times what they wrote).
     */
    @Test
    void aForceWritesBackOnlyTheDirtyBlocks() throws IOException {
        try (ShardFile file = openGrowingBy(64 << 10)) {
            int marked = 3;
            int unmarked = file.slotsPerChunk() / 2;
            assertThat((long) (unmarked - marked) * meta.slotSize())
                    .as("the two slots are a few pages apart")
                    .isGreaterThan(3 * 4096);
            file.segment(marked).set(ValueLayout.JAVA_BYTE, file.offset(marked) + 5, (byte) 0x41);
            file.markDirty(marked);
            file.segment(unmarked).set(ValueLayout.JAVA_BYTE, file.offset(unmarked) + 5, (byte) 0x42);
            file.force();
            assertThat(fileByte(marked, 5)).as("the dirty block").isEqualTo((byte) 0x41);
            assertThat(fileByte(unmarked, 5))
                    .as("a clean block of the same chunk")
                    .isZero();
        }
    }

    /**
     * Through the public API: under GROUP a put reaches the slot file before any checkpoint only with {@code
     * privateSlotPages(false)} (shared mappings), and the option survives {@code toBuilder}. Fails if the option is
     * ignored either way.
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void theOptionChoosesPrivateOrSharedSlotPages(boolean privatePages) throws IOException {
        FixedConfig c = config(4096).toBuilder().privateSlotPages(privatePages).build();
        assertThat(c.toBuilder().build().privateSlotPages()).isEqualTo(privatePages);
        byte[] value = new byte[24];
        java.util.Arrays.fill(value, (byte) 0x6B);
        Path db = dir.resolve("db-" + privatePages);
        try (dev.armdb.FixedMap map = dev.armdb.FixedMap.open(db, c)) {
            map.put(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}, value);
            byte[] file = java.nio.file.Files.readAllBytes(db.resolve(ShardFileLayout.fileName(0)));
            boolean inFile = java.util.Collections.indexOfSubList(toList(file), toList(value)) >= 0;
            assertThat(inFile)
                    .as("the put in the slot file before any checkpoint")
                    .isEqualTo(!privatePages);
        }
    }

    private static java.util.List<Byte> toList(byte[] bytes) {
        java.util.List<Byte> out = new java.util.ArrayList<>(bytes.length);
        for (byte b : bytes) {
            out.add(b);
        }
        return out;
    }

    @Test
    void aBulkCopyLandsInTheMappingsEvenOverPagesAlreadyCopied() {
        try (ShardFile file = open()) {
            int perChunk = file.slotsPerChunk();
            // a store makes the first chunk's page private before the copy writes the slots next to it
            file.segment(0).set(ValueLayout.JAVA_BYTE, file.offset(0), (byte) 1);
            file.markDirty(0);
            int first = 1;
            int count = perChunk + 2;
            ByteBuffer images = ByteBuffer.allocate(count * meta.slotSize());
            while (images.hasRemaining()) {
                images.put((byte) 0x5A);
            }
            file.writeSlots(first, images.flip());
            assertThat(images.hasRemaining()).as("the copy consumed its images").isFalse();
            assertThat(file.capacity()).isGreaterThanOrEqualTo(first + count);
            for (int slot = first; slot < first + count; slot++) {
                MemorySegment seg = file.segment(slot);
                for (int i = 0; i < meta.slotSize(); i++) {
                    assertThat(seg.get(ValueLayout.JAVA_BYTE, file.offset(slot) + i))
                            .as("byte %d of copied slot %d", i, slot)
                            .isEqualTo((byte) 0x5A);
                }
            }
            assertThat(file.isDirty()).as("the copied chunks wait for a force").isTrue();
        }
    }

    /**
     * A growth takes the write faults of a private chunk's pages before the chunk is published (a page first reached
     * by a read would cost its writer a copy and a TLB shoot-down at the first store): right after {@code grow()},
     * the kernel counts the whole new chunk as the process's own memory. Fails if growth leaves private chunks to
     * fault page by page on the writer's path. Linux only (it reads {@code /proc/self/smaps}).
     */
    @Test
    void aGrowthMakesTheNewPrivateChunkTheProcesssOwnBeforeAnyStore() throws IOException {
        try (ShardFile file = openGrowingBy(64 << 10)) {
            int first = file.capacity();
            file.grow();
            MemorySegment chunk = file.segment(first);
            long chunkBytes = (long) file.slotsPerChunk() * meta.slotSize();
            assertThat(anonymousKiBOfMappingAt(chunk.address()) * 1024)
                    .as("the process's own bytes in the mapping of the new chunk")
                    .isGreaterThanOrEqualTo(chunkBytes);
        }
    }

    /**
     * A chunk whose pages a growth made the process's own still gets a bulk copy's images in its mapping, where
     * readers look: the write through the file does not reach such pages. Fails if the prefaulted chunk is not
     * counted as stored into.
     */
    @Test
    void aBulkCopyLandsInAChunkAGrowthPrefaulted() {
        try (ShardFile file = open()) {
            int first = file.capacity();
            file.grow();
            int count = file.slotsPerChunk();
            ByteBuffer images = ByteBuffer.allocate(count * meta.slotSize());
            while (images.hasRemaining()) {
                images.put((byte) 0x3C);
            }
            file.writeSlots(first, images.flip());
            for (int slot = first; slot < first + count; slot++) {
                assertThat(file.segment(slot).get(ValueLayout.JAVA_BYTE, file.offset(slot) + 7))
                        .as("byte 7 of copied slot %d", slot)
                        .isEqualTo((byte) 0x3C);
            }
        }
    }

    /** The {@code Anonymous} KiB that {@code /proc/self/smaps} gives the mapping holding {@code address}. */
    private static long anonymousKiBOfMappingAt(long address) throws IOException {
        boolean inside = false;
        for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/self/smaps"))) {
            int dash = line.indexOf('-');
            int space = line.indexOf(' ');
            if (dash > 0 && space > dash && line.substring(0, dash).matches("[0-9a-f]+")) {
                long lo = Long.parseUnsignedLong(line.substring(0, dash), 16);
                long hi = Long.parseUnsignedLong(line.substring(dash + 1, space), 16);
                inside = Long.compareUnsigned(address, lo) >= 0 && Long.compareUnsigned(address, hi) < 0;
            } else if (inside && line.startsWith("Anonymous:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new AssertionError("no mapping in /proc/self/smaps holds address " + Long.toHexString(address));
    }
}
