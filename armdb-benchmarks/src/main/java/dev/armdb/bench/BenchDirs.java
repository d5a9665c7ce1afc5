package dev.armdb.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Temporary directories of the benchmark stores: under {@code -Darmdb.bench.dir} if set, else the JVM's temp dir. */
public final class BenchDirs {
    private BenchDirs() {}

    /** A new empty directory named after {@code store}. */
    public static Path create(String store) {
        try {
            String base = System.getProperty("armdb.bench.dir");
            if (base != null) {
                Path b = Path.of(base);
                Files.createDirectories(b);
                return Files.createTempDirectory(b, "bench-" + store + "-");
            }
            return Files.createTempDirectory("bench-" + store + "-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Deletes {@code dir} and everything below it; null is ignored. */
    public static void delete(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Sum of the sizes of the regular files below {@code dir} (apparent sizes, what {@code ls -l} shows). */
    public static long bytes(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            long sum = 0;
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                sum += Files.size(p);
            }
            return sum;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
