package dev.armdb.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.IntPredicate;

/**
 * A test client that writes its keys in order as {@link AckedWrites} says, a write retried (same key, same value)
 * until it is acknowledged. Logs every acknowledgement (when, and which node's RESP port gave it) and counts the
 * errors on the way by kind, and checks what it did once the leader moved. Shared with armdb-clients-it, whose
 * nodes are processes (this module's test jar).
 *
 * <p>Threading: {@link #run} on {@link #thread}; the other threads read the logs and set {@link #stop}.
 */
public abstract class ClientWriter implements Runnable, AutoCloseable {
    /** One acknowledged write. */
    public record Ack(long nanos, int port) {}

    /** Most a writer runs, whatever the test does. */
    private static final long MAX_RUN_SECONDS = 300;

    public final String name;
    public final Thread thread;
    public final AckedWrites log;
    public final List<Ack> acks = new CopyOnWriteArrayList<>();
    public final Map<String, Integer> errors = new ConcurrentHashMap<>();
    public final AtomicBoolean stop = new AtomicBoolean();
    public final AtomicReference<Throwable> failed = new AtomicReference<>();

    /**
     * A writer called {@code name} of {@code keySize}-byte keys starting with {@code prefix} and {@code
     * valueSize}-byte values; start {@link #thread} to run it.
     */
    protected ClientWriter(String name, char prefix, int keySize, int valueSize) {
        this.name = name;
        this.log = new AckedWrites(prefix, keySize, valueSize);
        this.thread = Thread.ofPlatform().name("writer-" + name).unstarted(this);
    }

    /** Sets {@code key} to {@code value}; returns the RESP port of the node that acknowledged it. */
    protected abstract int set(String key, String value);

    /** The kind of a failed attempt, for the log: the RESP error code, or what broke. */
    protected abstract String kind(RuntimeException e);

    /** Closes the client. */
    @Override
    public abstract void close();

    @Override
    public void run() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(MAX_RUN_SECONDS);
        try {
            while (!stop.get() && System.nanoTime() - deadline < 0) {
                long seq = log.next();
                log.trying();
                try {
                    int port = set(log.key(seq), log.value(seq));
                    log.acknowledged();
                    acks.add(new Ack(System.nanoTime(), port));
                } catch (RuntimeException e) {
                    errors.merge(kind(e), 1, Integer::sum);
                    Thread.sleep(20);
                }
            }
        } catch (Throwable e) {
            failed.set(e);
        }
    }

    /**
     * Waits up to 90 s until {@code n} of its writes were acknowledged by nodes whose RESP port passes {@code port};
     * fails if the writer failed.
     */
    public void awaitAcks(int n, IntPredicate port) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (failed.get() == null
                && acks.stream().filter(a -> port.test(a.port())).count() < n) {
            assertThat(System.nanoTime() - deadline)
                    .as("waiting 90 s for %s with %d writes acknowledged; errors so far %s", name, n, errors)
                    .isNegative();
            Thread.sleep(20);
        }
        assertThat(failed.get()).as(name).isNull();
    }

    /** Stops it and waits (at most 60 s) until its thread ended; fails if it did not or if the writer failed. */
    public void stopAndJoin() throws InterruptedException {
        stop.set(true);
        thread.join(60_000);
        assertThat(thread.isAlive()).as("%s stopped", name).isFalse();
        assertThat(failed.get()).as(name).isNull();
    }

    /**
     * After the leader moved, at {@code sinceNanos} ({@code event}), to {@code leader} serving RESP on {@code port}:
     * its first write acknowledged there came within {@code boundSeconds}, its last write went there, and every key
     * it wrote holds, read through {@code get}, its last acknowledged value or a later one tried (more than {@code
     * minChecked} keys). Prints what it saw on the way.
     */
    public void assertMovedAndLostNothing(
            String leader,
            int port,
            long sinceNanos,
            String event,
            long boundSeconds,
            Function<String, String> get,
            int minChecked) {
        long first = acks.stream()
                .filter(a -> a.port() == port && a.nanos() - sinceNanos > 0)
                .mapToLong(Ack::nanos)
                .min()
                .orElseThrow();
        long recoveryMillis = (first - sinceNanos) / 1_000_000;
        System.out.printf(
                "%s: first write acknowledged by the new leader %s %d ms after the %s; %d acknowledged in all;"
                        + " errors on the way %s%n",
                name, leader, recoveryMillis, event, acks.size(), new java.util.TreeMap<>(errors));
        assertThat(recoveryMillis)
                .as("%s recovered within the bound", name)
                .isLessThan(TimeUnit.SECONDS.toMillis(boundSeconds));
        assertThat(acks.getLast().port())
                .as("%s writes to the new leader", name)
                .isEqualTo(port);
        int checked = log.assertHeldBy(get, name + " on " + leader);
        assertThat(checked).as("%s: keys checked", name).isGreaterThan(minChecked);
    }

    /** The RESP error code of a message ({@code READONLY ...} gives {@code READONLY}), or the whole message. */
    protected static String errorCode(String message) {
        String m = String.valueOf(message);
        int space = m.indexOf(' ');
        return space < 0 ? m : m.substring(0, space);
    }
}
