package dev.armdb.cli;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.BitSet;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.locks.LockSupport;

/**
 * The cluster demo's client: a thread that writes batches of new keys to whichever node it is pointed at and counts a
 * batch as acknowledged only when every SET answered {@code +OK} and {@code WAIT n} then confirmed that all {@code n}
 * followers hold it. Keys are never reused, so an acknowledged key must read back with its value from any later
 * leader. Writes that fail (connection reset by the kill, {@code -TRYAGAIN} while a new leader takes over, {@code
 * -READONLY}) are not acknowledged and not checked.
 *
 * <p>Threading: its own thread writes; {@link #target}, the counters and {@link #acknowledged()} from any thread.
 */
final class DemoWriter implements AutoCloseable {
    /** Key size in bytes (the demo's nodes are made with it). */
    static final int KEY_SIZE = 16;
    /** Value size in bytes. */
    static final int VALUE_SIZE = 32;

    private static final int BATCH = 50;
    private static final int REPLY_TIMEOUT_MILLIS = 5_000;
    private static final String WAIT_MILLIS = "1000";

    /**
     * Where to write.
     *
     * @param nodeId the node's id, for messages
     * @param resp its RESP address
     * @param followers how many followers {@code WAIT} must confirm
     */
    record Target(String nodeId, InetSocketAddress resp, int followers) {}

    private final Thread thread;
    private final BitSet acked = new BitSet();
    private volatile Target target;
    private volatile boolean stopped;
    private volatile long ackedCount;
    private volatile long refusedBatches;
    private volatile String lastError = "";
    private volatile String lastAckedOn = "";
    private int next;

    DemoWriter() {
        this.thread =
                Thread.ofPlatform().daemon().name("armdb-cluster-demo-writer").unstarted(this::run);
    }

    /** The key of write {@code i}. */
    static String key(int i) {
        return String.format(Locale.ROOT, "demo:%011d", i);
    }

    /** The value of write {@code i}. */
    static String value(int i) {
        return String.format(Locale.ROOT, "value:%026d", i * 7L + 3);
    }

    void start() {
        thread.start();
    }

    /** Points the writer at {@code t} (null: pause); its current batch finishes on the old target first. */
    void target(Target t) {
        target = t;
    }

    /** Batches acknowledged so far, in writes. */
    long ackedCount() {
        return ackedCount;
    }

    /** Batches not acknowledged (refused, cut off, or not confirmed by every follower). */
    long refusedBatches() {
        return refusedBatches;
    }

    /** The last error a write or connection saw, empty if none. */
    String lastError() {
        return lastError;
    }

    /** The id of the node that acknowledged the last batch. */
    String lastAckedOn() {
        return lastAckedOn;
    }

    /** The ids of the acknowledged writes. */
    BitSet acknowledged() {
        synchronized (acked) {
            return (BitSet) acked.clone();
        }
    }

    private void run() {
        while (!stopped) {
            Target t = target;
            if (t == null) {
                LockSupport.parkNanos(20_000_000L);
                continue;
            }
            try (RespLink link = new RespLink(t.resp(), REPLY_TIMEOUT_MILLIS)) {
                while (!stopped && target == t) {
                    writeBatch(link, t);
                }
            } catch (IOException | RuntimeException e) {
                lastError = t.nodeId() + ": " + e.getMessage();
                // the node is gone or restarting: try again shortly, without spinning
                LockSupport.parkNanos(100_000_000L);
            }
        }
    }

    private void writeBatch(RespLink link, Target t) throws IOException {
        int first = next;
        next += BATCH;
        for (int i = first; i < first + BATCH; i++) {
            link.send("SET", key(i), value(i));
        }
        link.send("WAIT", Integer.toString(t.followers()), WAIT_MILLIS);
        link.flush();
        boolean ok = true;
        for (int i = 0; i < BATCH; i++) {
            Object r = link.reply();
            if (!"+OK".equals(r)) {
                ok = false;
                lastError = t.nodeId() + ": " + r;
            }
        }
        Object waited = link.reply();
        int confirmed = waited instanceof String s && s.startsWith(":") ? Integer.parseInt(s.substring(1)) : -1;
        if (ok && confirmed >= t.followers()) {
            synchronized (acked) {
                acked.set(first, first + BATCH);
            }
            lastAckedOn = t.nodeId();
            ackedCount += BATCH;
        } else {
            if (ok) {
                lastError = t.nodeId() + ": WAIT " + t.followers() + " confirmed " + confirmed;
            }
            refusedBatches++;
            // a leader taking over answers TRYAGAIN for up to a lease: do not spin on it
            LockSupport.parkNanos(50_000_000L);
        }
    }

    /**
     * The outcome of reading acknowledged keys back.
     *
     * @param checked keys read
     * @param lost keys missing or holding another value
     * @param examples the first few lost keys with what was read
     */
    record Check(long checked, long lost, List<String> examples) {}

    /** Reads every key in {@code keys} back from {@code resp} (MGET, 500 at a time) and compares the values. */
    static Check check(InetSocketAddress resp, BitSet keys) throws IOException {
        List<String> examples = new java.util.ArrayList<>();
        long checked = 0;
        long lost = 0;
        try (RespLink link = new RespLink(resp, REPLY_TIMEOUT_MILLIS)) {
            int i = keys.nextSetBit(0);
            while (i >= 0) {
                List<Integer> batch = new java.util.ArrayList<>(500);
                while (i >= 0 && batch.size() < 500) {
                    batch.add(i);
                    i = keys.nextSetBit(i + 1);
                }
                String[] args = new String[batch.size() + 1];
                args[0] = "MGET";
                for (int j = 0; j < batch.size(); j++) {
                    args[j + 1] = key(batch.get(j));
                }
                Object r = link.call(args);
                if (!(r instanceof List<?> values) || values.size() != batch.size()) {
                    throw new IOException("MGET of " + batch.size() + " keys answered " + r);
                }
                for (int j = 0; j < batch.size(); j++) {
                    checked++;
                    if (!value(batch.get(j)).equals(values.get(j))) {
                        lost++;
                        if (examples.size() < 5) {
                            examples.add(key(batch.get(j)) + " read " + values.get(j));
                        }
                    }
                }
            }
        }
        return new Check(checked, lost, examples);
    }

    /** Stops writing; waits at most 10 s for the thread. */
    @Override
    public void close() throws InterruptedException {
        stopped = true;
        thread.join(10_000);
    }
}
