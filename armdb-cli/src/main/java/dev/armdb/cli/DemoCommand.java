package dev.armdb.cli;

import dev.armdb.Digest;
import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.FixedMap;
import dev.armdb.index.KeyHash;
import dev.armdb.replication.follower.ReplicationClient;
import dev.armdb.replication.follower.ReplicationClientConfig;
import dev.armdb.replication.follower.ShardStatus;
import dev.armdb.replication.leader.ReplicationServer;
import dev.armdb.replication.leader.ReplicationServerConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code armdb demo}: a leader and a follower in one process, on loopback: load, catch-up, live burst, digests.
 * Creates and removes its own temporary directories.
 */
@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        description = {
            "Create a leader collection in a temporary directory, load records, start a replication server on an",
            "ephemeral loopback port, catch a follower up, run a burst of live updates and deletes, and check that",
            "the follower matches the leader (per-shard digests). Exit 0 on success."
        })
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--records", defaultValue = "1000000", description = "Records to load (default ${DEFAULT-VALUE}).")
    int records;

    @Option(names = "--shards", defaultValue = "4", description = "Shards (default ${DEFAULT-VALUE}).")
    int shards;

    @Option(
            names = "--key-size",
            defaultValue = "16",
            description = "Key size in bytes, >= 4 (default ${DEFAULT-VALUE}).")
    int keySize;

    @Option(
            names = "--value-size",
            defaultValue = "32",
            description = "Value size in bytes (default ${DEFAULT-VALUE}).")
    int valueSize;

    @Option(
            names = "--live-ops",
            defaultValue = "100000",
            description = "Live updates and deletes (default ${DEFAULT-VALUE}).")
    int liveOps;

    @Option(names = "--keep", description = "Keep the temporary directories and print where they are.")
    boolean keep;

    private final PrintStream out = System.out;

    @Override
    public Integer call() throws Exception {
        if (keySize < 4) {
            throw new IllegalArgumentException("demo key size must be at least 4 bytes, got " + keySize);
        }
        FixedConfig cfg = FixedConfig.builder()
                .keySize(keySize)
                .valueSize(valueSize)
                .shards(shards)
                .durability(Durability.NONE)
                .growthStepBytes(16L << 20)
                .build();
        Path root = Files.createTempDirectory("armdb-demo-");
        out.printf(
                "armdb demo: %,d records, %d shards, %d-byte keys, %d-byte values, in %s%n",
                records, shards, keySize, valueSize, root);
        try {
            return run(cfg, root);
        } finally {
            if (keep) {
                out.println("kept " + root);
            } else {
                deleteTree(root);
            }
        }
    }

    private int run(FixedConfig cfg, Path root) throws Exception {
        try (FixedMap leader = FixedMap.open(root.resolve("leader"), cfg)) {
            load(leader);
            try (ReplicationServer server = ReplicationServer.start(leader, ReplicationServerConfig.defaults());
                    FixedMap follower = FixedMap.open(root.resolve("follower"), cfg)) {
                out.println("replication server listening on " + server.address());
                ReplicationClient client =
                        ReplicationClient.start(follower, server.address(), ReplicationClientConfig.defaults());
                try {
                    catchUp(leader, client, cfg);
                    liveBurst(leader, client);
                    awaitAll(leader, client);
                    return compare(leader, follower);
                } finally {
                    client.close();
                }
            }
        }
    }

    private void load(FixedMap leader) {
        byte[] k = new byte[keySize];
        byte[] v = new byte[valueSize];
        Progress p = new Progress("loading leader", records, out);
        long t0 = System.nanoTime();
        for (int i = 0; i < records; i++) {
            fillKey(k, i);
            fillValue(v, i, 0);
            leader.put(k, v);
            if ((i & 0xFFF) == 0) {
                p.update(i);
            }
        }
        p.finish(records);
        double secs = (System.nanoTime() - t0) / 1e9;
        out.printf(
                "leader loaded: %,d records in %.2f s (%s records/s)%n", records, secs, Progress.human(records / secs));
    }

    private void catchUp(FixedMap leader, ReplicationClient client, FixedConfig cfg) {
        long[] target = new long[shards];
        long total = 0;
        for (int s = 0; s < shards; s++) {
            target[s] = leader.engine().view(s).lastLsn();
            total += target[s];
        }
        Progress p = new Progress("follower catch-up", total, out);
        long t0 = System.nanoTime();
        long deadline = t0 + 600_000_000_000L;
        while (true) {
            long done = 0;
            boolean all = true;
            for (int s = 0; s < shards; s++) {
                long a = Math.min(client.appliedLsn(s), target[s]);
                done += a;
                all &= a >= target[s];
            }
            p.update(done);
            if (all) {
                p.finish(total);
                break;
            }
            failIfStuck(client, deadline);
            sleep(2);
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        double bytes = (double) records * dev.armdb.store.SlotLayout.slotSize(cfg.keySize(), cfg.valueSize());
        out.printf(
                "follower caught up: %,d records in %.2f s (%.1f MB/s of slots, %s slots/s; %,d bytes on the wire)%n",
                records, secs, bytes / secs / 1e6, Progress.human(records / secs), client.bytesReceived());
    }

    private void liveBurst(FixedMap leader, ReplicationClient client) {
        byte[] k = new byte[keySize];
        byte[] v = new byte[valueSize];
        SplittableRandom rnd = new SplittableRandom(7);
        int samples = Math.max(1, Math.min(2000, liveOps / 20));
        long[] lags = new long[samples];
        int sampleEvery = Math.max(1, liveOps / samples);
        int taken = 0;
        int deletes = 0;
        long t0 = System.nanoTime();
        for (int n = 0; n < liveOps; n++) {
            int i = rnd.nextInt(Math.max(1, records));
            fillKey(k, i);
            long start = System.nanoTime();
            long lsn;
            if (n % 4 == 3) {
                lsn = leader.delete(k);
                deletes++;
            } else {
                fillValue(v, i, n + 1);
                lsn = leader.put(k, v);
            }
            if (n % sampleEvery == 0 && taken < samples && lsn > 0) {
                int s = shardOf(leader, k);
                long deadline = start + 10_000_000_000L;
                while (client.appliedLsn(s) < lsn && System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                }
                lags[taken++] = System.nanoTime() - start;
            }
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        long[] sorted = Arrays.copyOf(lags, taken);
        Arrays.sort(sorted);
        out.printf(
                "live burst: %,d updates and %,d deletes in %.2f s; lag (put to follower applied) p50 %s, p99 %s"
                        + " (%d samples)%n",
                liveOps - deletes,
                deletes,
                secs,
                micros(percentile(sorted, 0.50)),
                micros(percentile(sorted, 0.99)),
                taken);
    }

    private void awaitAll(FixedMap leader, ReplicationClient client) {
        long deadline = System.nanoTime() + 120_000_000_000L;
        for (int s = 0; s < shards; s++) {
            while (client.appliedLsn(s) < leader.engine().view(s).lastLsn()) {
                failIfStuck(client, deadline);
                sleep(1);
            }
        }
    }

    private int compare(FixedMap leader, FixedMap follower) {
        Digest l = Digest.of(leader);
        Digest f = Digest.of(follower);
        boolean same = true;
        for (int s = 0; s < shards; s++) {
            boolean ok = l.shardHex(s).equals(f.shardHex(s));
            same &= ok;
            out.printf("shard %d: leader %s follower %s %s%n", s, l.shardHex(s), f.shardHex(s), ok ? "ok" : "DIFFER");
        }
        if (!same || !l.equals(f)) {
            out.println("follower does NOT match leader");
            return 1;
        }
        out.printf("follower matches leader (%,d live keys)%n", l.count());
        return 0;
    }

    private static void failIfStuck(ReplicationClient client, long deadline) {
        for (ShardStatus st : client.status()) {
            if (st.state().equals("FAILED")) {
                throw new IllegalStateException("replication of shard " + st.shard() + " failed: " + st.lastError());
            }
        }
        if (System.nanoTime() > deadline) {
            throw new IllegalStateException("follower did not catch up in time: " + client.status());
        }
    }

    private int shardOf(FixedMap map, byte[] k) {
        return map.engine().shardOf(k, KeyHash.hash(k));
    }

    private void fillKey(byte[] k, int i) {
        k[0] = (byte) (i >>> 24);
        k[1] = (byte) (i >>> 16);
        k[2] = (byte) (i >>> 8);
        k[3] = (byte) i;
        for (int j = 4; j < k.length; j++) {
            k[j] = (byte) (i * 31 + j);
        }
    }

    private static void fillValue(byte[] v, int i, int version) {
        for (int j = 0; j < v.length; j++) {
            v[j] = (byte) (i + version * 7 + j);
        }
    }

    private static long percentile(long[] sorted, double p) {
        return sorted.length == 0 ? 0 : sorted[(int) Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
    }

    private static String micros(long nanos) {
        return String.format("%.0f us", nanos / 1e3);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        }
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
