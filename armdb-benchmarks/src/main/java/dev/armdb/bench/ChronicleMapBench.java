package dev.armdb.bench;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import net.openhft.chronicle.hash.Data;
import net.openhft.chronicle.map.ChronicleMap;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Chronicle Map persisted to a file (memory-mapped, nothing forced), constant key and value sizes, sized for the
 * record count plus room for the insert batches, with {@code putReturnsNull} and {@code removeReturnsNull} (the
 * builder options for callers that do not need the old value). {@code get} uses {@code getUsing} with the caller's
 * buffer; {@code iterate} is {@code forEachEntry} reading the value in place. Runs on JDK 25 with the flags Chronicle
 * documents for Java 17+; its usage reporting is excluded from the classpath and disabled by property.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {
            "-Xms8g",
            "-Xmx8g",
            "-Dchronicle.analytics.disable=true",
            "--enable-native-access=ALL-UNNAMED",
            "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED",
            "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-exports=jdk.unsupported/sun.misc=ALL-UNNAMED",
            "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
            "--add-opens=jdk.compiler/com.sun.tools.javac=ALL-UNNAMED",
            "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
            "--add-opens=java.base/java.io=ALL-UNNAMED",
            "--add-opens=java.base/java.util=ALL-UNNAMED"
        })
public class ChronicleMapBench extends EngineBench {
    static {
        System.setProperty("chronicle.analytics.disable", "true");
    }

    /** Entries configured beyond the loaded records: room for in-flight insert batches of a few threads. */
    static final int HEADROOM = 8 * InsertBatch.SIZE;

    Path dir;
    ChronicleMap<byte[], byte[]> map;

    /** Creates a new persisted map and loads it. */
    @Override
    @Setup(Level.Trial)
    public void setup() throws Exception {
        Shape s = shape();
        dir = BenchDirs.create("chronicle");
        map = ChronicleMap.of(byte[].class, byte[].class)
                .name("bench")
                .entries(keys + HEADROOM)
                .constantKeySizeBySample(new byte[s.keySize()])
                .constantValueSizeBySample(new byte[s.valueSize()])
                .putReturnsNull(true)
                .removeReturnsNull(true)
                .createPersistedTo(dir.resolve("bench.cm").toFile());
        load((i, k, v) -> map.put(k, v));
    }

    /** Closes the map and deletes its file. */
    @Override
    @TearDown(Level.Trial)
    public void tearDown() {
        closeKeepingFiles();
        BenchDirs.delete(dir);
    }

    /** The next record's value into the thread's caller buffer ({@code getUsing}). */
    @Benchmark
    public boolean get(Workload w) {
        w.next();
        return map.getUsing(w.key, w.out) != null;
    }

    /** The next record gets a new value. */
    @Benchmark
    public int put(Workload w) {
        int i = w.next();
        w.nextValue(i);
        map.put(w.key, w.value);
        return i;
    }

    /** A batch of new records, one put each; see {@link InsertBatch}. */
    @Benchmark
    @OperationsPerInvocation(InsertBatch.SIZE)
    public long insert(Workload w, InsertBatch b) {
        b.store = this;
        b.workload = w;
        for (long r : b.records) {
            w.shape.key(r, w.key);
            w.shape.value(r, 0, w.value);
            map.put(w.key, w.value);
        }
        return b.records[0];
    }

    /** Deletes the next record and puts it back with a new value. */
    @Benchmark
    public int deleteInsert(Workload w) {
        int i = w.next();
        map.remove(w.key);
        w.nextValue(i);
        map.put(w.key, w.value);
        return i;
    }

    /** Every record once, with {@code forEachEntry}, reading byte 7 of each value where it lies. */
    @Override
    @Benchmark
    public long iterate() {
        long[] acc = new long[2];
        map.forEachEntry(e -> {
            Data<byte[]> v = e.value();
            acc[0]++;
            acc[1] += v.bytes().readByte(v.offset() + 7);
        });
        checksum += acc[1];
        return acc[0];
    }

    @Override
    public void remove(long[] records, Workload w) {
        ByteArrayMaps.remove(map, records, w);
    }

    @Override
    public boolean lookup(long i, byte[] out) {
        return ByteArrayMaps.lookup(map, shape().key(i), out);
    }

    @Override
    public Path closeKeepingFiles() {
        if (map != null) {
            map.close();
            map = null;
        }
        return dir;
    }
}
