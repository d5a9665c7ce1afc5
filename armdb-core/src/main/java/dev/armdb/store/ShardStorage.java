package dev.armdb.store;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * The bytes of one shard file, as {@link ShardFile} uses them: positional reads and writes (header, zero fill),
 * mappings of whole chunks, and forces. Two implementations: {@link MappedShardStorage} (a real file, mapped with
 * {@code FileChannel.map}) and, in tests, a simulated page cache that keeps each page's content as of its last
 * force so a test can build every state a process crash or a power loss may leave.
 *
 * <p>Design note: only the file layer sits behind this interface; slot images are still stored straight into the
 * returned mappings, so the hot paths do not change. {@link #stored()} marks the boundaries between those
 * stores for the simulator.
 *
 * <p>Threading: as {@link ShardFile}, which serialises growth and forces; {@link #stored()} is called by the
 * shard's writer only.
 */
interface ShardStorage extends AutoCloseable {
    /** Opens shard storages: one per shard file. */
    @FunctionalInterface
    interface Opener {
        /**
         * Opens the storage at {@code path}, creating an empty one unless {@code readOnly}.
         *
         * @throws IOException if it cannot be opened (a missing file when {@code readOnly}, among others)
         */
        ShardStorage open(Path path, boolean readOnly) throws IOException;
    }

    /** The file's path, for messages. */
    Path path();

    /** Bytes the file holds. */
    long size() throws IOException;

    /** Reads {@code dst.remaining()} bytes at {@code position}, or fewer at the end of the file. */
    void read(ByteBuffer dst, long position) throws IOException;

    /** Writes all of {@code src} at {@code position}, extending the file if needed. */
    void write(ByteBuffer src, long position) throws IOException;

    /** Cuts the file to {@code size} bytes. */
    void truncate(long size) throws IOException;

    /** Forces the file's content and metadata written through {@link #write} (the header of a new file). */
    void forceFile() throws IOException;

    /**
     * Forces the content written through {@link #write} and the file size, not other metadata (fdatasync): how the
     * redo log is made durable. Defaults to {@link #forceFile()}.
     */
    default void forceData() throws IOException {
        forceFile();
    }

    /** Maps {@code bytes} bytes at {@code position}; the mapping lives until {@link #close()}. */
    MemorySegment map(long position, long bytes) throws IOException;

    /**
     * Maps {@code bytes} bytes at {@code position} privately (copy on write): stores into the mapping reach neither the
     * file nor its page cache, only {@link #write} of the mapping's bytes does, and a process crash loses them. The
     * mapping lives until {@link #close()}.
     */
    MemorySegment mapPrivate(long position, long bytes) throws IOException;

    /**
     * Most bytes worth mapping of a small work file (the redo log's staging buffers): no limit for real files; a
     * simulated disk, whose files are a few pages, sets one.
     */
    default long smallMappingLimit() {
        return Long.MAX_VALUE;
    }

    /**
     * Forces one mapping returned by {@link #map}.
     *
     * @throws java.io.UncheckedIOException if the force fails (then nothing may be assumed about what reached the
     *     disk)
     */
    void force(MemorySegment mapping);

    /** Called by the writer after each store into a mapping that a crash could cut short. No-op for real files. */
    void stored();

    /** Unmaps every mapping and closes the file. */
    @Override
    void close();
}
