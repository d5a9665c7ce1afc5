package dev.armdb.store;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * A shard storage that delegates to another and runs test hooks on the calling thread: {@code onForce} at the start
 * of every force of a mapping, {@code onStored} after every store the writer reports ({@link ShardStorage#stored}),
 * {@code onWrite} around every positional write, so a test can act at an exact point of a force, a slot
 * write or a file write.
 */
record HookedStorage(ShardStorage inner, Runnable onForce, Runnable onStored, WriteHook onWrite)
        implements ShardStorage {
    /**
     * What to run around a positional write: called with the storage, the write's position and its length before it.
     */
    @FunctionalInterface
    interface WriteHook {
        /** Runs before the write; returns what to run after it. */
        Runnable before(ShardStorage storage, long position, int length);
    }

    private static final WriteHook NO_WRITE_HOOK = (storage, position, length) -> () -> {};

    /** Runs {@code hook} at the start of every force of a mapping. */
    static HookedStorage onForce(ShardStorage inner, Runnable hook) {
        return new HookedStorage(inner, hook, () -> {}, NO_WRITE_HOOK);
    }

    /** Runs {@code hook} after every store the writer reports. */
    static HookedStorage onStored(ShardStorage inner, Runnable hook) {
        return new HookedStorage(inner, () -> {}, hook, NO_WRITE_HOOK);
    }

    /** Runs {@code hook} around every positional write. */
    static HookedStorage onWrite(ShardStorage inner, WriteHook hook) {
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
        Runnable after = onWrite.before(inner, position, src.remaining());
        inner.write(src, position);
        after.run();
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
    public long smallMappingLimit() {
        return inner.smallMappingLimit();
    }

    @Override
    public MemorySegment mapPrivate(long position, long bytes) throws IOException {
        return inner.mapPrivate(position, bytes);
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
