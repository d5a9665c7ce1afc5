package dev.armdb.bench;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.FixedMap;
import dev.armdb.index.KeyHash;
import dev.armdb.replication.follower.ReplicationClient;
import dev.armdb.replication.follower.ReplicationClientConfig;
import dev.armdb.replication.leader.ReplicationServer;
import dev.armdb.replication.leader.ReplicationServerConfig;
import dev.armdb.store.SlotLayout;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

/**
 * Replication load driver (not JMH: it measures a system of threads and sockets): catch-up throughput beside the
 * raw loopback bandwidth of a plain socket copy measured in the same run, live lag at fixed offered write rates
 * with 1 and more followers (HdrHistogram, measured from each write's intended start, so coordinated omission is
 * corrected), and leader put throughput with 0, 1 and more followers attached. Loopback only; every loop is
 * bounded in count and time. Used by one thread (it starts its own helpers).
 */
public final class ReplicationBench {
    /** One measured catch-up. */
    record CatchUp(int records, double seconds, double slotMBps, double rawMBps) {}

    /** One lag run. */
    record Lag(int rate, int followers, long samples, double p50us, double p99us, double p999us, double maxUs) {}

    /** One put-throughput run. */
    record Puts(int followers, double opsPerSec) {}

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
            v[0] = (byte) i;
            leader.put(k, v);
        }
    }

    /** Bytes per second of a plain Java socket copy of {@code bytes} over loopback, in MB/s. */
    static double rawLoopbackMBps(long bytes) throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread reader = Thread.ofPlatform().start(() -> {
                try (Socket s = server.accept();
                        InputStream in = s.getInputStream()) {
                    byte[] buf = new byte[256 << 10];
                    long got = 0;
                    while (got < bytes) {
                        int n = in.read(buf);
                        if (n < 0) {
                            break;
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

    /** Catches an empty follower up with a leader of {@code records} records; compares with raw loopback. */
    static CatchUp catchUp(Path root, int records) throws Exception {
        long slotBytes = (long) records * SlotLayout.slotSize(KEY, VALUE);
        double raw = rawLoopbackMBps(slotBytes);
        try (FixedMap leader = FixedMap.open(root.resolve("cu-leader"), config());
                FixedMap follower = FixedMap.open(root.resolve("cu-follower"), config());
                ReplicationServer server = ReplicationServer.start(leader, ReplicationServerConfig.defaults())) {
            load(leader, records);
            long t0 = System.nanoTime();
            try (ReplicationClient client =
                    ReplicationClient.start(follower, server.address(), ReplicationClientConfig.defaults())) {
                awaitAll(leader, List.of(client));
                double secs = (System.nanoTime() - t0) / 1e9;
                return new CatchUp(records, secs, slotBytes / secs / 1e6, raw);
            }
        }
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
     * Live lag at a fixed offered rate: writes are scheduled at {@code rate}/s for {@code seconds}; a sampler
     * waits until every follower applied each write and records the time from the write's intended start.
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
        long period = 1_000_000_000L / rate;
        long[] lsns = new long[ops];
        int[] shards = new int[ops];
        long[] intended = new long[ops];
        java.util.concurrent.atomic.AtomicInteger published = new java.util.concurrent.atomic.AtomicInteger();
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
            long start = t0 + i * period;
            long wait = start - System.nanoTime();
            if (wait > 60_000) {
                LockSupport.parkNanos(wait - 50_000);
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

    /** Leader put throughput (random updates) with 0, 1, ... followers attached and streaming. */
    static List<Puts> putThroughput(Path root, int records, int[] followerCounts, int ops) throws Exception {
        List<Puts> out = new ArrayList<>();
        for (int followers : followerCounts) {
            withFollowers(root.resolve("puts-" + followers), records, followers, (leader, clients) -> {
                byte[] k = new byte[KEY];
                byte[] v = new byte[VALUE];
                long t0 = System.nanoTime();
                for (int i = 0; i < ops; i++) {
                    key(k, (int) ((i * 2_654_435_761L) % records));
                    v[2] = (byte) i;
                    leader.put(k, v);
                }
                out.add(new Puts(followers, ops / ((System.nanoTime() - t0) / 1e9)));
                awaitAll(leader, clients);
            });
        }
        return out;
    }

    /** Renders the results as Markdown. */
    static String markdown(CatchUp cu, List<Lag> lags, List<Puts> puts, String command) {
        StringBuilder sb = new StringBuilder();
        sb.append("## Replication (").append(command).append(")\n\n");
        sb.append("16-byte keys, 32-byte values (64-byte slots), 4 shards, `Durability.NONE`, leader and followers")
                .append(" in one JVM on 127.0.0.1.\n\n");
        sb.append(
                "| catch-up | records | seconds | slot MB/s | raw loopback MB/s | ratio |\n|---|---:|---:|---:|---:|---:|\n");
        sb.append(String.format(
                Locale.ROOT,
                "| empty follower | %,d | %.2f | %.1f | %.1f | %.0f%% |%n%n",
                cu.records(),
                cu.seconds(),
                cu.slotMBps(),
                cu.rawMBps(),
                100 * cu.slotMBps() / cu.rawMBps()));
        sb.append("| live lag (put → applied on every follower) | followers | samples | p50 µs | p99 µs | p99.9 µs |")
                .append(" max µs |\n|---|---:|---:|---:|---:|---:|---:|\n");
        for (Lag l : lags) {
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
        sb.append("\n| leader put throughput | followers | puts/s | vs no follower |\n|---|---:|---:|---:|\n");
        double base = puts.isEmpty() ? 1 : puts.getFirst().opsPerSec();
        for (Puts p : puts) {
            sb.append(String.format(
                    Locale.ROOT,
                    "| random updates | %d | %,.0f | %.0f%% |%n",
                    p.followers(),
                    p.opsPerSec(),
                    100 * p.opsPerSec() / base));
        }
        sb.append("\nThe sampler polls every ~10–20 µs (parking), so lag values carry that resolution.\n");
        return sb.toString();
    }

    /**
     * Runs the driver: {@code --records N --rates R1,R2 --followers F1,F2 --seconds S --out FILE}.
     */
    public static void main(String[] args) throws Exception {
        int records = 1_000_000;
        int[] rates = {10_000, 50_000};
        int[] followers = {1, 3};
        double seconds = 5;
        Path out = null;
        for (int i = 0; i < args.length; i += 2) {
            switch (args[i]) {
                case "--records" -> records = Integer.parseInt(args[i + 1]);
                case "--rates" -> rates = ints(args[i + 1]);
                case "--followers" -> followers = ints(args[i + 1]);
                case "--seconds" -> seconds = Double.parseDouble(args[i + 1]);
                case "--out" -> out = Path.of(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Path root = Files.createTempDirectory("armdb-repl-bench-");
        try {
            CatchUp cu = catchUp(root, records);
            List<Lag> lags = lag(root, Math.min(records, 200_000), rates, followers, seconds);
            int[] putFollowers = new int[followers.length + 1];
            System.arraycopy(followers, 0, putFollowers, 1, followers.length);
            List<Puts> puts = putThroughput(root, Math.min(records, 200_000), putFollowers, 1_000_000);
            String md = markdown(cu, lags, puts, "bin/bench repl");
            System.out.println(md);
            if (out != null) {
                Files.writeString(out, md);
            }
        } finally {
            BenchDirs.delete(root);
        }
    }

    private static int[] ints(String csv) {
        return java.util.Arrays.stream(csv.split(","))
                .mapToInt(Integer::parseInt)
                .toArray();
    }
}
