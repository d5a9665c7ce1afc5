package dev.armdb.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatFactory;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.NoBenchmarksException;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs the engine benchmarks of one {@code bin/bench} mode as a list of JMH runs and writes all their results into
 * one JMH JSON file for {@link Report}.
 *
 * <p>Each run names its benchmark methods, stores, parameters and thread count: JMH would otherwise run every
 * method over the whole cross product of parameters, and each (method, parameters) pair loads its store anew. The
 * {@code quick} and {@code smoke} plans cover every operation, both shapes, both access patterns and both thread
 * counts, but not every combination (see {@link #plan}); {@code full} runs the whole matrix.
 *
 * <p>Everything after the mode is JMH's command line (iterations, forks, {@code -p keys=...}, {@code -prof gc},
 * benchmark regexes). A regex narrows every run (it is combined with the run's own pattern, not added to it), a
 * {@code -p} or {@code -t} given there overrides the plan's value for every run.
 *
 * <pre>
 * java -cp benchmarks.jar dev.armdb.bench.EnginePlan quick|full|smoke|smoke-full --out results.json [JMH options] [regex...]
 * </pre>
 */
public final class EnginePlan {
    /** Every store's benchmark class. */
    static final List<String> ALL_STORES = List.of(
            "ArmdbMapBench",
            "ArmdbTreeBench",
            "LmdbBench",
            "RocksDbBench",
            "MapDbBench",
            "ChronicleMapBench",
            "ChmBench");
    /** The stores the engine targets compare: armdb FixedMap and its three named peers. */
    static final List<String> TARGET_STORES = List.of("ArmdbMapBench", "LmdbBench", "RocksDbBench", "ChmBench");
    /** The stores with an ordered range scan. */
    static final List<String> ORDERED = List.of("ArmdbTreeBench", "LmdbBench", "RocksDbBench");

    /**
     * One JMH run: which methods of which store classes, with which parameter values and thread count. Parameters
     * not given take the benchmark's defaults or the command line's {@code -p}; the peers' variants default to their
     * base configuration ({@code blockCacheMb=0}, {@code writeMap=true}) unless a run names them.
     */
    record Run(String title, List<String> methods, List<String> stores, Map<String, String[]> params, int threads) {
        /** The JMH include pattern of this run. */
        String pattern() {
            return "\\.(" + String.join("|", stores) + ")\\.(" + String.join("|", methods) + ")$";
        }
    }

    private EnginePlan() {}

    private static Map<String, String[]> params(String... nameValues) {
        Map<String, String[]> m = new LinkedHashMap<>();
        m.put("blockCacheMb", new String[] {"0"});
        m.put("writeMap", new String[] {"true"});
        for (int i = 0; i < nameValues.length; i += 2) {
            m.put(nameValues[i], nameValues[i + 1].split(","));
        }
        return m;
    }

    /**
     * The runs of a mode. {@code quick} and {@code smoke} (the same plan; the command line makes smoke tiny), 64
     * (method, parameters) pairs, each loading its store, chosen to fit 10 minutes on 2 cores:
     *
     * <ul>
     *   <li>16x32, random, 1 thread: get, put, insert, delete+insert on every store;
     *   <li>16x32: full iteration on every store, range scans on the ordered ones;
     *   <li>8x256, random, 1 thread; 16x32, sequential, 1 thread; 16x32, random, 2 threads: get and put on the
     *       stores the targets name (FixedMap, LMDB, RocksDB, ConcurrentHashMap);
     *   <li>the peers' variants at 16x32, random, 1 thread: RocksDB with a 256 MB block cache (get), LMDB without
     *       {@code MDB_WRITEMAP} (put).
     * </ul>
     *
     * {@code full} and {@code smoke-full} (the same plan; the command line makes smoke-full tiny): get, put, insert and
     * delete+insert for both shapes, both access patterns and 1 and 2 threads on
     * every store; iteration for both shapes; scans for both shapes and access patterns; the variants for both shapes
     * and access patterns.
     */
    static List<Run> plan(String mode) {
        List<String> point = List.of("get", "put");
        List<String> writes = List.of("get", "put", "insert", "deleteInsert");
        return switch (mode) {
            case "quick", "smoke" ->
                List.of(
                        new Run(
                                "16x32, random, 1 thread",
                                writes,
                                ALL_STORES,
                                params("shape", "16x32", "access", "random"),
                                1),
                        new Run(
                                "iteration",
                                List.of("iterate"),
                                ALL_STORES,
                                params("shape", "16x32", "access", "random"),
                                1),
                        new Run(
                                "range scans",
                                List.of("scan100"),
                                ORDERED,
                                params("shape", "16x32", "access", "random"),
                                1),
                        new Run(
                                "8x256, random, 1 thread",
                                point,
                                TARGET_STORES,
                                params("shape", "8x256", "access", "random"),
                                1),
                        new Run(
                                "16x32, sequential, 1 thread",
                                point,
                                TARGET_STORES,
                                params("shape", "16x32", "access", "sequential"),
                                1),
                        new Run(
                                "16x32, random, 2 threads",
                                point,
                                TARGET_STORES,
                                params("shape", "16x32", "access", "random"),
                                2),
                        new Run(
                                "RocksDB with a 256 MB block cache",
                                List.of("get"),
                                List.of("RocksDbBench"),
                                params("shape", "16x32", "access", "random", "blockCacheMb", "256"),
                                1),
                        new Run(
                                "LMDB without MDB_WRITEMAP",
                                List.of("put"),
                                List.of("LmdbBench"),
                                params("shape", "16x32", "access", "random", "writeMap", "false"),
                                1));
            case "full", "smoke-full" ->
                List.of(
                        new Run(
                                "1 thread",
                                writes,
                                ALL_STORES,
                                params("shape", "16x32,8x256", "access", "random,sequential"),
                                1),
                        new Run(
                                "2 threads",
                                writes,
                                ALL_STORES,
                                params("shape", "16x32,8x256", "access", "random,sequential"),
                                2),
                        new Run(
                                "iteration",
                                List.of("iterate"),
                                ALL_STORES,
                                params("shape", "16x32,8x256", "access", "random"),
                                1),
                        new Run(
                                "range scans",
                                List.of("scan100"),
                                ORDERED,
                                params("shape", "16x32,8x256", "access", "random,sequential"),
                                1),
                        new Run(
                                "RocksDB with a 256 MB block cache",
                                point,
                                List.of("RocksDbBench"),
                                params("shape", "16x32,8x256", "access", "random,sequential", "blockCacheMb", "256"),
                                1),
                        new Run(
                                "LMDB without MDB_WRITEMAP",
                                List.of("put", "insert", "deleteInsert"),
                                List.of("LmdbBench"),
                                params("shape", "16x32,8x256", "access", "random,sequential", "writeMap", "false"),
                                1));
            default -> throw new IllegalArgumentException("mode must be quick, full, smoke or smoke-full, got " + mode);
        };
    }

    /** Runs the plan; see the class comment. */
    public static void main(String[] args) throws IOException, RunnerException, CommandLineOptionException {
        if (args.length < 3 || !args[1].equals("--out")) {
            throw new IllegalArgumentException(
                    "usage: EnginePlan quick|full|smoke|smoke-full --out results.json [JMH args]");
        }
        List<Run> runs = plan(args[0]);
        Path out = Path.of(args[2]);
        String[] jmhArgs = lastParameterWins(Arrays.copyOfRange(args, 3, args.length));
        CommandLineOptions cli = new CommandLineOptions(jmhArgs);
        List<String> userPatterns = cli.getIncludes();
        // JMH unites a parent's includes with a child's; parse again without them so they can narrow instead
        List<String> rest = new ArrayList<>(Arrays.asList(jmhArgs));
        rest.removeAll(userPatterns);
        CommandLineOptions base = new CommandLineOptions(rest.toArray(new String[0]));
        List<RunResult> all = new ArrayList<>();
        Path part = Files.createTempFile("armdb-bench-", ".json");
        long start = System.nanoTime();
        try {
            for (Run run : runs) {
                ChainedOptionsBuilder b = new OptionsBuilder()
                        .parent(base)
                        .include(narrowed(run.pattern(), userPatterns))
                        .resultFormat(ResultFormatType.JSON)
                        .result(part.toString());
                run.params().forEach((name, values) -> {
                    if (base.getParameter(name).hasValue()) {
                        return;
                    }
                    b.param(name, values);
                });
                if (!base.getThreads().hasValue()) {
                    b.threads(run.threads());
                }
                System.out.printf(
                        Locale.ROOT,
                        "plan: %s (%s; %s) at %.0f s%n",
                        run.title(),
                        String.join(",", run.methods()),
                        String.join(",", run.stores()),
                        (System.nanoTime() - start) / 1e9);
                try {
                    all.addAll(new Runner(b.build()).run());
                } catch (NoBenchmarksException e) {
                    System.out.println("plan: nothing of this run matches the given patterns");
                    continue;
                }
                write(all, out);
            }
        } finally {
            Files.deleteIfExists(part);
        }
        System.out.printf(
                Locale.ROOT,
                "plan: %d results in %.0f s, written to %s%n",
                all.size(),
                (System.nanoTime() - start) / 1e9,
                out);
    }

    /** JMH options that take one value: given again after the mode, the later value replaces the mode's. */
    private static final java.util.Set<String> SINGLE_VALUED =
            java.util.Set.of("-f", "-wi", "-i", "-w", "-r", "-t", "-bm", "-tu", "-to");

    /**
     * {@code args} with only the last {@code -p name=values} of each parameter and the last value of each
     * single-valued option ({@code -f}, {@code -i}, ...): {@code bin/bench} puts the mode's own options first, and a
     * user's after the mode must replace them (JMH would otherwise run both {@code -p} value lists, and refuses a
     * repeated {@code -f}).
     */
    static String[] lastParameterWins(String[] args) {
        java.util.Map<String, Integer> last = new java.util.HashMap<>();
        for (int i = 0; i + 1 < args.length; i++) {
            String name = key(args, i);
            if (name != null) {
                last.put(name, i);
            }
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String name = key(args, i);
            if (name != null && last.get(name) != i) {
                i++;
                continue;
            }
            out.add(args[i]);
        }
        return out.toArray(new String[0]);
    }

    /** The name under which the option at {@code i} (with its value) is kept once, or null to keep every copy. */
    private static String key(String[] args, int i) {
        if (i + 1 >= args.length) {
            return null;
        }
        if (args[i].equals("-p")) {
            return "-p " + args[i + 1].split("=", 2)[0];
        }
        return SINGLE_VALUED.contains(args[i]) ? args[i] : null;
    }

    /**
     * Writes {@code results} as JMH JSON to {@code out}, with this machine's JDK directory written as {@code
     * $JAVA_HOME} (the results are committed; the JVM path says nothing about the numbers).
     */
    static void write(List<RunResult> results, Path out) throws IOException {
        ResultFormatFactory.getInstance(ResultFormatType.JSON, out.toString()).writeOut(results);
        String javaHome = System.getProperty("java.home");
        Files.writeString(out, Files.readString(out).replace(javaHome, "$JAVA_HOME"));
    }

    /** The run's pattern, restricted to benchmarks that also match one of the user's patterns (if any). */
    static String narrowed(String pattern, List<String> userPatterns) {
        if (userPatterns.isEmpty()) {
            return pattern;
        }
        return "^(?=.*(?:" + String.join("|", userPatterns) + ")).*" + pattern;
    }
}
