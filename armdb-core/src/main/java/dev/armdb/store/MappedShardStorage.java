package dev.armdb.store;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A real shard file: a {@link FileChannel} and the shared {@link Arena} of its memory mappings; closing it unmaps
 * everything. Threading: as {@link ShardStorage}.
 */
final class MappedShardStorage implements ShardStorage {
    /** Opens real files. */
    static final Opener OPENER = MappedShardStorage::open;

    private final Path path;
    private final FileChannel channel;
    private final boolean readOnly;
    private final Arena arena = Arena.ofShared();

    private MappedShardStorage(Path path, FileChannel channel, boolean readOnly) {
        this.path = path;
        this.channel = channel;
        this.readOnly = readOnly;
    }

    private static ShardStorage open(Path path, boolean readOnly) throws IOException {
        FileChannel ch = readOnly
                ? FileChannel.open(path, StandardOpenOption.READ)
                : PrivateFiles.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        return new MappedShardStorage(path, ch, readOnly);
    }

    @Override
    public Path path() {
        return path;
    }

    @Override
    public long size() throws IOException {
        return channel.size();
    }

    @Override
    public void read(ByteBuffer dst, long position) throws IOException {
        long pos = position;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, pos);
            if (n < 0) {
                return;
            }
            pos += n;
        }
    }

    @Override
    public void write(ByteBuffer src, long position) throws IOException {
        long pos = position;
        while (src.hasRemaining()) {
            pos += channel.write(src, pos);
        }
    }

    @Override
    public void truncate(long size) throws IOException {
        channel.truncate(size);
    }

    @Override
    public void forceFile() throws IOException {
        channel.force(true);
    }

    @Override
    public void forceData() throws IOException {
        channel.force(false);
    }

    @Override
    public MemorySegment map(long position, long bytes) throws IOException {
        FileChannel.MapMode mode = readOnly ? FileChannel.MapMode.READ_ONLY : FileChannel.MapMode.READ_WRITE;
        return channel.map(mode, position, bytes, arena);
    }

    @Override
    public MemorySegment mapPrivate(long position, long bytes) throws IOException {
        return channel.map(FileChannel.MapMode.PRIVATE, position, bytes, arena);
    }

    @Override
    public void force(MemorySegment mapping) {
        mapping.force();
    }

    @Override
    public void stored() {
        // a real file's page cache needs no notice
    }

    @Override
    public void close() {
        try {
            arena.close();
        } finally {
            try {
                channel.close();
            } catch (IOException ignored) {
                // nothing is left to release; an error closing a read channel changes nothing
            }
        }
    }
}
