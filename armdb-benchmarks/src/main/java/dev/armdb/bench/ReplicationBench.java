package dev.armdb.bench;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.FixedMap;
import dev.armdb.index.KeyHash;
import dev.armdb.replication.ReplicationTls;
import dev.armdb.replication.follower.ReplicationClient;
import dev.armdb.replication.follower.ReplicationClientConfig;
import dev.armdb.replication.leader.ReplicationServer;
import dev.armdb.replication.leader.ReplicationServerConfig;
import dev.armdb.store.SlotLayout;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import javax.net.ssl.SSLContext;
import org.HdrHistogram.Histogram;

/**
 * Replication load driver (not JMH: it measures a system of threads and sockets): catch-up throughput beside the
 * raw loopback bandwidth of a plain socket copy measured in the same run and beside a Redis full sync of the same
 * records (redis-server master and replica on loopback), resync bytes after a short disconnect against the changed
 * bytes and a full copy, live lag at fixed offered write rates with 1 and more followers (HdrHistogram, measured
 * from each write's intended start, so coordinated omission is corrected), and leader put throughput and latency
 * with 0, 1 and more followers attached. Loopback only; every loop is bounded in count and time. Used by one thread
 * (it starts its own helpers and child processes and stops them).
 */
public final class ReplicationBench {
    /**
     * One measured catch-up, beside two plain socket copies of the same bytes over loopback: into a reused buffer
     * ({@code rawMBps}) and into a new file ({@code rawToFileMBps}, what a follower cannot do without: land the bytes
     * in pages it has not used before).
     */
    record CatchUp(int records, double seconds, double slotMBps, double rawMBps, double rawToFileMBps) {}

    /** One lag run. */
    record Lag(int rate, int followers, long samples, double p50us, double p99us, double p999us, double maxUs) {}

    /** Redis full sync of the same records: REPLICAOF until the link is up and the replica holds them all. */
    record RedisSync(int records, double seconds) {}

    /**
     * One resync after a short disconnect.
     *
     * @param records records on the leader
     * @param changed records updated while the follower was away
     * @param bytesReceived bytes the follower received on reconnecting (frames, handshake and heartbeats included)
     * @param changedBytes {@code changed * (key + value)}
     * @param fullCopyBytes {@code records * slot size}: what a full rescan of every slot (armdb-Rust) transfers
     * @param path how the leader's sessions caught up (backlog, partial scan or full scan, with counts)
     * @param seconds reconnect until every shard applied the leader's last LSN
     */
    record Resync(
            int records,
            int changed,
            long bytesReceived,
            long changedBytes,
            long fullCopyBytes,
            String path,
            double seconds) {}

    /** Leader puts with some followers: median throughput of untimed runs and the service time of each put. */
    record Puts(int followers, double opsPerSec, double p50us, double p99us, double p999us, double maxUs) {}

    private static final int KEY = 16;
    private static final int VALUE = 32;
    private static final int SHARDS = 4;

    private ReplicationBench() {}

    static FixedConfig config() {
        return FixedConfig.builder()
                .keySize(KEY)
                .valueSize(VALUE)
                .shards(SHARDS)
                .durability(Durability.NONE)
                .growthStepBytes(16L << 20)
                .build();
    }

    static void key(byte[] k, int i) {
        k[0] = (byte) (i >>> 24);
        k[1] = (byte) (i >>> 16);
        k[2] = (byte) (i >>> 8);
        k[3] = (byte) i;
        k[8] = (byte) (i * 31);
    }

    /** Loads {@code records} keys into a leader. */
    static void load(FixedMap leader, int records) {
        byte[] k = new byte[KEY];
        byte[] v = new byte[VALUE];
        for (int i = 0; i < records; i++) {
            key(k, i);
            value(v, i);
            leader.put(k, v);
        }
    }

    /** Bytes per second of a plain Java socket copy of {@code bytes} over loopback, in MB/s. */
    static double rawLoopbackMBps(long bytes) throws Exception {
        return rawLoopbackMBps(bytes, null);
    }

    /**
     * Bytes per second of a plain Java socket copy of {@code bytes} over loopback, in MB/s; with {@code file} not
     * null, the reader writes what it reads into that new file (not forced: the page cache, as a follower with
     * durability NONE), and the copy counts as done when the last byte is written.
     */
    static double rawLoopbackMBps(long bytes, Path file) throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread reader = Thread.ofPlatform().start(() -> {
                try (Socket s = server.accept();
                        InputStream in = s.getInputStream();
                        FileChannel out = file == null
                                ? null
                                : FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                    byte[] buf = new byte[256 << 10];
                    long got = 0;
                    while (got < bytes) {
                        int n = in.read(buf);
                        if (n < 0) {
                            break;
                        }
                        if (out != null) {
                            ByteBuffer b = ByteBuffer.wrap(buf, 0, n);
                            while (b.hasRemaining()) {
                                out.write(b, got + b.position());
                            }
                        }
                        got += n;
                    }
                } catch (IOException ignored) {
                    // measured by the writer
                }
            });
            long t0 = System.nanoTime();
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
                    OutputStream out = s.getOutputStream()) {
                byte[] buf = new byte[256 << 10];
                for (long sent = 0; sent < bytes; sent += buf.length) {
                    out.write(buf, 0, (int) Math.min(buf.length, bytes - sent));
                }
            }
            reader.join(120_000);
            return bytes / ((System.nanoTime() - t0) / 1e9) / 1e6;
        }
    }

    /**
     * Catches an empty follower up with a leader of {@code records} records, over TLS when {@code tls} is not null;
     * compares with raw loopback.
     */
    static CatchUp catchUp(Path root, int records, SSLContext tls) throws Exception {
        long slotBytes = (long) records * SlotLayout.slotSize(KEY, VALUE);
        double raw = rawLoopbackMBps(slotBytes);
        try (FixedMap leader = FixedMap.open(root.resolve("cu-leader"), config());
                FixedMap follower = FixedMap.open(root.resolve("cu-follower"), config());
                ReplicationServer server = ReplicationServer.start(
                        leader, ReplicationServerConfig.defaults().withTls(tls))) {
            load(leader, records);
            long t0 = System.nanoTime();
            try (ReplicationClient client = ReplicationClient.start(
                    follower,
                    server.address(),
                    ReplicationClientConfig.defaults().withTls(tls))) {
                awaitAll(leader, List.of(client));
                double secs = (System.nanoTime() - t0) / 1e9;
                // after the catch-up, its files still there: this copy too lands in pages not used before
                Path copy = root.resolve("raw-copy");
                double rawToFile = rawLoopbackMBps(slotBytes, copy);
                Files.delete(copy);
                return new CatchUp(records, secs, slotBytes / secs / 1e6, raw, rawToFile);
            }
        }
    }

    /**
     * A TLS context for the benchmark: a self-signed ECDSA P-256 key for 127.0.0.1 made by this JDK's keytool in
     * {@code dir}, used by leader and follower alike.
     */
    static SSLContext benchTls(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path store = dir.resolve("bench.p12");
        char[] password = "armdb-bench".toCharArray();
        ReplicationTls.writeSelfSignedKeyStore(store, password, List.of("ip:127.0.0.1", "dns:localhost"), 2);
        return ReplicationTls.fromKeyStore(store, password);
    }

    /** {@link #catchUp} {@code runs} times; the run with the median time (raw loopback copies: their medians). */
    static CatchUp catchUpMedian(Path root, int records, int runs, SSLContext tls) throws Exception {
        List<CatchUp> all = new ArrayList<>();
        for (int r = 0; r < runs; r++) {
            Path dir = root.resolve("cu-" + records + "-" + r);
            try {
                all.add(catchUp(dir, records, tls));
            } finally {
                BenchDirs.delete(dir);
            }
        }
        all.sort(Comparator.comparingDouble(CatchUp::seconds));
        CatchUp mid = all.get(all.size() / 2);
        double raw =
                ServerBench.median(all.stream().mapToDouble(CatchUp::rawMBps).toArray());
        double rawToFile = ServerBench.median(
                all.stream().mapToDouble(CatchUp::rawToFileMBps).toArray());
        return new CatchUp(mid.records(), mid.seconds(), mid.slotMBps(), raw, rawToFile);
    }

    /** The value {@link #load} writes for record {@code i} (the rest of {@code v} is left as it is). */
    static void value(byte[] v, int i) {
        v[0] = (byte) i;
    }

    /**
     * A Redis full sync of the records {@link #load} writes: a master ({@code repl-diskless-sync-delay 0}) and a
     * replica, both {@code --save '' --appendonly no} on loopback; the master is loaded with pipelined SETs of the
     * same key and value bytes; timed from REPLICAOF until the replica reports {@code master_link_status:up} and
     * holds every key.
     */
    static RedisSync redisFullSync(Path root, int records, ServerProcesses procs) throws Exception {
        Path mdir = Files.createDirectories(root.resolve("redis-master"));
        Path rdir = Files.createDirectories(root.resolve("redis-replica"));
        List<String> noPersistence = List.of("--save", "", "--appendonly", "no");
        List<String> masterArgs = new ArrayList<>(noPersistence);
        masterArgs.addAll(List.of("--repl-diskless-sync-delay", "0"));
        try (ServerProcesses.Server master = procs.redis(mdir, masterArgs);
                ServerProcesses.Server replica = procs.redis(rdir, noPersistence);
                Resp m = Resp.connect(master.port(), 120_000);
                Resp r = Resp.connect(replica.port(), 120_000)) {
            loadRedis(m, records);
            long loaded = Long.parseLong(m.callText("DBSIZE"));
            if (loaded != records) {
                throw new IllegalStateException("redis master holds " + loaded + " keys, expected " + records);
            }
            long t0 = System.nanoTime();
            long deadline = t0 + TimeUnit.MINUTES.toNanos(10);
            r.callText("REPLICAOF", "127.0.0.1", Integer.toString(master.port()));
            while (true) {
                if (r.callText("INFO", "replication").contains("master_link_status:up")
                        && r.call("DBSIZE") instanceof Long n
                        && n == records) {
                    return new RedisSync(records, (System.nanoTime() - t0) / 1e9);
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("redis replica did not sync " + records + " keys within 10 min: "
                            + r.callText("INFO", "replication"));
                }
                LockSupport.parkNanos(500_000);
            }
        } finally {
            BenchDirs.delete(mdir);
            BenchDirs.delete(rdir);
        }
    }

    /** {@link #redisFullSync} {@code runs} times (fresh servers each time); the median. */
    static RedisSync redisFullSyncMedian(Path root, int records, int runs, ServerProcesses procs) throws Exception {
        double[] secs = new double[runs];
        for (int i = 0; i < runs; i++) {
            secs[i] = redisFullSync(root.resolve("redis-" + records + "-" + i), records, procs)
                    .seconds();
        }
        return new RedisSync(records, ServerBench.median(secs));
    }

    /** Pipelined SETs of the records {@link #load} writes, 1,000 commands per round trip. */
    private static void loadRedis(Resp m, int records) throws IOException {
        int batch = 1_000;
        for (int i = 0; i < records; i += batch) {
            int end = Math.min(records, i + batch);
            for (int j = i; j < end; j++) {
                byte[] k = new byte[KEY];
                byte[] v = new byte[VALUE];
                key(k, j);
                value(v, j);
                m.write("SET", k, v);
            }
            m.flush();
            for (int j = i; j < end; j++) {
                Object reply = m.read();
                if (!"OK".equals(reply)) {
                    throw new IllegalStateException("redis SET failed: " + reply);
                }
            }
        }
    }

    /**
     * Resync after a short disconnect, once per fraction: a follower catches up on the leader's {@code records},
     * stops (client and collection closed), the leader updates {@code fraction * records} records, and the follower
     * reopens its directory and reconnects; measures the bytes it then receives.
     */
    static List<Resync> resync(Path root, int records, double[] fractions) throws Exception {
        List<Resync> out = new ArrayList<>();
        try (FixedMap leader = FixedMap.open(root.resolve("resync-leader"), config());
                ReplicationServer server = ReplicationServer.start(leader, ReplicationServerConfig.defaults())) {
            load(leader, records);
            byte[] k = new byte[KEY];
            byte[] v = new byte[VALUE];
            for (int f = 0; f < fractions.length; f++) {
                Path dir = root.resolve("resync-follower-" + f);
                try (FixedMap m = FixedMap.open(dir, config());
                        ReplicationClient c =
                                ReplicationClient.start(m, server.address(), ReplicationClientConfig.defaults())) {
                    awaitAll(leader, List.of(c));
                }
                int changed = (int) Math.max(1, Math.min(records, Math.round(records * fractions[f])));
                int stride = records / changed;
                for (int i = 0; i < changed; i++) {
                    int id = i * stride;
                    key(k, id);
                    value(v, id);
                    v[3] = (byte) (f + 1);
                    leader.put(k, v);
                }
                Map<String, Long> before = server.metrics().snapshot();
                long t0 = System.nanoTime();
                try (FixedMap m = FixedMap.open(dir, config());
                        ReplicationClient c =
                                ReplicationClient.start(m, server.address(), ReplicationClientConfig.defaults())) {
                    awaitAll(leader, List.of(c));
                    double secs = (System.nanoTime() - t0) / 1e9;
                    out.add(new Resync(
                            records,
                            changed,
                            c.bytesReceived(),
                            (long) changed * (KEY + VALUE),
                            (long) records * SlotLayout.slotSize(KEY, VALUE),
                            path(before, server.metrics().snapshot()),
                            secs));
                } finally {
                    BenchDirs.delete(dir);
                }
            }
        }
        return out;
    }

    private static String path(Map<String, Long> before, Map<String, Long> after) {
        StringBuilder sb = new StringBuilder();
        for (String kind : List.of("backlog", "partial", "full")) {
            String name = "armdb.replication.resyncs_" + kind;
            long n = after.getOrDefault(name, 0L) - before.getOrDefault(name, 0L);
            if (n > 0) {
                sb.append(sb.isEmpty() ? "" : ", ").append(kind).append(" ×").append(n);
            }
        }
        return sb.isEmpty() ? "none" : sb.toString();
    }

    private static void awaitAll(FixedMap leader, List<ReplicationClient> clients) {
        for (ReplicationClient c : clients) {
            for (int s = 0; s < SHARDS; s++) {
                if (!c.awaitApplied(s, leader.engine().view(s).lastLsn(), Duration.ofMinutes(5))) {
                    throw new IllegalStateException("follower did not catch up: " + c.status());
                }
            }
        }
    }

    /**
     * Live lag at a fixed offered rate: writes are scheduled at {@code rate}/s for {@code seconds}, in bursts of
     * {@code rate/1000} every millisecond; a sampler waits until every follower applied each write and records the
     * time from the write's intended start (its burst's scheduled time, so time spent behind earlier writes of the
     * burst counts).
     */
    static List<Lag> lag(Path root, int records, int[] rates, int[] followerCounts, double seconds) throws Exception {
        List<Lag> out = new ArrayList<>();
        for (int followers : followerCounts) {
            withFollowers(root.resolve("lag-" + followers), records, followers, (leader, clients) -> {
                for (int rate : rates) {
                    out.add(lagAtRate(leader, clients, records, rate, seconds, followers));
                }
            });
        }
        return out;
    }

    /** What runs against a loaded leader with caught-up followers. */
    @FunctionalInterface
    interface WithFollowers {
        void run(FixedMap leader, List<ReplicationClient> clients) throws Exception;
    }

    /**
     * Loads a leader with {@code records} records in {@code dir}, attaches {@code followers} caught-up followers,
     * runs {@code body}, and closes everything.
     */
    static void withFollowers(Path dir, int records, int followers, WithFollowers body) throws Exception {
        try (FixedMap leader = FixedMap.open(dir.resolve("leader"), config());
                ReplicationServer server = ReplicationServer.start(leader, ReplicationServerConfig.defaults())) {
            load(leader, records);
            List<FixedMap> maps = new ArrayList<>();
            List<ReplicationClient> clients = new ArrayList<>();
            try {
                for (int f = 0; f < followers; f++) {
                    FixedMap m = FixedMap.open(dir.resolve("f" + f), config());
                    maps.add(m);
                    clients.add(ReplicationClient.start(m, server.address(), ReplicationClientConfig.defaults()));
                }
                awaitAll(leader, clients);
                body.run(leader, clients);
            } finally {
                for (ReplicationClient c : clients) {
                    c.close();
                }
                for (FixedMap m : maps) {
                    m.close();
                }
            }
        }
    }

    private static Lag lagAtRate(
            FixedMap leader, List<ReplicationClient> clients, int records, int rate, double seconds, int followers)
            throws InterruptedException {
        int ops = (int) Math.max(1, rate * seconds);
        // offered in bursts, one per millisecond: a driver pacing single writes every few microseconds would have to
        // spin a whole core, which on a 2-core machine is the core the replication threads need
        int perTick = Math.max(1, rate / 1000);
        long tick = 1_000_000_000L * perTick / rate;
        long[] lsns = new long[ops];
        int[] shards = new int[ops];
        long[] intended = new long[ops];
        AtomicInteger published = new AtomicInteger();
        Histogram h = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
        long t0 = System.nanoTime() + 5_000_000;
        Thread sampler = Thread.ofPlatform().start(() -> {
            for (int j = 0; j < ops; j++) {
                while (published.get() <= j) {
                    LockSupport.parkNanos(20_000);
                }
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                for (ReplicationClient c : clients) {
                    while (c.appliedLsn(shards[j]) < lsns[j] && System.nanoTime() < deadline) {
                        LockSupport.parkNanos(10_000);
                    }
                }
                h.recordValue(Math.min(h.getHighestTrackableValue(), Math.max(0, System.nanoTime() - intended[j])));
            }
        });
        byte[] k = new byte[KEY];
        byte[] v = new byte[VALUE];
        for (int i = 0; i < ops; i++) {
            long start = t0 + (i / perTick) * tick;
            long wait = start - System.nanoTime();
            if (wait > 150_000) {
                LockSupport.parkNanos(wait - 100_000);
            }
            while (System.nanoTime() < start) {
                Thread.onSpinWait();
            }
            int id = (int) ((i * 2_654_435_761L) % records);
            key(k, id);
            v[1] = (byte) i;
            long lsn = leader.put(k, v);
            lsns[i] = lsn;
            shards[i] = leader.engine().shardOf(k, KeyHash.hash(k));
            intended[i] = start;
            // volatile write: the sample's arrays are visible to the sampler before its index is
            published.set(i + 1);
        }
        sampler.join(120_000);
        return new Lag(
                rate,
                followers,
                h.getTotalCount(),
                h.getValueAtPercentile(50) / 1e3,
                h.getValueAtPercentile(99) / 1e3,
                h.getValueAtPercentile(99.9) / 1e3,
                h.getMaxValue() / 1e3);
    }

    /**
     * Leader put throughput (random updates) with 0, 1, ... followers attached and streaming: the median of
     * {@code runs} untimed runs of {@code ops} puts, then one run of {@code ops} puts each timed (service time in a
     * closed loop) into a histogram.
     */
    static List<Puts> putThroughput(Path root, int records, int[] followerCounts, int ops, int runs) throws Exception {
        List<Puts> out = new ArrayList<>();
        for (int followers : followerCounts) {
            withFollowers(root.resolve("puts-" + followers), records, followers, (leader, clients) -> {
                byte[] k = new byte[KEY];
                byte[] v = new byte[VALUE];
                double[] rates = new double[runs];
                int seq = 0;
                for (int r = 0; r < runs; r++) {
                    long t0 = System.nanoTime();
                    for (int i = 0; i < ops; i++, seq++) {
                        key(k, (int) ((seq * 2_654_435_761L) % records));
                        v[2] = (byte) seq;
                        leader.put(k, v);
                    }
                    rates[r] = ops / ((System.nanoTime() - t0) / 1e9);
                    awaitAll(leader, clients);
                }
                Histogram h = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
                for (int i = 0; i < ops; i++, seq++) {
                    key(k, (int) ((seq * 2_654_435_761L) % records));
                    v[2] = (byte) seq;
                    long t0 = System.nanoTime();
                    leader.put(k, v);
                    h.recordValue(Math.min(h.getHighestTrackableValue(), System.nanoTime() - t0));
                }
                awaitAll(leader, clients);
                out.add(new Puts(
                        followers,
                        ServerBench.median(rates),
                        h.getValueAtPercentile(50) / 1e3,
                        h.getValueAtPercentile(99) / 1e3,
                        h.getValueAtPercentile(99.9) / 1e3,
                        h.getMaxValue() / 1e3));
            });
        }
        return out;
    }

    /**
     * Everything one invocation measured.
     *
     * @param catchUps one per catch-up size
     * @param redis Redis full syncs, one per catch-up size; empty when redis-server is not installed
     * @param resyncs one per changed fraction
     * @param lags one per (followers, rate)
     * @param puts one per follower count, the first with none
     * @param runs runs behind each median
     */
    record Results(
            List<CatchUp> catchUps,
            List<CatchUp> tlsCatchUps,
            List<RedisSync> redis,
            List<Resync> resyncs,
            List<Lag> lags,
            List<Puts> puts,
            int runs) {}

    /** Renders the results as Markdown, ending with the targets and the notes kept in {@code repl-notes.md}. */
    static String markdown(Results res, String command) {
        StringBuilder sb = new StringBuilder();
        sb.append("## Replication (").append(command).append(")\n\n");
        sb.append("16-byte keys, 32-byte values (64-byte slots), 4 shards, `Durability.NONE`, leader and followers")
                .append(" in one JVM on 127.0.0.1. Catch-up, Redis sync and put throughput are medians of ")
                .append(res.runs())
                .append(" runs; lag and resync are single runs.\n\n");
        sb.append("### Catch-up of an empty follower\n\n");
        sb.append("Beside the raw loopback bandwidth of a plain Java socket copy of the same bytes (into a reused")
                .append(" buffer, and into a new file, as a follower must land them in pages it has not used before:")
                .append(" on a virtual machine that hands freed memory back to its host, such pages cost far more")
                .append(" than reused ones), and a Redis full")
                .append(" sync of the same records (same key and value bytes, loaded into the master with pipelined")
                .append(" SETs; master and replica `--save '' --appendonly no`, master `repl-diskless-sync-delay 0`,")
                .append(" the rest Redis' defaults; timed from REPLICAOF until `master_link_status:up` and the")
                .append(" replica's DBSIZE equals the count).\n\n");
        sb.append("| records | armdb s | slot MB/s | slots/s | raw loopback MB/s | armdb / raw |")
                .append(" raw loopback into a new file MB/s | armdb / raw into a file | Redis full sync s |")
                .append(" Redis / armdb time |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (CatchUp cu : res.catchUps()) {
            RedisSync rs = redisFor(res, cu.records());
            sb.append(String.format(
                    Locale.ROOT,
                    "| %,d | %.2f | %.1f | %,.0f | %.1f | %.0f%% | %.1f | %.0f%% | %s | %s |%n",
                    cu.records(),
                    cu.seconds(),
                    cu.slotMBps(),
                    cu.records() / cu.seconds(),
                    cu.rawMBps(),
                    100 * cu.slotMBps() / cu.rawMBps(),
                    cu.rawToFileMBps(),
                    100 * cu.slotMBps() / cu.rawToFileMBps(),
                    rs == null ? "not run" : String.format(Locale.ROOT, "%.2f", rs.seconds()),
                    rs == null ? "–" : String.format(Locale.ROOT, "%.2f×", rs.seconds() / cu.seconds())));
        }
        if (!res.tlsCatchUps().isEmpty()) {
            sb.append("\n### Catch-up over TLS\n\n");
            sb.append("The same catch-up with mutual TLS 1.3 on the replication port (`withTls`; self-signed ECDSA")
                    .append(" P-256 key for 127.0.0.1 made by keytool; the JDK's default cipher suite).\n\n");
            sb.append("| records | armdb over TLS s | slot MB/s | slots/s | TLS / plain time |\n")
                    .append("|---:|---:|---:|---:|---:|\n");
            for (CatchUp t : res.tlsCatchUps()) {
                CatchUp plain = res.catchUps().stream()
                        .filter(c -> c.records() == t.records())
                        .findFirst()
                        .orElse(null);
                sb.append(String.format(
                        Locale.ROOT,
                        "| %,d | %.2f | %.1f | %,.0f | %s |%n",
                        t.records(),
                        t.seconds(),
                        t.slotMBps(),
                        t.records() / t.seconds(),
                        plain == null ? "–" : String.format(Locale.ROOT, "%.2f×", t.seconds() / plain.seconds())));
            }
        }
        if (!res.resyncs().isEmpty()) {
            sb.append("\n### Resync after a short disconnect\n\n");
            sb.append("A follower caught up, then stopped (client and collection closed); the leader updated evenly")
                    .append(" spread records; the follower reopened its directory and reconnected. Changed bytes are")
                    .append(" changed records × (key + value); the full-rescan reference is records × slot size, what")
                    .append(" a reconnect that rescans every slot (armdb for Rust) transfers. Bytes received include")
                    .append(" frame headers, handshakes and heartbeats.\n\n");
            sb.append("| records | changed | changed bytes | bytes received | received / changed |")
                    .append(" full rescan bytes | received / full rescan | leader's catch-up | seconds |\n")
                    .append("|---:|---:|---:|---:|---:|---:|---:|---|---:|\n");
            for (Resync r : res.resyncs()) {
                sb.append(String.format(
                        Locale.ROOT,
                        "| %,d | %,d | %,d | %,d | %.2f | %,d | %.2f%% | %s | %.3f |%n",
                        r.records(),
                        r.changed(),
                        r.changedBytes(),
                        r.bytesReceived(),
                        (double) r.bytesReceived() / r.changedBytes(),
                        r.fullCopyBytes(),
                        100.0 * r.bytesReceived() / r.fullCopyBytes(),
                        r.path(),
                        r.seconds()));
            }
        }
        sb.append("\n### Live lag (put → applied on every follower)\n\n");
        sb.append("| offered load | followers | samples | p50 µs | p99 µs | p99.9 µs | max µs |\n")
                .append("|---|---:|---:|---:|---:|---:|---:|\n");
        for (Lag l : res.lags()) {
            sb.append(String.format(
                    Locale.ROOT,
                    "| %,d writes/s | %d | %,d | %.0f | %.0f | %.0f | %.0f |%n",
                    l.rate(),
                    l.followers(),
                    l.samples(),
                    l.p50us(),
                    l.p99us(),
                    l.p999us(),
                    l.maxUs()));
        }
        sb.append("\nWrites are offered in bursts of rate/1000 every millisecond (pacing single writes every few")
                .append(
                        " microseconds would spin a whole core); each write's lag runs from its burst's scheduled start.")
                .append(" The sampler polls every ~10–20 µs (parking), so lag values carry that resolution.\n");
        sb.append("\n### Leader put throughput and latency (random updates)\n\n");
        sb.append("Throughput: median of untimed runs. Latency: the service time of each put of one more run, timed")
                .append(" one by one in a closed loop (HdrHistogram).\n\n");
        sb.append("| followers | puts/s | vs no follower | p50 µs | p99 µs | p99.9 µs | max µs |\n")
                .append("|---:|---:|---:|---:|---:|---:|---:|\n");
        double base = res.puts().isEmpty() ? 1 : res.puts().getFirst().opsPerSec();
        for (Puts p : res.puts()) {
            sb.append(String.format(
                    Locale.ROOT,
                    "| %d | %,.0f | %.0f%% | %.2f | %.2f | %.1f | %.0f |%n",
                    p.followers(),
                    p.opsPerSec(),
                    100 * p.opsPerSec() / base,
                    p.p50us(),
                    p.p99us(),
                    p.p999us(),
                    p.maxUs()));
        }
        sb.append(targets(res));
        sb.append('\n').append(notes());
        return sb.toString();
    }

    private static RedisSync redisFor(Results res, int records) {
        for (RedisSync r : res.redis()) {
            if (r.records() == records) {
                return r;
            }
        }
        return null;
    }

    /** The replication targets, each met or missed by how much. */
    static String targets(Results res) {
        StringBuilder sb =
                new StringBuilder("\n## Targets (issue 5)\n\n| target | measured | verdict |\n|---|---|---|\n");
        for (CatchUp cu : res.catchUps()) {
            double ratio = cu.slotMBps() / cu.rawMBps();
            sb.append(String.format(
                    Locale.ROOT,
                    "| catch-up ≥ 50%% of raw loopback (%,d records) | %.0f%% (%.1f of %.1f MB/s) | %s |%n",
                    cu.records(),
                    100 * ratio,
                    cu.slotMBps(),
                    cu.rawMBps(),
                    ServerBench.verdict(ratio, 0.5)));
        }
        for (CatchUp cu : res.catchUps()) {
            RedisSync rs = redisFor(res, cu.records());
            if (rs == null) {
                sb.append(String.format(
                        Locale.ROOT,
                        "| catch-up ≥ 3× faster than Redis full sync (%,d records) | not measured"
                                + " (redis-server not installed) | – |%n",
                        cu.records()));
                continue;
            }
            double speedup = rs.seconds() / cu.seconds();
            sb.append(String.format(
                    Locale.ROOT,
                    "| catch-up ≥ 3× faster than Redis full sync (%,d records) | %.2f× (%.2f s vs %.2f s) | %s |%n",
                    cu.records(),
                    speedup,
                    cu.seconds(),
                    rs.seconds(),
                    ServerBench.verdict(speedup, 3)));
        }
        for (Lag l : res.lags()) {
            if (l.rate() == 50_000 && l.followers() == 1) {
                sb.append(String.format(
                        Locale.ROOT,
                        "| lag p99 ≤ 1 ms at 50k writes/s (1 follower) | %.2f ms | %s |%n",
                        l.p99us() / 1e3,
                        l.p99us() <= 1_000
                                ? "met"
                                : String.format(Locale.ROOT, "missed (%.1f× the bound)", l.p99us() / 1e3)));
            }
        }
        if (res.puts().size() > 1 && res.puts().getFirst().followers() == 0) {
            for (Puts p : res.puts()) {
                if (p.followers() == 1) {
                    double slowdown = 1 - p.opsPerSec() / res.puts().getFirst().opsPerSec();
                    sb.append(String.format(
                            Locale.ROOT,
                            "| ≤ 20%% put slowdown with one follower | %.0f%% slowdown (%,.0f vs %,.0f puts/s) | %s |%n",
                            100 * slowdown,
                            p.opsPerSec(),
                            res.puts().getFirst().opsPerSec(),
                            slowdown <= 0.2
                                    ? "met"
                                    : String.format(Locale.ROOT, "missed by %.0f points", 100 * (slowdown - 0.2))));
                }
            }
        }
        return sb.toString();
    }

    /** The hand-written notes that close the report (a resource of this module). */
    static String notes() {
        try (InputStream in = ReplicationBench.class.getResourceAsStream("/repl-notes.md")) {
            return in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Runs the driver: {@code --records N1,N2 --rates R1,R2 --followers F1,F2 --seconds S --runs R
     * --resync-fractions 0.001,0.01 --pidfile FILE --out FILE --command TEXT}. The catch-up (and Redis full sync) runs for every
     * size in {@code --records}; resync uses the first; lag and put throughput use the first, capped at 200,000.
     * Redis is skipped, and the report says so, when redis-server is not on the PATH.
     */
    public static void main(String[] args) throws Exception {
        int[] records = {1_000_000};
        int[] rates = {10_000, 50_000};
        int[] followers = {1, 3};
        double seconds = 5;
        int runs = 3;
        double[] fractions = {0.001, 0.01, 0.1, 0.5};
        Path pidFile = null;
        Path out = null;
        String command = "bin/bench repl";
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--command" -> command = args[i + 1];
                case "--records" -> records = ints(args[i + 1]);
                case "--rates" -> rates = ints(args[i + 1]);
                case "--followers" -> followers = ints(args[i + 1]);
                case "--seconds" -> seconds = Double.parseDouble(args[i + 1]);
                case "--runs" -> runs = Integer.parseInt(args[i + 1]);
                case "--resync-fractions" ->
                    fractions = Arrays.stream(args[i + 1].split(","))
                            .mapToDouble(Double::parseDouble)
                            .toArray();
                case "--pidfile" -> pidFile = Path.of(args[i + 1]);
                case "--out" -> out = Path.of(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (args.length % 2 != 0) {
            throw new IllegalArgumentException("options come in pairs: " + Arrays.toString(args));
        }
        boolean redis = ServerProcesses.onPath("redis-server");
        String loadBefore = ServerBench.loadAverage();
        Path root = BenchDirs.create("repl");
        try (ServerProcesses procs = new ServerProcesses(pidFile)) {
            List<CatchUp> catchUps = new ArrayList<>();
            List<CatchUp> tlsCatchUps = new ArrayList<>();
            SSLContext tls = benchTls(root.resolve("tls"));
            List<RedisSync> syncs = new ArrayList<>();
            for (int n : records) {
                catchUps.add(progress(catchUpMedian(root, n, runs, null)));
                tlsCatchUps.add(progress(catchUpMedian(root, n, runs, tls)));
                if (redis) {
                    syncs.add(progress(redisFullSyncMedian(root, n, runs, procs)));
                }
            }
            List<Resync> resyncs = progress(resync(root, records[0], fractions));
            int small = Math.min(records[0], 200_000);
            List<Lag> lags = progress(lag(root, small, rates, followers, seconds));
            int[] putFollowers = new int[followers.length + 1];
            System.arraycopy(followers, 0, putFollowers, 1, followers.length);
            List<Puts> puts = progress(putThroughput(root, small, putFollowers, 1_000_000, runs));
            String md = (redis ? "Redis: " + ServerBench.version("redis-server") + ". " : "")
                    + "Load averages (1, 5, 15 min) before " + loadBefore + ", after " + ServerBench.loadAverage()
                    + ".\n\n"
                    + markdown(new Results(catchUps, tlsCatchUps, syncs, resyncs, lags, puts, runs), command);
            System.out.println(md);
            if (out != null) {
                Files.writeString(out, md);
            }
        } finally {
            BenchDirs.delete(root);
        }
    }

    private static <T> T progress(T result) {
        System.err.println("repl bench: " + result);
        return result;
    }

    private static int[] ints(String csv) {
        return Arrays.stream(csv.split(",")).mapToInt(Integer::parseInt).toArray();
    }
}
