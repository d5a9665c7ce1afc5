package dev.armdb.cli;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The clients of a process fault test, recording into a {@link FaultHistory}: one writer per node, each sending {@code
 * SET} to its own node only, whatever its role, with a unique value, of a key that is either its own (written by this
 * write alone, see {@link #ownKey}) or one of a small shared key space (so that keys are overwritten), half and half;
 * and a sampler that reads {@code INFO cluster} from every running node every 100 ms for the
 * accept windows. A writer's reply timeout is long ({@link #REPLY_TIMEOUT_MILLIS}), so that a write sent to a paused
 * node is answered once it resumes: that is the write a zombie leader must refuse. Refused writes are retried after a
 * short pause; every loop ends when the load is closed.
 *
 * <p>Threading: threads of its own; {@link #close()} from the test's thread.
 */
final class FaultLoad implements AutoCloseable {
    static final int KEYS = 256;
    static final int REPLY_TIMEOUT_MILLIS = 30_000;
    /** A load left running by a test that never closed it stops by itself after this long. */
    private static final long MAX_RUN_NANOS = 600_000_000_000L;

    private static final Pattern ACCEPTED =
            Pattern.compile("armdb_cluster_accepted\\d+:term=(\\d+),first_nanos=(-?\\d+),last_nanos=(-?\\d+)");
    /** Numbers the values of every write of this JVM: a value names one write, across loads. */
    private static final AtomicLong SEQUENCE = new AtomicLong();

    private static final Pattern NOW = Pattern.compile("armdb_cluster_monotonic_nanos:(-?\\d+)");

    private final List<NodeProcess> nodes;
    private final FaultHistory history;
    private final List<Thread> threads = new ArrayList<>();
    private final long deadline = System.nanoTime() + MAX_RUN_NANOS;
    private volatile boolean closed;

    FaultLoad(List<NodeProcess> nodes, FaultHistory history, long seed) {
        this.nodes = nodes;
        this.history = history;
        for (int i = 0; i < nodes.size(); i++) {
            NodeProcess n = nodes.get(i);
            Random random = new Random(seed + i);
            threads.add(
                    Thread.ofPlatform().daemon().name("fault-writer-" + n.id()).start(() -> write(n, random)));
        }
        threads.add(Thread.ofPlatform().daemon().name("fault-sampler").start(this::sample));
    }

    /** Key {@code i} of the shared key space (16 bytes). */
    static String key(int i) {
        return String.format(Locale.ROOT, "fault:%010d", i);
    }

    /**
     * The key that only write number {@code sequence} of this JVM sets (16 bytes).
     *
     * <p>Design note: with every write on the shared key space, each key was overwritten many times a second, so an
     * acknowledged write lost in a failover went unnoticed as soon as a later write hit its key (the checker can only
     * see final values). A write whose key nothing else writes must itself be there at the end.
     */
    static String ownKey(long sequence) {
        return String.format(Locale.ROOT, "own:%012d", sequence);
    }

    /** The key of a writer's next write: its own or, as often, a random one of the shared key space. */
    private static String nextKey(Random random, long sequence) {
        return random.nextBoolean() ? ownKey(sequence) : key(random.nextInt(KEYS));
    }

    private void write(NodeProcess node, Random random) {
        RespLink link = null;
        while (running()) {
            if (link == null) {
                link = connect(node, REPLY_TIMEOUT_MILLIS);
                if (link == null) {
                    pause(100);
                    continue;
                }
            }
            long sequence = SEQUENCE.incrementAndGet();
            String key = nextKey(random, sequence);
            // unique per write: the checker finds the write a value came from
            String value = String.format(Locale.ROOT, "%-4s%028d", node.id(), sequence);
            long start = System.nanoTime();
            String reply;
            try {
                reply = String.valueOf(link.call("SET", key, value));
            } catch (IOException e) {
                reply = null;
                close(link);
                link = null;
            }
            long end = System.nanoTime();
            FaultHistory.Outcome outcome = FaultHistory.classify(reply);
            history.record(new FaultHistory.Write(
                    Thread.currentThread().getName(), node.id(), key, value, start, end, outcome, reply));
            if (outcome != FaultHistory.Outcome.ACKED) {
                pause(reply == null ? 100 : 20);
            }
        }
        close(link);
    }

    private void sample() {
        Map<String, RespLink> links = new HashMap<>();
        while (running()) {
            for (NodeProcess n : nodes) {
                if (n.paused() || !n.alive()) {
                    close(links.remove(n.id()));
                    continue;
                }
                RespLink link = links.computeIfAbsent(n.id(), id -> connect(n, 1_000));
                if (link == null) {
                    links.remove(n.id());
                    continue;
                }
                try {
                    long before = System.nanoTime();
                    String info = String.valueOf(link.call("INFO", "cluster"));
                    long after = System.nanoTime();
                    record(n.id(), info, before, after);
                } catch (IOException e) {
                    close(links.remove(n.id()));
                }
            }
            pause(100);
        }
        links.values().forEach(FaultLoad::close);
    }

    /**
     * Sends one {@code SET} to {@code node} from a thread of its own on a connection of its own and records it (writer
     * {@code fault-probe-ID}); the test sends it to a paused node, in whose socket it waits until the node resumes.
     * Returns the thread, which ends once the write is answered or timed out.
     */
    Thread probe(NodeProcess node, long seed) {
        Random random = new Random(seed);
        return Thread.ofPlatform().daemon().name("fault-probe-" + node.id()).start(() -> {
            long sequence = SEQUENCE.incrementAndGet();
            String key = nextKey(random, sequence);
            String value = String.format(Locale.ROOT, "%-4s%028d", "pr", sequence);
            long start = System.nanoTime();
            String reply = null;
            try (RespLink link = new RespLink(node.resp(), REPLY_TIMEOUT_MILLIS)) {
                reply = String.valueOf(link.call("SET", key, value));
            } catch (IOException e) {
                // no reply: outcome unknown
            }
            history.record(new FaultHistory.Write(
                    Thread.currentThread().getName(),
                    node.id(),
                    key,
                    value,
                    start,
                    System.nanoTime(),
                    FaultHistory.classify(reply),
                    reply));
        });
    }

    private boolean running() {
        return !closed && System.nanoTime() - deadline < 0;
    }

    /** Reads the accept windows of {@code INFO cluster} and checks the node's clock against the test's. */
    void record(String node, String info, long before, long after) {
        Matcher now = NOW.matcher(info);
        if (now.find()) {
            long t = Long.parseLong(now.group(1));
            if (t - before < 0 || after - t < 0) {
                history.clockSkew(node + " read " + t + " between " + before + " and " + after);
            }
        }
        Matcher m = ACCEPTED.matcher(info);
        while (m.find()) {
            history.window(node, Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(3)));
        }
    }

    /** Reads {@code INFO cluster} of every running node once more (the test calls it after healing). */
    void sampleOnce() {
        for (NodeProcess n : nodes) {
            if (n.paused() || !n.alive()) {
                continue;
            }
            try (RespLink link = connect(n, 5_000)) {
                if (link != null) {
                    long before = System.nanoTime();
                    String info = String.valueOf(link.call("INFO", "cluster"));
                    record(n.id(), info, before, System.nanoTime());
                }
            } catch (IOException e) {
                // a node that does not answer now reported what it had before
            }
        }
    }

    private static RespLink connect(NodeProcess n, int timeoutMillis) {
        InetSocketAddress a = n.resp();
        if (a == null || n.paused() || !n.alive()) {
            return null;
        }
        try {
            return new RespLink(a, timeoutMillis);
        } catch (IOException e) {
            return null;
        }
    }

    private static void close(RespLink link) {
        if (link != null) {
            try {
                link.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops the clients; a writer blocked on a paused node ends once its socket is closed by the node's end. */
    @Override
    public void close() throws InterruptedException {
        closed = true;
        for (Thread t : threads) {
            t.join(REPLY_TIMEOUT_MILLIS + 5_000L);
        }
    }
}
