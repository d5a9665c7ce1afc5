package dev.armdb.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A simulated page cache over simulated disks for shard files: each file keeps its current bytes (what a mapping
 * and the page cache show) and its bytes as of the last force (what the disk holds). From those a test builds the
 * state a crash leaves: a {@linkplain #processCrash() process crash} keeps the page cache; a {@linkplain
 * #powerLoss power loss} keeps, for every 512-byte sector written since its last force, either the forced or the
 * current bytes (so a 4 KiB page may come back whole, old, or torn at sector boundaries). Private mappings are
 * copies outside the page cache, which every crash loses.
 *
 * <p>Every store the engine reports ({@link ShardStorage#stored()}), every write and every completed force is a
 * <em>boundary</em>: the listener runs there, where a crash may cut the run. Faults can be injected: failing
 * forces and a size limit (a full disk).
 *
 * <p>Threading: one test thread (the engine's writer and forcer run on it).
 */
final class SimulatedDisk {
    static final int SECTOR = 512;
    private static final int CAPACITY = 32 << 10;

    /** Called at each boundary. */
    interface Boundary {
        void reached(String what);
    }

    private final Map<Path, SimFile> files = new HashMap<>();
    private Boundary boundary = what -> {};
    private volatile int failingForces;
    private volatile Runnable beforeForce = () -> {};
    private long sizeLimit = CAPACITY;

    /** Opens files of this disk as shard storages. */
    ShardStorage.Opener opener() {
        return (path, readOnly) -> {
            SimFile f = files.get(path);
            if (f == null) {
                if (readOnly) {
                    throw new java.nio.file.NoSuchFileException(path.toString());
                }
                f = new SimFile();
                files.put(path, f);
            }
            return new Handle(path, f);
        };
    }

    void onBoundary(Boundary b) {
        this.boundary = b;
    }

    /**
     * The next {@code count} forces fail with an I/O error and write nothing; later ones succeed again (as a retried
     * {@code fsync} may, after the kernel dropped what it could not write).
     */
    void failForces(int count) {
        this.failingForces = count;
    }

    /** Runs {@code r} at the start of every force, of a mapping or of a file (on the forcing thread). */
    void beforeForce(Runnable r) {
        this.beforeForce = r;
    }

    private boolean forceFails() {
        synchronized (this) {
            if (failingForces > 0) {
                failingForces--;
                return true;
            }
            return false;
        }
    }

    /** Files may not grow beyond {@code bytes}: a write past it fails with "No space left on device". */
    void sizeLimit(long bytes) {
        this.sizeLimit = bytes;
    }

    /** The disk as a new process finds it after this one died: the page cache, written or not, is kept. */
    SimulatedDisk processCrash() {
        SimulatedDisk d = new SimulatedDisk();
        files.forEach((p, f) -> d.files.put(p, f.copy(f.current(), f.forced)));
        return d;
    }

    /** Sectors (of all files, in a fixed order) whose current bytes differ from their forced bytes. */
    int unforcedSectors() {
        int n = 0;
        for (SimFile f : orderedFiles()) {
            n += f.unforced().size();
        }
        return n;
    }

    /**
     * The disk as it is after a power loss: unforced sector {@code i} (in {@link #unforcedSectors()}'s order)
     * keeps its current bytes if bit {@code i} of {@code keep} is set, else its forced bytes.
     */
    SimulatedDisk powerLoss(java.util.BitSet keep) {
        SimulatedDisk d = new SimulatedDisk();
        int i = 0;
        for (Path p : orderedPaths()) {
            SimFile f = files.get(p);
            byte[] bytes = f.forced.clone();
            byte[] cur = f.current();
            for (int s : f.unforced()) {
                if (keep.get(i++)) {
                    System.arraycopy(cur, s * SECTOR, bytes, s * SECTOR, SECTOR);
                }
            }
            d.files.put(p, f.copy(bytes, bytes));
        }
        return d;
    }

    /**
     * The disk after a power loss that kept the current bytes of the unforced sectors {@code keep} accepts (by file
     * path and sector number) and the forced bytes of the others.
     */
    SimulatedDisk powerLoss(java.util.function.BiPredicate<Path, Integer> keep) {
        java.util.BitSet bits = new java.util.BitSet();
        int i = 0;
        for (Path p : orderedPaths()) {
            for (int s : files.get(p).unforced()) {
                if (keep.test(p, s)) {
                    bits.set(i);
                }
                i++;
            }
        }
        return powerLoss(bits);
    }

    /** The unforced sectors, as "file:sector", in {@link #unforcedSectors()}'s order (for failure messages). */
    List<String> describeUnforced() {
        List<String> out = new ArrayList<>();
        for (Path p : orderedPaths()) {
            for (int s : files.get(p).unforced()) {
                out.add(p.getFileName() + ":" + s);
            }
        }
        return out;
    }

    /** Bytes of the file at {@code path} in the page cache (0 if absent). */
    long sizeOf(Path path) {
        SimFile f = files.get(path);
        return f == null ? 0 : f.size;
    }

    /** The disk after a power loss that kept only forced bytes. */
    SimulatedDisk powerLossKeepingNothing() {
        return powerLoss(new java.util.BitSet());
    }

    private List<Path> orderedPaths() {
        List<Path> ps = new ArrayList<>(files.keySet());
        ps.sort(null);
        return ps;
    }

    private List<SimFile> orderedFiles() {
        List<SimFile> fs = new ArrayList<>();
        for (Path p : orderedPaths()) {
            fs.add(files.get(p));
        }
        return fs;
    }

    /** One file: current bytes in native memory (mappings are slices of it), forced bytes on the heap. */
    private static final class SimFile {
        final MemorySegment mem = Arena.ofAuto().allocate(CAPACITY, 4096);
        final byte[] forced = new byte[CAPACITY];
        /** This process's private mappings of the file (not carried over by a crash). */
        final List<PrivateMapping> privates = new ArrayList<>();

        long size;

        /**
         * Applies a write of {@code [from, to)} (already in {@link #mem}) to every private mapping's pages that still
         * show the page cache: those whose bytes equalled the file's before the write ({@code before}, the old bytes
         * of the range). A page the process stored into keeps its own bytes, as a real private page that was copied
         * on its first store does. (A store of the bytes the file already had is taken for none, which only matters
         * for a page a write through the file then changes; the engine copies into such pages itself.)
         */
        void showInPrivateMappings(long from, long to, byte[] before) {
            for (PrivateMapping p : privates) {
                long lo = Math.max(from, p.position());
                long hi = Math.min(to, p.position() + p.own().byteSize());
                if (lo >= hi) {
                    continue;
                }
                for (long page = lo / 4096 * 4096; page < hi; page += 4096) {
                    long a = Math.max(lo, Math.max(page, p.position()));
                    long b = Math.min(
                            hi, Math.min(page + 4096, p.position() + p.own().byteSize()));
                    long pageLo = Math.max(page, p.position());
                    long pageHi = Math.min(page + 4096, p.position() + p.own().byteSize());
                    if (showsPageCache(p, pageLo, pageHi, from, to, before)) {
                        MemorySegment.copy(mem, a, p.own(), a - p.position(), b - a);
                    }
                }
            }
        }

        /** True if {@code p}'s bytes of {@code [lo, hi)} equal the file's as they were before the write. */
        private boolean showsPageCache(PrivateMapping p, long lo, long hi, long from, long to, byte[] before) {
            for (long x = lo; x < hi; x++) {
                byte file = x >= from && x < to ? before[(int) (x - from)] : mem.get(ValueLayout.JAVA_BYTE, x);
                if (p.own().get(ValueLayout.JAVA_BYTE, x - p.position()) != file) {
                    return false;
                }
            }
            return true;
        }

        byte[] current() {
            byte[] b = new byte[CAPACITY];
            MemorySegment.copy(mem, ValueLayout.JAVA_BYTE, 0, b, 0, (int) size);
            return b;
        }

        /**
         * A file holding {@code memBytes} in its page cache and {@code forcedBytes} on disk. The size is kept: growth
         * only adds zeros, which a power loss turns into a shorter file that the next open completes with zeros.
         */
        SimFile copy(byte[] memBytes, byte[] forcedBytes) {
            SimFile f = new SimFile();
            MemorySegment.copy(memBytes, 0, f.mem, ValueLayout.JAVA_BYTE, 0, (int) size);
            System.arraycopy(forcedBytes, 0, f.forced, 0, (int) size);
            f.size = size;
            return f;
        }

        List<Integer> unforced() {
            List<Integer> out = new ArrayList<>();
            long end = (size + SECTOR - 1) / SECTOR;
            for (int s = 0; s < end; s++) {
                long off = (long) s * SECTOR;
                if (MemorySegment.mismatch(mem, off, off + SECTOR, MemorySegment.ofArray(forced), off, off + SECTOR)
                        >= 0) {
                    out.add(s);
                }
            }
            return out;
        }

        void forceRange(long from, long bytes) {
            MemorySegment.copy(mem, ValueLayout.JAVA_BYTE, from, forced, (int) from, (int) bytes);
        }
    }

    /** A private mapping of a file: its own bytes, mapped at {@code position}. */
    private record PrivateMapping(long position, MemorySegment own) {}

    private final class Handle implements ShardStorage {
        private final Path path;
        private final SimFile f;

        Handle(Path path, SimFile f) {
            this.path = path;
            this.f = f;
        }

        @Override
        public Path path() {
            return path;
        }

        @Override
        public long size() {
            return f.size;
        }

        @Override
        public void read(ByteBuffer dst, long position) {
            int n = (int) Math.max(0, Math.min(dst.remaining(), f.size - position));
            for (int i = 0; i < n; i++) {
                dst.put(f.mem.get(ValueLayout.JAVA_BYTE, position + i));
            }
        }

        @Override
        public void write(ByteBuffer src, long position) throws IOException {
            long end = position + src.remaining();
            boolean full = end > sizeLimit;
            long stop = Math.min(end, sizeLimit);
            byte[] before = new byte[(int) Math.max(0, stop - position)];
            MemorySegment.copy(f.mem, ValueLayout.JAVA_BYTE, position, before, 0, before.length);
            long pos = position;
            while (pos < stop) {
                f.mem.set(ValueLayout.JAVA_BYTE, pos++, src.get());
            }
            f.showInPrivateMappings(position, stop, before);
            f.size = Math.max(f.size, stop);
            if (full) {
                throw new IOException("No space left on device (simulated)");
            }
            boundary.reached("write");
        }

        @Override
        public void truncate(long size) {
            if (size < f.size) {
                f.mem.asSlice(size, f.size - size).fill((byte) 0);
                f.size = size;
            }
        }

        @Override
        public void forceFile() throws IOException {
            beforeForce.run();
            if (forceFails()) {
                throw new IOException("Input/output error (simulated)");
            }
            f.forceRange(0, f.size);
            boundary.reached("force-file");
        }

        @Override
        public MemorySegment map(long position, long bytes) throws IOException {
            if (position + bytes > sizeLimit) {
                throw new IOException("No space left on device (simulated)");
            }
            f.size = Math.max(f.size, position + bytes);
            return f.mem.asSlice(position, bytes);
        }

        /**
         * A copy of the bytes at map time, which later writes through the file reach page by page until the process
         * stores into the page (see {@link SimFile#showInPrivateMappings}), as Linux's private file mappings behave. A
         * process crash drops it (see {@link #processCrash()}).
         */
        @Override
        public MemorySegment mapPrivate(long position, long bytes) throws IOException {
            MemorySegment shared = map(position, bytes);
            MemorySegment own = Arena.ofAuto().allocate(bytes, 4096);
            MemorySegment.copy(shared, 0, own, 0, bytes);
            f.privates.add(new PrivateMapping(position, own));
            return own;
        }

        @Override
        public void force(MemorySegment mapping) {
            beforeForce.run();
            if (forceFails()) {
                throw new UncheckedIOException(new IOException("Input/output error (simulated)"));
            }
            long from = mapping.address() - f.mem.address();
            f.forceRange(from, mapping.byteSize());
            boundary.reached("force");
        }

        /** One page: the log's staging buffers fit files of a few pages. */
        @Override
        public long smallMappingLimit() {
            return 4096;
        }

        @Override
        public void stored() {
            boundary.reached("store");
        }

        @Override
        public void close() {
            // the file and its page cache outlive the handle, as a real file's do
        }
    }
}
