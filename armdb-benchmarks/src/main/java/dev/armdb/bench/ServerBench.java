package dev.armdb.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Server comparison driver ({@code bin/bench server}): Debian's {@code redis-benchmark -t set} and then {@code -t get}
 * ({@code -r 1000000 -d 32}, one call each, so that each is charged its own CPU time) at several pipeline depths
 * against {@code armdb serve} (default durability, no follower) and against {@code redis-server} with persistence
 * off and with {@code appendfsync everysec}, all on 127.0.0.1 with free ports. Every run starts each server afresh
 * in a new temporary directory, warms it up (not counted), runs every pipeline depth, checks that the SETs were
 * stored, and stops it; the servers take turns within a run so drift spreads evenly. Then {@link PairedServerBench}
 * measures the default armdb against Redis AOF everysec turn by turn, both running at once. A last phase compares the
 * node as users run it: {@code armdb serve} with default settings and one follower process against redis-server
 * with AOF everysec and one replica process, the two taking turns, each measured only once its follower has
 * attached and checked afterwards to have replicated every key. The report gives per-server medians, armdb/Redis
 * ratios, the servers' CPU time per request (which, unlike requests/s, moves little when something else loads the
 * machine) and the issues' targets.
 *
 * <p>Used by one thread; it starts and always stops its own child processes.
 */
public final class ServerBench {
    /** A server under test: its name in the report, the command line shown there, and how to start it. */
    record Target(String name, String shown, Starter starter, String pairedWith) {
        boolean isArmdb() {
            return name.startsWith("armdb");
        }
    }

    /** Starts one server in a fresh directory. */
    @FunctionalInterface
    interface Starter {
        ServerProcesses.Server start(ServerProcesses procs, Path dir) throws IOException, InterruptedException;
    }

    /** A leader-and-follower node under test: its name in the report, the command lines shown there, how to start it. */
    record NodeTarget(String name, String shown, NodeStarter starter) {}

    /** Starts one node (leader and attached follower) in a fresh directory. */
    @FunctionalInterface
    interface NodeStarter {
        ServerProcesses.Pair start(ServerProcesses procs, Path dir) throws IOException, InterruptedException;
    }

    /**
     * One redis-benchmark result line of one run, with the CPU time (user and system, every thread) the server's
     * processes took during the call, per request: a node's leader and follower together, and the leader's alone (the
     * process the client talks to; the same figure for a server without a follower).
     */
    record Sample(
            String server,
            String test,
            int pipeline,
            double rps,
            double p50ms,
            double p99ms,
            double cpuMicros,
            double leaderCpuMicros) {}

    /** The medians over runs of one server, test and pipeline depth. */
    record Row(
            String server,
            String test,
            int pipeline,
            double rps,
            double[] runRps,
            double p50ms,
            double p99ms,
            double cpuMicros,
            double leaderCpuMicros) {}

    /** What the tables' CPU column is. */
    static final String CPU_COLUMN = "`CPU µs/request` is the CPU time (user and system, every thread) the server's"
            + " processes took during the call, divided by its requests (median over runs): unlike requests/s, it"
            + " moves little when other load shares the machine's cores.";

    /** The tests of each run, one redis-benchmark call each, in this order. */
    static final List<String> TESTS = List.of("SET", "GET");

    /**
     * What to run.
     *
     * @param armdbLauncher the command that runs the armdb CLI (such as {@code bin/armdb}); {@code serve ...} is
     *     appended
     * @param requests {@code -n} of each measured redis-benchmark call
     * @param warmup {@code -n} of the uncounted warm-up call (at {@code -P 16}) on each fresh server; 0 for none
     * @param runs runs per server (medians are reported)
     * @param pipelines the {@code -P} depths
     * @param pidFile file to append started servers' pids to (null for none)
     * @param nodeRuns runs per node (leader and follower) in the second phase, the two nodes taking turns; 0 skips it
     * @param nodeRequests {@code -n} of each measured call of the second phase, one per pipeline depth (in the order
     *     of {@code pipelines})
     */
    record Options(
            List<String> armdbLauncher,
            int requests,
            int warmup,
            int runs,
            int[] pipelines,
            Path pidFile,
            int nodeRuns,
            int[] nodeRequests) {
        Options {
            if (nodeRequests.length != pipelines.length) {
                throw new IllegalArgumentException("expected one node request count per pipeline depth "
                        + Arrays.toString(pipelines) + ", got " + Arrays.toString(nodeRequests));
            }
        }
    }

    /** Keyspace of {@code -r}: redis-benchmark's keys are {@code key:} plus 12 digits, 16 bytes, as armdb needs. */
    static final int KEYSPACE = 1_000_000;

    /** Value size ({@code -d}). */
    static final int VALUE = 32;

    /** A 16-byte key outside redis-benchmark's keyspace, for the read-back check. */
    private static final String CHECK_KEY = "armdb-bench-chk:";

    private ServerBench() {}

    /** The Redis server without persistence. */
    static final String REDIS_MEMORY = "redis (no persistence)";

    /** The Redis server with an append-only file forced every second. */
    static final String REDIS_AOF = "redis (AOF everysec)";

    /** {@code armdb serve} with default settings and one follower process. */
    static final String ARMDB_NODE = "armdb node";

    /** redis-server with AOF everysec and one replica process. */
    static final String REDIS_NODE = "redis node";

    /** Pipeline depth of the long warm-up call. */
    static final int WARMUP_PIPELINE = 16;

    /** How long a follower may take to hold every key its leader holds once the writes stopped. */
    static final long CATCH_UP_SECONDS = 60;

    /** Redis' settings as users run it with an append-only file: forced every second, no RDB snapshots. */
    private static final List<String> REDIS_AOF_SETTINGS =
            List.of("--save", "", "--appendonly", "yes", "--appendfsync", "everysec");

    /**
     * The nodes as users run them, in the order they take turns: {@code armdb serve} with default settings (only
     * the record sizes given, and a replication port for the follower to find) plus one follower process, and
     * redis-server with AOF everysec plus one replica process with the same settings.
     */
    static List<NodeTarget> nodeTargets(List<String> armdbLauncher) {
        List<String> sizes = List.of("--key-size", "16", "--value-size", Integer.toString(VALUE));
        String armdbArgs = "--bind 127.0.0.1 " + String.join(" ", sizes);
        String redisArgs = "--bind 127.0.0.1 --save '' --appendonly yes --appendfsync everysec";
        return List.of(
                new NodeTarget(
                        ARMDB_NODE,
                        "`bin/armdb serve --dir DIR/leader --port PORT " + armdbArgs + " --repl-port RPORT` and"
                                + " `bin/armdb serve --dir DIR/follower --port PORT2 " + armdbArgs
                                + " --follow 127.0.0.1:RPORT` (default settings otherwise: durability group every"
                                + " 10 ms, the default shard count (one per core as a power of two, 2 to 16),"
                                + " one event loop per core but one)",
                        (procs, dir) -> procs.armdbPair(armdbLauncher, dir, sizes, List.of())),
                new NodeTarget(
                        REDIS_NODE,
                        "`redis-server --port PORT " + redisArgs + " --dir DIR/leader` and `redis-server --port PORT2 "
                                + redisArgs + " --dir DIR/follower --replicaof 127.0.0.1 PORT` (replication settings"
                                + " left at Redis' defaults)",
                        (procs, dir) -> procs.redisPair(dir, REDIS_AOF_SETTINGS, List.of())));
    }

    /**
     * The servers: armdb with its default settings, and with the durability that matches each Redis mode (so each
     * ratio compares servers that promise alike); Redis without persistence and with AOF everysec.
     */
    static List<Target> targets(List<String> armdbLauncher) {
        return List.of(
                armdb(armdbLauncher, "armdb", "durability group every 10 ms: the default", List.of(), null),
                armdb(
                        armdbLauncher,
                        "armdb (group 1s)",
                        "forces every second, as AOF everysec",
                        List.of("--group-interval", "1s"),
                        REDIS_AOF),
                armdb(
                        armdbLauncher,
                        "armdb (none)",
                        "no forcing; unlike Redis without persistence it still keeps every write across a process"
                                + " crash",
                        List.of("--durability", "none"),
                        REDIS_MEMORY),
                new Target(
                        REDIS_MEMORY,
                        "redis-server --port PORT --bind 127.0.0.1 --dir DIR --save '' --appendonly no",
                        (procs, dir) -> procs.redis(dir, List.of("--save", "", "--appendonly", "no")),
                        null),
                new Target(
                        REDIS_AOF,
                        "redis-server --port PORT --bind 127.0.0.1 --dir DIR --save '' --appendonly yes"
                                + " --appendfsync everysec",
                        (procs, dir) -> procs.redis(
                                dir, List.of("--save", "", "--appendonly", "yes", "--appendfsync", "everysec")),
                        null));
    }

    private static Target armdb(
            List<String> launcher, String name, String why, List<String> options, String pairedWith) {
        List<String> args = new ArrayList<>(List.of("--key-size", "16", "--value-size", Integer.toString(VALUE)));
        args.addAll(options);
        return new Target(
                name,
                "bin/armdb serve --dir DIR --port PORT --bind 127.0.0.1 " + String.join(" ", args) + " (" + why
                        + "; the default shard count, no follower)",
                (procs, dir) -> procs.armdb(launcher, dir, args),
                pairedWith);
    }

    /** The redis-benchmark command line for one call of {@code test} against {@code port} on 127.0.0.1. */
    static List<String> benchmarkCommand(int port, String test, int requests, int pipeline) {
        List<String> cmd = new ArrayList<>(List.of("redis-benchmark", "-h", "127.0.0.1", "-p", Integer.toString(port)));
        cmd.addAll(List.of(
                "-t",
                test.toLowerCase(Locale.ROOT),
                "-r",
                Integer.toString(KEYSPACE),
                "-d",
                Integer.toString(VALUE),
                "-n",
                Integer.toString(requests),
                "-P",
                Integer.toString(pipeline),
                "--csv"));
        return cmd;
    }

    /** Runs everything and returns every sample. */
    static List<Sample> run(Options o) throws IOException, InterruptedException {
        List<Sample> samples = new ArrayList<>();
        List<Target> targets = targets(o.armdbLauncher());
        try (ServerProcesses procs = new ServerProcesses(o.pidFile())) {
            for (int run = 1; run <= o.runs(); run++) {
                for (Target t : targets) {
                    Path dir = BenchDirs.create("server");
                    try (ServerProcesses.Server server = t.starter().start(procs, dir)) {
                        int[] requests = new int[o.pipelines().length];
                        Arrays.fill(requests, o.requests());
                        measure(server, List.of(server), t.name(), run, o, requests, samples);
                        checkStored(server, t.name());
                    } finally {
                        BenchDirs.delete(dir);
                    }
                }
            }
        }
        return samples;
    }

    /**
     * The second phase: {@code nodeRuns} runs in which the nodes of {@link #nodeTargets} take turns. Each run starts
     * a node afresh in a new temporary directory (removed afterwards), measures its leader once the follower has
     * attached, checks that the leader stored the SETs and that the follower then holds as many keys, and stops
     * both processes.
     */
    static List<Sample> runNodes(Options o) throws IOException, InterruptedException {
        List<Sample> samples = new ArrayList<>();
        List<NodeTarget> targets = nodeTargets(o.armdbLauncher());
        try (ServerProcesses procs = new ServerProcesses(o.pidFile())) {
            for (int run = 1; run <= o.nodeRuns(); run++) {
                for (NodeTarget t : targets) {
                    Path dir = BenchDirs.create("node");
                    try (ServerProcesses.Pair node = t.starter().start(procs, dir)) {
                        measure(
                                node.leader(),
                                List.of(node.leader(), node.follower()),
                                t.name(),
                                run,
                                o,
                                o.nodeRequests(),
                                samples);
                        checkStored(node.leader(), t.name());
                        awaitCaughtUp(node, t.name(), CATCH_UP_SECONDS);
                    } finally {
                        BenchDirs.delete(dir);
                    }
                }
            }
        }
        return samples;
    }

    /**
     * The uncounted warm-up of a fresh server (if {@code o} asks for one): {@code o.warmup()} SETs and GETs at {@code -P
     * 16}, then one call per test at every other measured depth {@code o.pipelines()[i]} with {@code requests[i]}. Design
     * note: a JVM warmed at {@code -P 16} alone still compiled during the first measured {@code -P 1} call, whose paths
     * (a loop that polls and sleeps between requests, a follower taking small batches) the deep warm-up never ran: the
     * C2 compiler threads took 0.87 us per request in each of a node's two processes in that call and 0.1 us after two
     * such calls (SET, 50 clients, 2 cores).
     */
    static void warm(ServerProcesses.Server server, Options o, int[] requests)
            throws IOException, InterruptedException {
        if (o.warmup() <= 0) {
            return;
        }
        for (String test : TESTS) {
            benchmark(server, test, o.warmup(), WARMUP_PIPELINE);
        }
        for (int i = 0; i < o.pipelines().length; i++) {
            if (o.pipelines()[i] != WARMUP_PIPELINE) {
                for (String test : TESTS) {
                    benchmark(server, test, requests[i], o.pipelines()[i]);
                }
            }
        }
    }

    /**
     * Warms {@code server} up (if asked), then per pipeline depth one redis-benchmark call per test, with the depth's
     * {@code -n}, charging each call the CPU time that {@code charged} (the server's processes) took meanwhile.
     */
    private static void measure(
            ServerProcesses.Server server,
            List<ServerProcesses.Server> charged,
            String name,
            int run,
            Options o,
            int[] requests,
            List<Sample> samples)
            throws IOException, InterruptedException {
        warm(server, o, requests);
        for (int i = 0; i < o.pipelines().length; i++) {
            int p = o.pipelines()[i];
            for (String test : TESTS) {
                long cpuBefore = cpuNanos(charged);
                long leaderBefore = cpuNanos(List.of(server));
                double[] v = benchmark(server, test, requests[i], p);
                double leaderCpuMicros = (cpuNanos(List.of(server)) - leaderBefore) / 1e3 / requests[i];
                double cpuMicros = (cpuNanos(charged) - cpuBefore) / 1e3 / requests[i];
                samples.add(new Sample(name, test, p, v[0], v[1], v[2], cpuMicros, leaderCpuMicros));
                System.err.printf(
                        Locale.ROOT,
                        "server bench: run %d %s %s -P %d: %,.0f rps, %.1f µs CPU per request%n",
                        run,
                        name,
                        test,
                        p,
                        v[0],
                        cpuMicros);
            }
        }
    }

    /**
     * CPU time (user and system, every thread) the processes of {@code servers} have taken so far, in nanoseconds.
     * The kernel counts it in clock ticks (usually 10 ms), so a call should take a second of CPU or more.
     */
    static long cpuNanos(List<ServerProcesses.Server> servers) throws IOException {
        long sum = 0;
        for (ServerProcesses.Server s : servers) {
            sum += s.process()
                    .info()
                    .totalCpuDuration()
                    .orElseThrow(() -> new IOException(
                            "no CPU time reported for process " + s.process().pid()))
                    .toNanos();
        }
        return sum;
    }

    /**
     * Waits (at most {@code seconds}, polling every 50 ms) until the follower holds as many keys as its leader, which
     * no longer takes writes; fails otherwise, or if either holds none.
     */
    static void awaitCaughtUp(ServerProcesses.Pair node, String name, long seconds)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        try (Resp leader = Resp.connect(node.leader().port(), 30_000);
                Resp follower = Resp.connect(node.follower().port(), 30_000)) {
            long want = Long.parseLong(leader.callText("DBSIZE"));
            while (true) {
                long have = Long.parseLong(follower.callText("DBSIZE"));
                if (have == want && want > 0) {
                    return;
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(name + ": expected the follower to hold the leader's " + want
                            + " keys within " + seconds + " s, it holds " + have + "; follower INFO replication:\n"
                            + follower.callText("INFO", "replication"));
                }
                Thread.sleep(50);
            }
        }
    }

    /** Fails unless the server holds keys: redis-benchmark counts error replies as answers. */
    static void checkStored(ServerProcesses.Server server, String name) throws IOException {
        try (Resp r = Resp.connect(server.port(), 30_000)) {
            long keys = Long.parseLong(r.callText("DBSIZE"));
            if (keys <= 0) {
                throw new IllegalStateException(name + " holds no keys after the SET benchmark (errors?)");
            }
            String value = "v".repeat(VALUE);
            if (!"OK".equals(r.callText("SET", CHECK_KEY, value)) || !value.equals(r.callText("GET", CHECK_KEY))) {
                throw new IllegalStateException(name + " does not read back what it was given");
            }
        }
    }

    /** One redis-benchmark call of {@code test}; returns [rps, p50 ms, p99 ms]. */
    static double[] benchmark(ServerProcesses.Server server, String test, int requests, int pipeline)
            throws IOException, InterruptedException {
        List<String> cmd = benchmarkCommand(server.port(), test, requests, pipeline);
        Path outFile = Files.createTempFile("redis-benchmark-", ".csv");
        // bounded: no less than 500 requests/s, plus two minutes
        long limitSeconds = 120 + requests / 500L;
        Process p = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(outFile.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .start();
        String out;
        try {
            if (!p.waitFor(limitSeconds, TimeUnit.SECONDS)) {
                throw new IOException("redis-benchmark did not finish within " + limitSeconds + " s: " + cmd);
            }
            out = Files.readString(outFile, StandardCharsets.UTF_8);
        } finally {
            p.destroyForcibly();
            Files.deleteIfExists(outFile);
        }
        if (p.exitValue() != 0) {
            throw new IOException("redis-benchmark exited with " + p.exitValue() + ": " + cmd + "\n" + out);
        }
        double[] result = parseCsv(out).get(test);
        if (result == null) {
            throw new IOException("redis-benchmark printed no " + test + " result: " + cmd + "\n" + out);
        }
        return result;
    }

    /**
     * Parses redis-benchmark's {@code --csv} output: a header line
     * {@code "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms",...}
     * and one line per test. Columns are found by their header names.
     *
     * @return {test: [rps, p50 ms, p99 ms]}, in output order
     */
    static Map<String, double[]> parseCsv(String out) {
        Map<String, double[]> result = new LinkedHashMap<>();
        List<String> header = null;
        for (String line : out.split("[\r\n]+")) {
            List<String> cols = Arrays.stream(line.trim().split(","))
                    .map(c -> c.replace("\"", "").trim())
                    .toList();
            if (cols.size() < 2) {
                continue;
            }
            if (cols.getFirst().equals("test")) {
                header = cols;
            } else if (header != null && cols.size() == header.size()) {
                try {
                    result.put(cols.getFirst(), new double[] {
                        column(cols, header, "rps"),
                        column(cols, header, "p50_latency_ms"),
                        column(cols, header, "p99_latency_ms")
                    });
                } catch (NumberFormatException notData) {
                    // a warning or progress line that happens to have as many commas
                }
            }
        }
        return result;
    }

    private static double column(List<String> cols, List<String> header, String name) {
        int i = header.indexOf(name);
        if (i < 0) {
            return Double.NaN;
        }
        // redis-benchmark prints "inf" requests/s when a test took less than a millisecond
        return cols.get(i).equals("inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(cols.get(i));
    }

    /** Medians per server, test and pipeline depth, in first-seen order. */
    static List<Row> medians(List<Sample> samples) {
        Map<String, List<Sample>> groups = new LinkedHashMap<>();
        for (Sample s : samples) {
            groups.computeIfAbsent(s.server() + "\0" + s.test() + "\0" + s.pipeline(), k -> new ArrayList<>())
                    .add(s);
        }
        List<Row> rows = new ArrayList<>();
        for (List<Sample> g : groups.values()) {
            Sample first = g.getFirst();
            double[] rps = g.stream().mapToDouble(Sample::rps).toArray();
            rows.add(new Row(
                    first.server(),
                    first.test(),
                    first.pipeline(),
                    median(rps),
                    rps,
                    median(g.stream().mapToDouble(Sample::p50ms).toArray()),
                    median(g.stream().mapToDouble(Sample::p99ms).toArray()),
                    median(g.stream().mapToDouble(Sample::cpuMicros).toArray()),
                    median(g.stream().mapToDouble(Sample::leaderCpuMicros).toArray())));
        }
        return rows;
    }

    /** The median of {@code values} (the mean of the middle two for an even count). */
    static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        int n = v.length;
        if (n == 0) {
            return Double.NaN;
        }
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }

    private static Row find(List<Row> rows, String server, String test, int pipeline) {
        for (Row r : rows) {
            if (r.server().equals(server) && r.test().equals(test) && r.pipeline() == pipeline) {
                return r;
            }
        }
        return null;
    }

    /** A short description of this machine: cores, CPU model, memory, JDK. */
    static String machine() {
        String cpu = "unknown CPU";
        long memKb = 0;
        try {
            for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (l.startsWith("model name")) {
                    cpu = l.substring(l.indexOf(':') + 1).trim();
                    break;
                }
            }
            for (String l : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (l.startsWith("MemTotal:")) {
                    memKb = Long.parseLong(l.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | RuntimeException noProc) {
            // not Linux: leave the defaults
        }
        return String.format(
                Locale.ROOT,
                "nproc %d, %s, %.1f GiB, JDK %s (%s)",
                Runtime.getRuntime().availableProcessors(),
                cpu,
                memKb / 1024.0 / 1024.0,
                System.getProperty("java.runtime.version"),
                System.getProperty("java.vm.name"));
    }

    /** The 1-, 5- and 15-minute load averages ({@code /proc/loadavg}), or "unknown". */
    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    /** The first line {@code tool --version} prints. */
    static String version(String tool) {
        try {
            Process p = new ProcessBuilder(tool, "--version")
                    .redirectErrorStream(true)
                    .start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            p.waitFor(30, TimeUnit.SECONDS);
            return out.lines().findFirst().orElse(tool);
        } catch (IOException e) {
            return tool + " (version unknown: " + e.getMessage() + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return tool;
        }
    }

    /** The report's title line. */
    static final String TITLE = "# Server benchmarks: armdb serve vs redis-server (redis-benchmark)\n\n";

    /** The heading of the second phase's section. */
    static final String NODE_HEADING = "## The node as users run it (issue 11)";

    /**
     * What was measured where: {@code `command` (date, commit revision); machine: ...; redis-server's version. Load
     * averages (1, 5, 15 min) load.}, leaving out the commit or the load when empty.
     */
    static String provenance(String command, String revision, String load) {
        return "`" + command + "` ("
                + ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'"))
                + (revision.isEmpty() ? "" : ", commit " + revision)
                + "); machine: " + machine() + "; " + version("redis-server") + "."
                + (load.isEmpty() ? "" : " Load averages (1, 5, 15 min) " + load + ".");
    }

    /**
     * Renders the report from the first phase's {@code rows} and the later phases' rendered {@code nodeSection}
     * (empty for none); {@code load} says how busy the machine was (load averages before and after) and
     * {@code revision} which commit was measured; either may be empty.
     */
    static String markdown(
            List<Row> rows, String nodeSection, Options o, String command, String load, String revision) {
        StringBuilder sb = new StringBuilder(TITLE);
        sb.append("Generated by ").append(provenance(command, revision, load)).append("\n\n");
        sb.append("Client, per server and pipeline depth `P` (50 connections, redis-benchmark's default):\n\n");
        sb.append("    ")
                .append(String.format(
                        Locale.ROOT,
                        "redis-benchmark -h 127.0.0.1 -p PORT -t T -r %d -d %d -n %d -P P --csv",
                        KEYSPACE,
                        VALUE,
                        o.requests()))
                .append("\n\nwith `T` = `set`, then `get` (one call each). ")
                .append(CPU_COLUMN)
                .append("\n\nServers (each run starts each one afresh in a new temporary directory, on a free")
                .append(" loopback port):\n\n");
        for (Target t : targets(List.of("bin/armdb"))) {
            sb.append("- ").append(t.name()).append(": `").append(t.shown()).append("`\n");
        }
        sb.append(String.format(
                Locale.ROOT,
                "%nRuns: %d per server, the servers taking turns; pipeline depths %s; %s. Numbers are medians over"
                        + " runs; client and server share the machine's cores. With `-r %,d` and `-n %,d` the GETs"
                        + " find %s.%n%n",
                o.runs(),
                Arrays.toString(o.pipelines()),
                o.warmup() > 0
                        ? String.format(
                                Locale.ROOT,
                                "each fresh server is first warmed up with `-n %,d -P 16` and then with one call of the measured size at each"
                                        + " other depth (not counted; long enough for the JVM to compile the hot paths of every depth)",
                                o.warmup())
                        : "no warm-up",
                KEYSPACE,
                o.requests(),
                o.requests() >= KEYSPACE
                        ? "most keys set"
                        : "only the keys the SETs happened to draw (mostly misses)"));
        sb.append("| server | test | -P | requests/s (median) | runs | p50 ms | p99 ms | CPU µs/request |\n");
        sb.append("|---|---|---:|---:|---|---:|---:|---:|\n");
        for (Row r : rows) {
            sb.append(String.format(
                    Locale.ROOT,
                    "| %s | %s | %d | %,.0f | %s | %.3f | %.3f | %.1f |%n",
                    r.server(),
                    r.test(),
                    r.pipeline(),
                    r.rps(),
                    runs(r),
                    r.p50ms(),
                    r.p99ms(),
                    r.cpuMicros()));
        }
        List<Target> all = targets(List.of());
        List<String> redises =
                all.stream().filter(t -> !t.isArmdb()).map(Target::name).toList();
        sb.append("\n| ratio armdb / Redis | test | -P |");
        for (String red : redises) {
            sb.append(" vs ").append(red).append(" |");
        }
        sb.append("\n|---|---|---:|").append("---:|".repeat(redises.size())).append('\n');
        for (Target armdb : all.stream().filter(Target::isArmdb).toList()) {
            for (int p : o.pipelines()) {
                for (String test : List.of("SET", "GET")) {
                    Row a = find(rows, armdb.name(), test, p);
                    sb.append("| ")
                            .append(armdb.name())
                            .append(" | ")
                            .append(test)
                            .append(" | ")
                            .append(p)
                            .append(" |");
                    for (String red : redises) {
                        Row r = find(rows, red, test, p);
                        sb.append(
                                a == null || r == null
                                        ? " – |"
                                        : String.format(Locale.ROOT, " %.2f |", a.rps() / r.rps()));
                    }
                    sb.append('\n');
                }
            }
        }
        sb.append("\n## Targets (issue 5)\n\nThe default armdb against both Redis modes, and each armdb durability"
                + " against the Redis mode that promises as much.\n\n| target | armdb | test | vs | armdb / Redis |"
                + " verdict |\n|---|---|---|---|---:|---|\n");
        for (int p : o.pipelines()) {
            if (p != 1 && p != 16) {
                continue;
            }
            double bar = p == 16 ? 1.0 : 0.8;
            String target = p == 16 ? "armdb ≥ Redis at -P 16" : "armdb within 20% of Redis at -P 1";
            for (Target armdb : all.stream().filter(Target::isArmdb).toList()) {
                for (String test : List.of("SET", "GET")) {
                    Row a = find(rows, armdb.name(), test, p);
                    for (String red : redises) {
                        Row r = find(rows, red, test, p);
                        if (a == null
                                || r == null
                                || armdb.pairedWith() != null
                                        && !armdb.pairedWith().equals(red)) {
                            continue;
                        }
                        double ratio = a.rps() / r.rps();
                        sb.append(String.format(
                                Locale.ROOT,
                                "| %s | %s | %s | %s | %.2f | %s |%n",
                                target,
                                armdb.name(),
                                test,
                                red,
                                ratio,
                                verdict(ratio, bar)));
                    }
                }
            }
        }
        if (!nodeSection.isEmpty()) {
            sb.append('\n').append(nodeSection);
        }
        sb.append('\n').append(notes());
        return sb.toString();
    }

    /**
     * The page of a run that skipped the first phase: {@code base} (the page as it was, or null) with its node
     * section, if any, replaced by {@code nodeSection} and its notes by the current ones, the rest kept as it is.
     */
    static String splice(String base, String nodeSection) {
        String page = base == null || !base.startsWith("# ") ? TITLE : base;
        int notes = page.indexOf("\n## Notes");
        page = notes < 0 ? page : page.substring(0, notes + 1);
        int node = page.indexOf(NODE_HEADING);
        if (node >= 0) {
            int next = page.indexOf("\n## ", node);
            page = page.substring(0, node) + (next < 0 ? "" : page.substring(next + 1));
        }
        page = page.stripTrailing() + "\n\n";
        return page + nodeSection + "\n" + notes();
    }

    /**
     * The section of the second phase: where it was measured ({@code provenance}, a sentence), the nodes, the client,
     * the medians and the targets of issue 11.
     */
    static String nodeMarkdown(List<Row> nodeRows, List<Row> aloneRows, Options o, String provenance) {
        StringBuilder sb = new StringBuilder();
        sb.append(NODE_HEADING)
                .append("\n\nMeasured by ")
                .append(provenance)
                .append("\n\n")
                .append("armdb with default settings and one follower, each its own process with its own directory,")
                .append(" against Redis with AOF everysec and one replica, likewise. The client talks to the leader;")
                .append(" the follower streams every write. Each run starts both processes of a node afresh in a new")
                .append(" temporary directory on free loopback ports and measures once the follower has attached")
                .append(" (Redis: once the replica's first sync is done); afterwards the follower must hold as many")
                .append(" keys as its leader.\n\n");
        for (NodeTarget t : nodeTargets(List.of("bin/armdb"))) {
            sb.append("- ").append(t.name()).append(": ").append(t.shown()).append('\n');
        }
        StringBuilder sizes = new StringBuilder();
        for (int i = 0; i < o.pipelines().length; i++) {
            sizes.append(i == 0 ? "" : i == o.pipelines().length - 1 ? " and " : ", ")
                    .append(String.format(Locale.ROOT, "`-n %,d` at `-P %d`", o.nodeRequests()[i], o.pipelines()[i]));
        }
        sb.append(String.format(
                Locale.ROOT,
                "%nClient, against the leader: `redis-benchmark -h 127.0.0.1 -p PORT -t T -r %d -d %d -n N -P P"
                        + " --csv` (50 connections), `T` = `set`, then `get` (one call each), with %s. The CPU column"
                        + " adds the leader's and the follower's.%n%nRuns: %d per node, alternating (%s, %s, %s,"
                        + " ...); %s. Numbers are medians over runs.%n%n",
                KEYSPACE,
                VALUE,
                sizes,
                o.nodeRuns(),
                ARMDB_NODE,
                REDIS_NODE,
                ARMDB_NODE,
                o.warmup() > 0
                        ? String.format(
                                Locale.ROOT,
                                "each fresh node is first warmed up with `-n %,d -P 16` and then with one call of the measured size at each"
                                        + " other depth (not counted; long enough for the JVM to compile the hot paths of every depth)",
                                o.warmup())
                        : "no warm-up"));
        sb.append("| node | test | -P | -n | requests/s (median) | runs | p50 ms | p99 ms | CPU µs/request |\n");
        sb.append("|---|---|---:|---:|---:|---|---:|---:|---:|\n");
        for (Row r : nodeRows) {
            sb.append(String.format(
                    Locale.ROOT,
                    "| %s | %s | %d | %,d | %,.0f | %s | %.3f | %.3f | %.1f |%n",
                    r.server(),
                    r.test(),
                    r.pipeline(),
                    nodeRequests(o, r.pipeline()),
                    r.rps(),
                    runs(r),
                    r.p50ms(),
                    r.p99ms(),
                    r.cpuMicros()));
        }
        sb.append(nodeCpu(nodeRows, o));
        sb.append("\n| target | test | -P | armdb node / redis node | verdict |\n|---|---|---:|---:|---|\n");
        for (int p : o.pipelines()) {
            if (p != 1 && p != 16) {
                continue;
            }
            double bar = p == 16 ? 1.0 : 0.8;
            for (String test : List.of("SET", "GET")) {
                Row a = find(nodeRows, ARMDB_NODE, test, p);
                Row r = find(nodeRows, REDIS_NODE, test, p);
                if (a == null || r == null) {
                    continue;
                }
                double ratio = a.rps() / r.rps();
                sb.append(String.format(
                        Locale.ROOT,
                        "| ≥ %.1f× Redis at -P %d | %s | %d | %.2f | %s |%n",
                        bar,
                        p,
                        test,
                        p,
                        ratio,
                        verdict(ratio, bar)));
            }
        }
        sb.append(followerCost(nodeRows, aloneRows));
        return sb.toString();
    }

    /** The nodes' CPU time per request side by side: what each request costs the machine, load aside. */
    private static String nodeCpu(List<Row> nodeRows, Options o) {
        StringBuilder sb = new StringBuilder(
                        "\n| CPU µs/request | test | -P | armdb node | redis node | armdb / Redis |\n")
                .append("|---|---|---:|---:|---:|---:|\n");
        for (int p : o.pipelines()) {
            for (String test : TESTS) {
                Row a = find(nodeRows, ARMDB_NODE, test, p);
                Row r = find(nodeRows, REDIS_NODE, test, p);
                if (a != null && r != null) {
                    sb.append(String.format(
                            Locale.ROOT,
                            "| leader + follower | %s | %d | %.1f | %.1f | %.2f |%n",
                            test,
                            p,
                            a.cpuMicros(),
                            r.cpuMicros(),
                            a.cpuMicros() / r.cpuMicros()));
                }
            }
        }
        return sb.toString();
    }

    /** The SET rows at one pipeline depth of both nodes and of the servers they lead, measured alone. */
    private record SetRows(int pipeline, Row armdbNode, Row armdbAlone, Row redisNode, Row redisAlone) {}

    /** The {@link SetRows} at -P 16, then -P 1, of the depths where all four were measured. */
    private static List<SetRows> setRows(List<Row> nodeRows, List<Row> aloneRows) {
        List<SetRows> rows = new ArrayList<>();
        for (int p : new int[] {16, 1}) {
            Row an = find(nodeRows, ARMDB_NODE, "SET", p);
            Row aa = find(aloneRows, "armdb", "SET", p);
            Row rn = find(nodeRows, REDIS_NODE, "SET", p);
            Row ra = find(aloneRows, REDIS_AOF, "SET", p);
            if (an != null && aa != null && rn != null && ra != null) {
                rows.add(new SetRows(p, an, aa, rn, ra));
            }
        }
        return rows;
    }

    /**
     * The second target of issue 11: SET throughput of a leader with one follower against the same server alone (the
     * first phase's default armdb and Redis AOF everysec), at least 0.8 and at least Redis' own ratio; empty without
     * the first phase.
     */
    private static String followerCost(List<Row> nodeRows, List<Row> aloneRows) {
        StringBuilder sb = new StringBuilder();
        for (SetRows r : setRows(nodeRows, aloneRows)) {
            if (sb.isEmpty()) {
                sb.append(
                                "\n| target | test | -P | armdb with follower / alone | Redis with replica / alone | verdict |\n")
                        .append("|---|---|---:|---:|---:|---|\n");
            }
            double armdb = r.armdbNode().rps() / r.armdbAlone().rps();
            double redis = r.redisNode().rps() / r.redisAlone().rps();
            double bar = Math.max(0.8, redis);
            sb.append(String.format(
                    Locale.ROOT,
                    "| with one follower ≥ 0.8× alone and ≥ Redis' ratio | SET | %d | %.2f | %.2f | %s |%n",
                    r.pipeline(),
                    armdb,
                    redis,
                    verdict(armdb, bar)));
        }
        if (!sb.isEmpty()) {
            sb.append("\n(Alone: the first phase's `armdb` and `redis (AOF everysec)` rows, measured in the same run;")
                    .append(" their `-n` may differ from the node phase's.)\n")
                    .append(leaderOwnCost(nodeRows, aloneRows));
        }
        return sb.toString();
    }

    /**
     * What the follower costs the leader's own process: its CPU per SET alone and with the follower attached, for
     * armdb and Redis. Their ratio is the throughput a leader with cores of its own would keep; the follower process
     * shares this machine's cores, so the measured ratio above is lower by what it takes.
     */
    private static String leaderOwnCost(List<Row> nodeRows, List<Row> aloneRows) {
        StringBuilder sb = new StringBuilder();
        for (SetRows r : setRows(nodeRows, aloneRows)) {
            if (sb.isEmpty()) {
                sb.append("\nThe leader's own process (the follower's CPU left out), CPU µs per SET; alone / with is")
                        .append(" the share of its throughput a leader would keep on cores of its own:\n\n")
                        .append("| test | -P | armdb alone | armdb with follower | alone / with | Redis alone |")
                        .append(" Redis with replica | alone / with |\n")
                        .append("|---|---:|---:|---:|---:|---:|---:|---:|\n");
            }
            sb.append(String.format(
                    Locale.ROOT,
                    "| SET | %d | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |%n",
                    r.pipeline(),
                    r.armdbAlone().leaderCpuMicros(),
                    r.armdbNode().leaderCpuMicros(),
                    r.armdbAlone().leaderCpuMicros() / r.armdbNode().leaderCpuMicros(),
                    r.redisAlone().leaderCpuMicros(),
                    r.redisNode().leaderCpuMicros(),
                    r.redisAlone().leaderCpuMicros() / r.redisNode().leaderCpuMicros()));
        }
        return sb.toString();
    }

    private static int nodeRequests(Options o, int pipeline) {
        for (int i = 0; i < o.pipelines().length; i++) {
            if (o.pipelines()[i] == pipeline) {
                return o.nodeRequests()[i];
            }
        }
        throw new IllegalArgumentException(
                "expected one of the pipeline depths " + Arrays.toString(o.pipelines()) + ", got " + pipeline);
    }

    /** The requests/s of every run of {@code r}, comma-separated. */
    private static String runs(Row r) {
        StringBuilder runs = new StringBuilder();
        for (double v : r.runRps()) {
            runs.append(runs.isEmpty() ? "" : ", ").append(String.format(Locale.ROOT, "%,.0f", v));
        }
        return runs.toString();
    }

    /** The hand-written notes that close the report (a resource of this module). */
    static String notes() {
        try (InputStream in = ServerBench.class.getResourceAsStream("/server-notes.md")) {
            return in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int[] ints(String commaSeparated) {
        return Arrays.stream(commaSeparated.split(","))
                .mapToInt(Integer::parseInt)
                .toArray();
    }

    /** "met"/"missed" for a ratio that must reach {@code bar}, with the margin in percent of the bar. */
    static String verdict(double ratio, double bar) {
        double margin = 100 * (ratio - bar) / bar;
        return ratio >= bar
                ? String.format(Locale.ROOT, "met (+%.0f%% over the bar)", margin)
                : String.format(Locale.ROOT, "missed by %.0f%%", -margin);
    }

    /**
     * Runs the driver: {@code --armdb LAUNCHER --requests N --warmup N --runs R --pipelines 1,16 --node-runs R
     * --node-requests N1,N16 --paired-runs K --pidfile FILE --out FILE --base FILE --command TEXT --revision
     * COMMIT}. {@code --paired-runs} pairs per test and depth of {@link PairedServerBench} (0 skips it), at the node
     * phase's {@code -n}. With {@code --runs 0} only the node comparison runs, and the page written is {@code --base}
     * (the page as it was) with its node section replaced. Needs {@code redis-server} and {@code redis-benchmark} on
     * the PATH.
     */
    public static void main(String[] args) throws Exception {
        String armdb = null;
        int requests = 1_000_000;
        int warmup = 1_000_000;
        int runs = 3;
        int[] pipelines = {1, 16};
        int nodeRuns = 5;
        int pairedRuns = 5;
        int[] nodeRequests = null;
        Path pidFile = null;
        Path out = null;
        Path base = null;
        String command = "bin/bench server";
        String revision = "";
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--armdb" -> armdb = args[i + 1];
                case "--requests" -> requests = Integer.parseInt(args[i + 1]);
                case "--warmup" -> warmup = Integer.parseInt(args[i + 1]);
                case "--runs" -> runs = Integer.parseInt(args[i + 1]);
                case "--pipelines" -> pipelines = ints(args[i + 1]);
                case "--node-runs" -> nodeRuns = Integer.parseInt(args[i + 1]);
                case "--node-requests" -> nodeRequests = ints(args[i + 1]);
                case "--paired-runs" -> pairedRuns = Integer.parseInt(args[i + 1]);
                case "--pidfile" -> pidFile = Path.of(args[i + 1]);
                case "--out" -> out = Path.of(args[i + 1]);
                case "--command" -> command = args[i + 1];
                case "--revision" -> revision = args[i + 1];
                case "--base" -> base = Path.of(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (args.length % 2 != 0) {
            throw new IllegalArgumentException("options come in pairs: " + Arrays.toString(args));
        }
        if (armdb == null) {
            throw new IllegalArgumentException("--armdb LAUNCHER (the path of bin/armdb) is required");
        }
        for (String tool : List.of("redis-server", "redis-benchmark")) {
            if (!ServerProcesses.onPath(tool)) {
                throw new IllegalStateException(tool + " is not on the PATH (Debian: redis-server, redis-tools)");
            }
        }
        if (nodeRequests == null) {
            nodeRequests = new int[pipelines.length];
            Arrays.fill(nodeRequests, requests);
        }
        Options o = new Options(List.of(armdb), requests, warmup, runs, pipelines, pidFile, nodeRuns, nodeRequests);
        String before = loadAverage();
        List<Row> rows = medians(run(o));
        String middle = loadAverage();
        List<PairedServerBench.Pair> pairs =
                runs > 0 && pairedRuns > 0 ? PairedServerBench.run(o, pairedRuns) : List.of();
        String afterPairs = loadAverage();
        List<Row> nodeRows = medians(runNodes(o));
        String after = loadAverage();
        String paired = pairs.isEmpty()
                ? ""
                : PairedServerBench.markdown(
                                pairs,
                                o,
                                pairedRuns,
                                provenance(command, revision, "before " + middle + ", after " + afterPairs))
                        + "\n";
        String node = o.nodeRuns() > 0
                ? nodeMarkdown(
                        nodeRows, rows, o, provenance(command, revision, "before " + afterPairs + ", after " + after))
                : "";
        String md = runs > 0
                ? markdown(rows, paired + node, o, command, "before " + before + ", after " + after, revision)
                : splice(base != null && Files.exists(base) ? Files.readString(base) : null, node);
        System.out.print(md);
        if (out != null) {
            Files.writeString(out, md);
        }
    }
}
