package dev.armdb.server;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The node's RESP clients (for CLIENT LIST/KILL) and its request counters (for INFO stats). Thread-safe: every
 * connection registers, counts and deregisters itself from its own thread.
 */
final class RespClients {
    private final ConcurrentHashMap<Long, RespClient> clients = new ConcurrentHashMap<>();
    private final AtomicLong nextId = new AtomicLong();
    private final LongAdder connectionsReceived = new LongAdder();
    private final LongAdder commands = new LongAdder();
    private final LongAdder rejected = new LongAdder();
    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();
    private final long startedMillis = System.currentTimeMillis();
    private final Object rateLock = new Object();
    private long rateSampleNanos = System.nanoTime();
    private long rateSampleCommands;
    private long rate;

    /** A fresh client id (Redis's ids start at 1 and never repeat). */
    long nextId() {
        return nextId.incrementAndGet();
    }

    void added(RespClient c) {
        connectionsReceived.increment();
        clients.put(c.id(), c);
    }

    void removed(RespClient c) {
        clients.remove(c.id());
    }

    /** The clients connected now, by id. */
    List<RespClient> list() {
        List<RespClient> l = new ArrayList<>(clients.values());
        l.sort(Comparator.comparingLong(RespClient::id));
        return l;
    }

    RespClient byId(long id) {
        return clients.get(id);
    }

    /** A client was refused at connect (max clients, protected mode). */
    void rejected() {
        rejected.increment();
    }

    long rejectedConnections() {
        return rejected.sum();
    }

    void commandProcessed() {
        commands.increment();
    }

    /** A read found its key ({@code true}) or not. */
    void lookup(boolean hit) {
        (hit ? hits : misses).increment();
    }

    long connectionsReceived() {
        return connectionsReceived.sum();
    }

    long commandsProcessed() {
        return commands.sum();
    }

    long hits() {
        return hits.sum();
    }

    long misses() {
        return misses.sum();
    }

    long startedMillis() {
        return startedMillis;
    }

    /**
     * Commands per second since the previous sample, re-sampled when the last one is at least 100 ms old (INFO
     * asks; {@code redis-cli --stat} asks every second, so it sees the rate of the last second).
     */
    long opsPerSecond() {
        synchronized (rateLock) {
            long now = System.nanoTime();
            long elapsed = now - rateSampleNanos;
            if (elapsed >= 100_000_000L) {
                long n = commands.sum();
                rate = (n - rateSampleCommands) * 1_000_000_000L / elapsed;
                rateSampleCommands = n;
                rateSampleNanos = now;
            }
            return rate;
        }
    }
}
