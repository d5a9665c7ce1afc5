package dev.armdb.bench;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import net.openhft.chronicle.map.ChronicleMap;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Chronicle Map persisted to a file (memory-mapped, nothing forced), constant 16-byte keys and 32-byte values, sized
 * for the record count. {@code get} uses {@code getUsing} with the caller's buffer; {@code put} is the plain map put
 * (it returns the old value). Runs on JDK 25 with the flags Chronicle documents for Java 17+; its usage reporting is
 * excluded from the classpath and disabled by property.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {
            "-Xms4g",
            "-Xmx4g",
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
public class ChronicleMapBench implements StoreBench {
    static {
        System.setProperty("chronicle.analytics.disable", "true");
    }

    @Param({"1000000"})
    public int keys;

    Path dir;
    ChronicleMap<byte[], byte[]> map;
    Workload w;

    @Override
    public void records(int records) {
        keys = records;
    }

    @Override
    @Setup(Level.Trial)
    public void setup() throws Exception {
        dir = BenchDirs.create("chronicle");
        map = ChronicleMap.of(byte[].class, byte[].class)
                .name("bench")
                .entries(keys)
                .constantKeySizeBySample(new byte[Keys.KEY_SIZE])
                .constantValueSizeBySample(new byte[Keys.VALUE_SIZE])
                .createPersistedTo(dir.resolve("bench.cm").toFile());
        w = new Workload(keys, 1);
        for (int i = 0; i < keys; i++) {
            Keys.key(i, w.key);
            Keys.value(i, 0, w.value);
            map.put(w.key, w.value);
        }
    }

    @Override
    @TearDown(Level.Trial)
    public void tearDown() {
        closeKeepingFiles();
        BenchDirs.delete(dir);
    }

    @Benchmark
    public boolean get() {
        w.randomKey();
        return map.getUsing(w.key, w.out) != null;
    }

    @Benchmark
    public byte[] put() {
        int i = w.randomKey();
        w.nextValue(i);
        return map.put(w.key, w.value);
    }

    @Override
    public boolean lookup(long i, byte[] out) {
        byte[] v = map.get(Keys.key(i));
        if (v == null) {
            return false;
        }
        System.arraycopy(v, 0, out, 0, Keys.VALUE_SIZE);
        return true;
    }

    @Override
    public Path closeKeepingFiles() {
        if (map != null) {
            map.close();
            map = null;
        }
        return dir;
    }

    @Override
    public Workload workload() {
        return w;
    }
}
