package dev.armdb.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

/**
 * Replication as users run it: every node its own process. A full sync of an empty follower started as a fresh
 * {@code armdb serve} (cold JVM, default settings) against a Redis full sync of the same records, and the live lag of
 * writes sent to the leader over RESP until every follower process answers them, against Redis with AOF everysec and
 * its replicas. Both systems in the same invocation, taking turns; medians.
 *
 * <p>Used by one driver thread (plus one sampler thread during a lag run).
 */
final class NodeReplicationBench {
    /** One full sync: seconds from REPLICAOF until the follower answers DBSIZE = records. */
    record Sync(String system, int records, double[] seconds) {
        double median() {
            return ServerBench.median(seconds);
        }
    }

    /**
     * One lag run: writes offered at {@code rate} per second, lag until every follower answers each sampled write;
     * {@code warmup} is the run just before it, from the nodes' start (null for that run itself).
     */
    record Lag(
            String system,
            int rate,
            int followers,
            long samples,
            double p50Micros,
            double p99Micros,
            double maxMicros,
            Lag warmup) {}

    private static final int KEY = 16;
    /** The sampler's pause between two GET polls of a write not yet seen. */
    static final long POLL_PAUSE_NANOS = 20_000;
    /** The sampler's pause after a sample, so samples come at most about once per millisecond. */
    static final long SAMPLE_PAUSE_NANOS = 500_000;

    /**
     * Seconds of load before each lag run, reported apart: fresh JVMs compile their hot paths meanwhile. Four fresh
     * JVMs under this load on two cores were still compiling the follower's receive path at tier 4 (and deoptimising
     * it once) 9 to 14 s after start; a 5 s warm-up measured that, not the steady state. Set by main.
     */
    private static double warmupSeconds = 15;

    private static final int VALUE = 32;
    private static final List<String> ARMDB_SHAPE =
            List.of("--key-size", Integer.toString(KEY), "--value-size", Integer.toString(VALUE));
    private static final List<String> REDIS_AOF =
            List.of("--save", "", "--appendonly", "yes", "--appendfsync", "everysec");
    private static final List<String> REDIS_DISKLESS_MASTER =
            List.of("--save", "", "--appendonly", "no", "--repl-diskless-sync-delay", "0");
    private static final List<String> REDIS_REPLICA = List.of("--save", "", "--appendonly", "no");

    private NodeReplicationBench() {}

    /**
     * A full sync into a fresh armdb follower process: the leader ({@code serve}, default settings) is loaded with
     * {@code records} pipelined SETs, then an empty follower process is started and, once it answers PING, told
     * {@code REPLICAOF} the leader's replication port; timed until it answers DBSIZE = records.
     */
    static double armdbSync(ServerProcesses procs, List<String> launcher, Path dir, int records) throws Exception {
        int replPort = ServerProcesses.freePort();
        List<String> leaderArgs = new ArrayList<>(ARMDB_SHAPE);
        leaderArgs.addAll(List.of("--repl-port", Integer.toString(replPort)));
        try (ServerProcesses.Server leader =
                        procs.armdb(launcher, Files.createDirectories(dir.resolve("leader")), leaderArgs);
                Resp l = Resp.connect(leader.port(), 120_000)) {
            load(l, records);
            try (ServerProcesses.Server follower =
                            procs.armdb(launcher, Files.createDirectories(dir.resolve("follower")), ARMDB_SHAPE);
                    Resp f = Resp.connect(follower.port(), 120_000)) {
                long t0 = System.nanoTime();
                f.callText("REPLICAOF", "127.0.0.1", Integer.toString(replPort));
                return awaitKeys(f, records, t0, "armdb follower");
            }
        } finally {
            BenchDirs.delete(dir);
        }
    }

    /**
     * A Redis full sync of the same records: a master without persistence ({@code repl-diskless-sync-delay 0}) loaded
     * with the same pipelined SETs, a fresh replica told {@code REPLICAOF}; timed until its link is up and it answers
     * DBSIZE = records.
     */
    static double redisSync(ServerProcesses procs, Path dir, int records) throws Exception {
        try (ServerProcesses.Server master =
                        procs.redis(Files.createDirectories(dir.resolve("master")), REDIS_DISKLESS_MASTER);
                ServerProcesses.Server replica =
                        procs.redis(Files.createDirectories(dir.resolve("replica")), REDIS_REPLICA);
                Resp m = Resp.connect(master.port(), 120_000);
                Resp r = Resp.connect(replica.port(), 120_000)) {
            load(m, records);
            long t0 = System.nanoTime();
            r.callText("REPLICAOF", "127.0.0.1", Integer.toString(master.port()));
            return awaitKeys(r, records, t0, "redis replica");
        } finally {
            BenchDirs.delete(dir);
        }
    }

    /** Polls (every 0.5 ms, at most 10 minutes) until {@code r} answers DBSIZE = records; the seconds since t0. */
    private static double awaitKeys(Resp r, int records, long t0, String what) throws IOException {
        long deadline = t0 + TimeUnit.MINUTES.toNanos(10);
        while (true) {
            if (r.call("DBSIZE") instanceof Long n
                    && n == records
                    && r.callText("INFO", "replication").contains("master_link_status:up")) {
                return (System.nanoTime() - t0) / 1e9;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(what + " did not reach " + records + " keys within 10 min: "
                        + r.callText("INFO", "replication"));
            }
            LockSupport.parkNanos(500_000);
        }
    }

    /** Pipelined SETs of records 0..records-1 (the bench's keys and values), 1,000 per round trip. */
    static void load(Resp r, int records) throws IOException {
        byte[] k = new byte[KEY];
        byte[] v = new byte[VALUE];
        for (int i = 0; i < records; i += 1_000) {
            int end = Math.min(records, i + 1_000);
            for (int j = i; j < end; j++) {
                ReplicationBench.key(k, j);
                ReplicationBench.value(v, j);
                r.write("SET", k, v);
            }
            r.flush();
            for (int j = i; j < end; j++) {
                Object reply = r.read();
                if (!"OK".equals(reply)) {
                    throw new IllegalStateException("SET of record " + j + " failed: " + reply);
                }
            }
        }
        Object size = r.call("DBSIZE");
        if (!(size instanceof Long n) || n != records) {
            throw new IllegalStateException("the leader holds " + size + " keys after loading " + records);
        }
    }

    /**
     * The live lag of an armdb node: a leader ({@code serve}, default settings) and {@code followers} follower
     * processes ({@code --follow}); see {@link #lag(Resp, List, int, double, int)}.
     */
    static Lag armdbLag(
            ServerProcesses procs, List<String> launcher, Path dir, int followers, int rate, double seconds, int keys)
            throws Exception {
        int replPort = ServerProcesses.freePort();
        List<String> leaderArgs = new ArrayList<>(ARMDB_SHAPE);
        leaderArgs.addAll(List.of("--repl-port", Integer.toString(replPort)));
        List<ServerProcesses.Server> servers = new ArrayList<>();
        try {
            ServerProcesses.Server leader =
                    procs.armdb(launcher, Files.createDirectories(dir.resolve("leader")), leaderArgs);
            servers.add(leader);
            List<String> followerArgs = new ArrayList<>(ARMDB_SHAPE);
            followerArgs.addAll(List.of("--follow", "127.0.0.1:" + replPort));
            for (int i = 0; i < followers; i++) {
                servers.add(procs.armdb(launcher, Files.createDirectories(dir.resolve("follower" + i)), followerArgs));
            }
            return lagOver("armdb node", servers, followers, rate, seconds, keys);
        } finally {
            closeAll(servers);
            BenchDirs.delete(dir);
        }
    }

    /** The live lag of Redis with AOF everysec and {@code followers} replicas (Redis' default replication). */
    static Lag redisLag(ServerProcesses procs, Path dir, int followers, int rate, double seconds, int keys)
            throws Exception {
        List<ServerProcesses.Server> servers = new ArrayList<>();
        try {
            ServerProcesses.Server master = procs.redis(Files.createDirectories(dir.resolve("master")), REDIS_AOF);
            servers.add(master);
            List<String> replicaArgs = new ArrayList<>(REDIS_AOF);
            replicaArgs.addAll(List.of("--replicaof", "127.0.0.1", Integer.toString(master.port())));
            for (int i = 0; i < followers; i++) {
                servers.add(procs.redis(Files.createDirectories(dir.resolve("replica" + i)), replicaArgs));
            }
            return lagOver("redis node", servers, followers, rate, seconds, keys);
        } finally {
            closeAll(servers);
            BenchDirs.delete(dir);
        }
    }

    private static Lag lagOver(
            String system, List<ServerProcesses.Server> servers, int followers, int rate, double seconds, int keys)
            throws Exception {
        List<Resp> conns = new ArrayList<>();
        try {
            for (ServerProcesses.Server s : servers) {
                conns.add(Resp.connect(s.port(), 30_000));
            }
            for (Resp f : conns.subList(1, conns.size())) {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(ServerProcesses.LINK_SECONDS);
                while (!f.callText("INFO", "replication").contains("master_link_status:up")) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException(system + ": a follower did not attach");
                    }
                    Thread.sleep(50);
                }
            }
            Lag warm = lag(conns.get(0), conns.subList(1, conns.size()), rate, warmupSeconds, keys);
            System.err.println("repl node bench: warm-up " + system + " " + warm);
            Lag l = lag(conns.get(0), conns.subList(1, conns.size()), rate, seconds, keys);
            return new Lag(system, rate, followers, l.samples(), l.p50Micros(), l.p99Micros(), l.maxMicros(), warm);
        } finally {
            for (Resp r : conns) {
                r.close();
            }
        }
    }

    /**
     * Offers {@code rate} SETs per second to {@code leader} for {@code seconds}, in pipelined bursts of rate/1000
     * every millisecond; meanwhile a sampler repeatedly takes the newest write sent and polls every follower with GET
     * until each answers its value, recording the time from the write's scheduled start (so a late driver counts
     * against the system, not for it). The sampler pauses {@link #POLL_PAUSE_NANOS} between polls and {@link
     * #SAMPLE_PAUSE_NANOS} between samples, so that on a small machine it does not take the CPU the nodes need (a
     * tight poll loop took a whole core, from leader and follower alike). Where the samples' time went (the driver's
     * sending, the leader's reply, the sampler, the follower) goes to standard error, see {@link LagSplit}.
     */
    static Lag lag(Resp leader, List<Resp> followers, int rate, double seconds, int keys) throws Exception {
        int ops = (int) Math.max(1, rate * seconds);
        int perTick = Math.max(1, rate / 1000);
        long tick = 1_000_000_000L * perTick / rate;
        LagRun run = new LagRun(leader, followers, ops, keys, seconds);
        long t0 = System.nanoTime() + 5_000_000;
        Thread sampler = Thread.ofPlatform().start(run::sampleAll);
        for (int i = 0; i < ops; i += perTick) {
            long start = t0 + (i / perTick) * tick;
            long wait = start - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
            }
            run.burst(i, Math.min(ops, i + perTick), start);
        }
        sampler.join(120_000);
        if (run.failures > 0) {
            throw new IllegalStateException(run.failures + " sampled writes never reached every follower");
        }
        String parts = run.split.describe();
        if (!parts.isEmpty()) {
            System.err.println("repl node bench: " + parts.replace("\n", "\nrepl node bench: "));
        }
        Histogram h = run.split.histogram();
        return new Lag(
                "",
                rate,
                followers.size(),
                h.getTotalCount(),
                h.getValueAtPercentile(50) / 1e3,
                h.getValueAtPercentile(99) / 1e3,
                h.getMaxValue() / 1e3,
                null);
    }

    /**
     * One lag run's state: the driver's bursts and the sampler's samples. A burst and a sample are each a method of
     * their own, called once per burst or sample, so that the warm-up run compiles them as whole methods and the
     * measured run starts with that code. As loops inside one long call they were compiled only for that call (on-stack
     * replacement): each measured run began in slower code and compiled it again meanwhile, taking CPU from the nodes of
     * whichever system was measured first.
     *
     * <p>Threading: {@link #burst} on the driver thread, {@link #sampleAll} on the sampler thread; a burst's times are
     * published to the sampler through {@link #published}.
     */
    private static final class LagRun {
        private final Resp leader;
        private final List<Resp> followers;
        private final int ops;
        private final int keys;
        private final long[] intended;
        private final long[] sent;
        private final long[] replied;
        private final AtomicInteger published = new AtomicInteger();
        private final LagSplit split;
        private final byte[] key = new byte[KEY];
        private final byte[] value = new byte[VALUE];
        private final byte[] sampleKey = new byte[KEY];
        private final byte[] want = new byte[VALUE];
        /** Samples that never reached every follower, or a sampler's I/O failure; read after the sampler ended. */
        private int failures;

        LagRun(Resp leader, List<Resp> followers, int ops, int keys, double seconds) {
            this.leader = leader;
            this.followers = followers;
            this.ops = ops;
            this.keys = keys;
            intended = new long[ops];
            sent = new long[ops];
            replied = new long[ops];
            // a sample takes at least the sampler's pause
            split = new LagSplit((int) Math.min(ops, (long) (seconds * 1e9 / SAMPLE_PAUSE_NANOS) + 1));
        }

        /** Sends writes {@code from} (inclusive) to {@code to} as one pipelined burst and reads their replies. */
        void burst(int from, int to, long start) throws IOException {
            for (int j = from; j < to; j++) {
                ReplicationBench.key(key, id(j, keys));
                stamp(value, j);
                leader.write("SET", key, value);
                intended[j] = start;
            }
            leader.flush();
            sent[to - 1] = System.nanoTime();
            for (int j = from; j < to; j++) {
                Object reply = leader.read();
                if (!"OK".equals(reply)) {
                    throw new IllegalStateException("SET failed: " + reply);
                }
            }
            replied[to - 1] = System.nanoTime();
            // volatile write: intended[], sent[] and replied[] of this burst are visible to the sampler before its
            // indexes are
            published.set(to);
        }

        /** Samples the newest write published until the last one was sampled. */
        void sampleAll() {
            int last = -1;
            try {
                while (last < ops - 1) {
                    int newest = published.get() - 1;
                    if (newest <= last) {
                        LockSupport.parkNanos(20_000);
                        continue;
                    }
                    sample(newest);
                    last = newest;
                    LockSupport.parkNanos(SAMPLE_PAUSE_NANOS);
                }
            } catch (IOException e) {
                failures++;
            }
        }

        /** Polls every follower for write {@code newest} until each answers it, and records its lag. */
        private void sample(int newest) throws IOException {
            ReplicationBench.key(sampleKey, id(newest, keys));
            stamp(want, newest);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            long firstPoll = System.nanoTime();
            int missed = 0;
            for (Resp f : followers) {
                while (!(f.call("GET", sampleKey) instanceof byte[] got && Arrays.equals(got, want))) {
                    missed++;
                    if (System.nanoTime() > deadline) {
                        failures++;
                        return;
                    }
                    // a short pause between polls: a tight GET loop would take a core from the nodes measured
                    LockSupport.parkNanos(POLL_PAUSE_NANOS);
                }
            }
            long lag = System.nanoTime() - intended[newest];
            split.record(
                    lag,
                    sent[newest] - intended[newest],
                    replied[newest] - intended[newest],
                    firstPoll - intended[newest],
                    missed);
        }
    }

    /** The key write {@code i} goes to: spread over {@code keys} keys. */
    private static int id(int i, int keys) {
        return (int) ((i * 2_654_435_761L) % keys);
    }

    /** Write {@code i}'s value: the write's number in the first four bytes, the rest zero. */
    private static void stamp(byte[] v, int i) {
        v[0] = (byte) (i >>> 24);
        v[1] = (byte) (i >>> 16);
        v[2] = (byte) (i >>> 8);
        v[3] = (byte) i;
    }

    private static void closeAll(List<ServerProcesses.Server> servers) {
        for (int i = servers.size() - 1; i >= 0; i--) {
            servers.get(i).close();
        }
    }

    /** The heading of this bench's section of the replication page. */
    static final String SECTION = "## Replication as users run it: every node its own process (issue 11)";

    /** The section: what ran, the tables, and the targets met or missed by how much. */
    static String markdown(String header, List<Sync> syncs, List<Lag> lags, int runs) {
        StringBuilder sb =
                new StringBuilder(SECTION).append("\n\n").append(header).append("\n\n");
        sb.append("Every node is its own process on 127.0.0.1 with its own directory: `bin/armdb serve --key-size 16")
                .append(" --value-size 32` with default settings otherwise (durability group every 10 ms, the default")
                .append(" shard count: one per core as a power of two, 2 to 16),")
                .append(" against redis-server. Runs alternate between the systems; numbers are medians of ")
                .append(runs)
                .append(" runs.\n\n");
        sb.append("### Full sync into a fresh follower process\n\n")
                .append("The leader is loaded with the records by pipelined SETs (1,000 per round trip); then an empty")
                .append(" follower process is started (armdb: `serve` with no `--follow`, a cold JVM; Redis: a replica")
                .append(" without persistence, the master `--repl-diskless-sync-delay 0` without persistence) and,")
                .append(" once it answers PING, told `REPLICAOF` the leader; timed until it answers `DBSIZE` = records")
                .append(" with its link up.\n\n");
        sb.append(
                "| records | armdb s | runs | Redis s | runs | Redis / armdb time |\n|---:|---:|---|---:|---|---:|\n");
        for (int i = 0; i + 1 < syncs.size(); i += 2) {
            Sync a = syncs.get(i);
            Sync r = syncs.get(i + 1);
            sb.append(String.format(
                    java.util.Locale.ROOT,
                    "| %,d | %.2f | %s | %.2f | %s | %.2f× |%n",
                    a.records(),
                    a.median(),
                    list(a.seconds()),
                    r.median(),
                    list(r.seconds()),
                    r.median() / a.median()));
        }
        sb.append("\n### Live lag: a write sent to the leader until every follower process answers it\n\n")
                .append("Writes (`SET`, 16-byte keys spread over 200,000 keys, 32-byte values) are offered over one")
                .append(" connection in pipelined bursts of rate/1000 every millisecond; a sampler takes the newest")
                .append(
                        " write sent and polls every follower with `GET` until each answers its value (pausing 20 µs between")
                .append(
                        " polls), then, after a 0.5 ms pause, the next newest; the lag runs from the write's scheduled start. Redis: master and replicas with AOF")
                .append(" everysec. Each node is started afresh; the first ")
                .append(String.format(java.util.Locale.ROOT, "%.0f", warmupSeconds))
                .append(" s at the same rate are a run of their own, the warm-up (fresh JVMs compile their hot paths")
                .append(" meanwhile), shown in the last two columns; the steady-state columns and the targets are the")
                .append(" run after it.\n\n");
        sb.append("| node | followers | offered writes/s | samples | p50 µs | p99 µs | max µs | warm-up p50 µs |")
                .append(" warm-up p99 µs |\n")
                .append("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Lag l : lags) {
            sb.append(String.format(
                    java.util.Locale.ROOT,
                    "| %s | %d | %,d | %,d | %.0f | %.0f | %.0f | %s | %s |%n",
                    l.system(),
                    l.followers(),
                    l.rate(),
                    l.samples(),
                    l.p50Micros(),
                    l.p99Micros(),
                    l.maxMicros(),
                    l.warmup() == null
                            ? ""
                            : String.format(
                                    java.util.Locale.ROOT, "%.0f", l.warmup().p50Micros()),
                    l.warmup() == null
                            ? ""
                            : String.format(
                                    java.util.Locale.ROOT, "%.0f", l.warmup().p99Micros())));
        }
        sb.append("\n### Targets (issue 11)\n\n| target | measured | verdict |\n|---|---|---|\n");
        for (int i = 0; i + 1 < syncs.size(); i += 2) {
            double ratio = syncs.get(i + 1).median() / syncs.get(i).median();
            sb.append(String.format(
                    java.util.Locale.ROOT,
                    "| full sync into a fresh follower process ≥ 3× faster than Redis (%,d records) | %.2f× | %s |%n",
                    syncs.get(i).records(),
                    ratio,
                    ServerBench.verdict(ratio, 3)));
        }
        for (Lag l : lags) {
            if (l.system().startsWith("armdb") && l.rate() == 50_000) {
                double ms = l.p99Micros() / 1000;
                sb.append(String.format(
                        java.util.Locale.ROOT,
                        "| lag p99 ≤ 1 ms at 50k writes/s, %d follower process(es) | %.2f ms | %s |%n",
                        l.followers(),
                        ms,
                        ms <= 1 ? "met" : String.format(java.util.Locale.ROOT, "missed (%.1f× the bar)", ms)));
            }
        }
        return sb.toString();
    }

    private static String list(double[] v) {
        StringBuilder b = new StringBuilder();
        for (double d : v) {
            b.append(b.isEmpty() ? "" : ", ").append(String.format(java.util.Locale.ROOT, "%.2f", d));
        }
        return b.toString();
    }

    /**
     * Runs the bench: {@code --armdb LAUNCHER --records N1,N2 --runs R --rates R1,R2 --followers F1,F2 --seconds S
     * --pidfile FILE --header TEXT --page FILE}. Writes this section into {@code --page} (replacing the section if the
     * page has it, else appending it). Needs redis-server on the PATH.
     */
    public static void main(String[] args) throws Exception {
        List<String> launcher = null;
        int[] records = {1_000_000};
        int[] rates = {50_000};
        int[] followers = {1, 3};
        int runs = 3;
        double seconds = 5;
        Path pidFile = null;
        Path page = null;
        String header = "";
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--armdb" -> launcher = List.of(args[i + 1]);
                case "--records" -> records = ints(args[i + 1]);
                case "--rates" -> rates = ints(args[i + 1]);
                case "--followers" -> followers = ints(args[i + 1]);
                case "--runs" -> runs = Integer.parseInt(args[i + 1]);
                case "--seconds" -> seconds = Double.parseDouble(args[i + 1]);
                case "--warmup-seconds" -> warmupSeconds = Double.parseDouble(args[i + 1]);
                case "--pidfile" -> pidFile = Path.of(args[i + 1]);
                case "--page" -> page = Path.of(args[i + 1]);
                case "--header" -> header = args[i + 1];
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (launcher == null || args.length % 2 != 0) {
            throw new IllegalArgumentException(
                    "expected --armdb LAUNCHER and options in pairs, got " + Arrays.toString(args));
        }
        if (!ServerProcesses.onPath("redis-server")) {
            throw new IllegalStateException("redis-server is not on the PATH (Debian: apt-get install redis-server)");
        }
        String loadBefore = ServerBench.loadAverage();
        Path root = BenchDirs.create("repl-node");
        List<Sync> syncs = new ArrayList<>();
        List<Lag> lags = new ArrayList<>();
        try (ServerProcesses procs = new ServerProcesses(pidFile)) {
            for (int n : records) {
                double[] a = new double[runs];
                double[] r = new double[runs];
                for (int i = 0; i < runs; i++) {
                    a[i] = progress("armdb full sync " + n, armdbSync(procs, launcher, root.resolve("a" + n + i), n));
                    r[i] = progress("redis full sync " + n, redisSync(procs, root.resolve("r" + n + i), n));
                }
                syncs.add(new Sync("armdb", n, a));
                syncs.add(new Sync("redis", n, r));
            }
            for (int f : followers) {
                for (int rate : rates) {
                    lags.add(progress(
                            armdbLag(procs, launcher, root.resolve("la" + f + rate), f, rate, seconds, 200_000)));
                    lags.add(progress(redisLag(procs, root.resolve("lr" + f + rate), f, rate, seconds, 200_000)));
                }
            }
        } finally {
            BenchDirs.delete(root);
        }
        String md = markdown(
                header + " Redis: " + ServerBench.version("redis-server") + ". Load averages (1, 5, 15 min)"
                        + " before " + loadBefore + ", after " + ServerBench.loadAverage() + ".",
                syncs,
                lags,
                runs);
        System.out.println(md);
        if (page != null) {
            String old = Files.exists(page) ? Files.readString(page) : "";
            int at = old.indexOf(SECTION);
            String before = at < 0 ? old : old.substring(0, at);
            String after = "";
            if (at >= 0) {
                int next = old.indexOf("\n## ", at + SECTION.length());
                after = next < 0 ? "" : old.substring(next + 1);
            }
            Files.writeString(
                    page,
                    before
                            + (before.isEmpty() || before.endsWith("\n\n") ? "" : "\n")
                            + md
                            + (after.isEmpty() ? "" : "\n" + after));
        }
    }

    private static double progress(String what, double seconds) {
        System.err.printf(java.util.Locale.ROOT, "repl node bench: %s %.3f s%n", what, seconds);
        return seconds;
    }

    private static Lag progress(Lag lag) {
        System.err.println("repl node bench: " + lag);
        return lag;
    }

    private static int[] ints(String csv) {
        return Arrays.stream(csv.split(",")).mapToInt(Integer::parseInt).toArray();
    }
}
