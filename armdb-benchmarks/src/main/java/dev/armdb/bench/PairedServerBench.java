package dev.armdb.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The paired phase of {@code bin/bench server}, run between the first phase and the node comparison: the default
 * {@code armdb serve} against redis-server with AOF everysec, both running at once, measured turn by turn. The first
 * phase's medians compare calls made minutes apart (each server is started, warmed and measured in its own turn), so
 * on a shared machine a drift of the load between turns moves its ratios by ±20%. Here both fresh servers are
 * started and warmed first; then each redis-benchmark call against one is followed at once by the same call against
 * the other, the order swapping from pair to pair, and each pair gives one ratio. The median of those ratios is what
 * the target of issue 10 (default SET ≥ Redis AOF everysec at {@code -P 1} and {@code -P 16}) is judged by.
 *
 * <p>Used by one thread; it starts and always stops its own child processes.
 */
final class PairedServerBench {
    /** The heading of this phase's section of the page. */
    static final String HEADING = "## The default durability against Redis AOF everysec, turn by turn (issue 10)";

    /** The target's bar: armdb's requests/s over Redis'. */
    static final double BAR = 1.0;

    /**
     * One pair of calls made one right after the other: the test, depth and {@code -n}; each server's requests/s and
     * CPU µs per request; whether armdb went first.
     */
    record Pair(
            String test,
            int pipeline,
            int requests,
            double armdbRps,
            double redisRps,
            double armdbCpuMicros,
            double redisCpuMicros,
            boolean armdbFirst) {
        /** armdb's requests/s over Redis'. */
        double ratio() {
            return armdbRps / redisRps;
        }
    }

    private PairedServerBench() {}

    /**
     * Starts the default armdb and Redis AOF everysec in fresh temporary directories (removed afterwards), warms
     * each ({@link ServerBench#warm}), then per pipeline depth and test
     * makes {@code pairs} pairs of calls ({@link ServerBench.Options#nodeRequests} of the depth), armdb first in the
     * even pairs, and checks that both stored their SETs.
     */
    static List<Pair> run(ServerBench.Options o, int pairs) throws IOException, InterruptedException {
        List<ServerBench.Target> targets = ServerBench.targets(o.armdbLauncher());
        ServerBench.Target armdb = find(targets, "armdb");
        ServerBench.Target redis = find(targets, ServerBench.REDIS_AOF);
        List<Pair> out = new ArrayList<>();
        Path armdbDir = BenchDirs.create("paired-armdb");
        Path redisDir = BenchDirs.create("paired-redis");
        try (ServerProcesses procs = new ServerProcesses(o.pidFile());
                ServerProcesses.Server a = armdb.starter().start(procs, armdbDir);
                ServerProcesses.Server r = redis.starter().start(procs, redisDir)) {
            for (ServerProcesses.Server s : List.of(a, r)) {
                ServerBench.warm(s, o, o.nodeRequests());
            }
            for (int d = 0; d < o.pipelines().length; d++) {
                for (String test : ServerBench.TESTS) {
                    for (int i = 0; i < pairs; i++) {
                        out.add(pair(a, r, test, o.pipelines()[d], o.nodeRequests()[d], i % 2 == 0));
                    }
                }
            }
            ServerBench.checkStored(a, armdb.name());
            ServerBench.checkStored(r, redis.name());
        } finally {
            BenchDirs.delete(armdbDir);
            BenchDirs.delete(redisDir);
        }
        return out;
    }

    private static Pair pair(
            ServerProcesses.Server armdb,
            ServerProcesses.Server redis,
            String test,
            int pipeline,
            int requests,
            boolean armdbFirst)
            throws IOException, InterruptedException {
        double[] first = call(armdbFirst ? armdb : redis, test, pipeline, requests);
        double[] second = call(armdbFirst ? redis : armdb, test, pipeline, requests);
        double[] a = armdbFirst ? first : second;
        double[] r = armdbFirst ? second : first;
        Pair p = new Pair(test, pipeline, requests, a[0], r[0], a[1], r[1], armdbFirst);
        System.err.printf(
                Locale.ROOT,
                "server bench: paired %s -P %d: armdb %,.0f rps, redis %,.0f rps, ratio %.2f%n",
                test,
                pipeline,
                p.armdbRps(),
                p.redisRps(),
                p.ratio());
        return p;
    }

    /** One call: [requests/s, server CPU µs per request]. */
    private static double[] call(ServerProcesses.Server s, String test, int pipeline, int requests)
            throws IOException, InterruptedException {
        long cpuBefore = ServerBench.cpuNanos(List.of(s));
        double rps = ServerBench.benchmark(s, test, requests, pipeline)[0];
        return new double[] {rps, (ServerBench.cpuNanos(List.of(s)) - cpuBefore) / 1e3 / requests};
    }

    private static ServerBench.Target find(List<ServerBench.Target> targets, String name) {
        return targets.stream()
                .filter(t -> t.name().equals(name))
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("no server named " + name + " among " + targets));
    }

    /** The pairs of one test and depth, in the order they were made. */
    static List<Pair> of(List<Pair> pairs, String test, int pipeline) {
        return pairs.stream()
                .filter(p -> p.test().equals(test) && p.pipeline() == pipeline)
                .toList();
    }

    /** This phase's section: where it ran ({@code provenance}, a sentence), how, every pair, and the verdicts. */
    static String markdown(List<Pair> pairs, ServerBench.Options o, int pairsPerTest, String provenance) {
        StringBuilder sb = new StringBuilder(HEADING);
        sb.append("\n\nMeasured by ")
                .append(provenance)
                .append(String.format(
                        Locale.ROOT,
                        "%n%nThe first table's runs start, warm and measure one server at a time, so the calls"
                                + " its ratios compare were made minutes apart, and on a shared machine the load"
                                + " drifts in between. Here `armdb` and `%s` (the command lines above) are started"
                                + " afresh side by side and each is warmed up as above; then every redis-benchmark"
                                + " call against one is followed at once by the same call against the other, armdb"
                                + " first in every other pair. %d pairs per test and depth; each pair gives one ratio"
                                + " and the target is judged by their median. The server not being measured sits"
                                + " idle meanwhile.%n%n",
                        ServerBench.REDIS_AOF,
                        pairsPerTest))
                .append("| test | -P | -n | armdb requests/s (median) | Redis requests/s (median) |")
                .append(" armdb / Redis, pair by pair | median ratio | CPU µs/request armdb / Redis (median) |\n")
                .append("|---|---:|---:|---:|---:|---|---:|---:|\n");
        for (int p : o.pipelines()) {
            for (String test : ServerBench.TESTS) {
                List<Pair> g = of(pairs, test, p);
                if (g.isEmpty()) {
                    continue;
                }
                sb.append(String.format(
                        Locale.ROOT,
                        "| %s | %d | %,d | %,.0f | %,.0f | %s | %.2f | %.1f / %.1f |%n",
                        test,
                        p,
                        g.getFirst().requests(),
                        median(g, Pair::armdbRps),
                        median(g, Pair::redisRps),
                        ratios(g),
                        median(g, Pair::ratio),
                        median(g, Pair::armdbCpuMicros),
                        median(g, Pair::redisCpuMicros)));
            }
        }
        sb.append("\n| target | test | -P | median armdb / Redis | verdict |\n|---|---|---:|---:|---|\n");
        for (int p : o.pipelines()) {
            List<Pair> g = of(pairs, "SET", p);
            if (!g.isEmpty()) {
                double ratio = median(g, Pair::ratio);
                sb.append(String.format(
                        Locale.ROOT,
                        "| default durability ≥ Redis AOF everysec | SET | %d | %.2f | %s |%n",
                        p,
                        ratio,
                        ServerBench.verdict(ratio, BAR)));
            }
        }
        return sb.toString();
    }

    private static double median(List<Pair> g, java.util.function.ToDoubleFunction<Pair> f) {
        return ServerBench.median(g.stream().mapToDouble(f).toArray());
    }

    private static String ratios(List<Pair> g) {
        StringBuilder sb = new StringBuilder();
        for (Pair p : g) {
            sb.append(sb.isEmpty() ? "" : ", ").append(String.format(Locale.ROOT, "%.2f", p.ratio()));
        }
        return sb.toString();
    }
}
