package dev.armdb.store;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * A shard storage that delegates to another and runs test hooks on the calling thread: {@code onForce} at the start
 * of every force of a mapping, {@code onStored} after every store the writer reports ({@link ShardStorage#stored}),
 * {@code onWrite} at the start of every positional write, so a test can act at an exact point of a force, a slot
 * write or a file write.
 */
record HookedStorage(ShardStorage inner, Runnable onForce, Runnable onStored, Runnable onWrite)
        implements ShardStorage {
    /** Runs {@code hook} at the start of every force of a mapping. */
    static HookedStorage onForce(ShardStorage inner, Runnable hook) {
        return new HookedStorage(inner, hook, () -> {}, () -> {});
    }

    /** Runs {@code hook} after every store the writer reports. */
    static HookedStorage onStored(ShardStorage inner, Runnable hook) {
        return new HookedStorage(inner, () -> {}, hook, () -> {});
    }

    /** Runs {@code hook} at the start of every positional write. */
    static HookedStorage onWrite(ShardStorage inner, Runnable hook) {
        return new HookedStorage(inner, () -> {}, () -> {}, hook);
    }

    @Override
    public Path path() {
        return inner.path();
    }

    @Override
    public long size() throws IOException {
        return inner.size();
    }

    @Override
    public void read(ByteBuffer dst, long position) throws IOException {
        inner.read(dst, position);
    }

    @Override
    public void write(ByteBuffer src, long position) throws IOException {
        onWrite.run();
        inner.write(src, position);
    }

    @Override
    public void truncate(long size) throws IOException {
        inner.truncate(size);
    }

    @Override
    public void forceFile() throws IOException {
        inner.forceFile();
    }

    @Override
    public MemorySegment map(long position, long bytes) throws IOException {
        return inner.map(position, bytes);
    }

    @Override
    public void force(MemorySegment mapping) {
        onForce.run();
        inner.force(mapping);
    }

    @Override
    public void stored() {
        inner.stored();
        onStored.run();
    }

    @Override
    public void close() {
        inner.close();
    }
}
