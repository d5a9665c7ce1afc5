package dev.armdb.cluster;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A test client that writes its keys in order as {@link AckedWrites} says, a write retried (same key, same value)
 * until it is acknowledged. Logs every acknowledgement (when, and which node's RESP port gave it) and counts the
 * errors on the way by kind. Shared with the process-level client test of armdb-cli (this module's test jar).
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

    /** The RESP error code of a message ({@code READONLY ...} gives {@code READONLY}), or the whole message. */
    protected static String errorCode(String message) {
        String m = String.valueOf(message);
        int space = m.indexOf(' ');
        return space < 0 ? m : m.substring(0, space);
    }
}
