package dev.armdb.replication.net;

import java.nio.channels.SelectionKey;

/**
 * What the tests' sessions share: no socket of their own, an affinity fixed at construction, and an end that a test
 * or the pool's shutdown sets. Threading: {@link #done} is volatile, so a test thread may end a session its worker
 * runs.
 */
abstract class EndableSession implements SessionWorkers.Session {
    private final String affinity;
    volatile boolean done;

    EndableSession(String affinity) {
        this.affinity = affinity;
    }

    @Override
    public void ready(SelectionKey key, long nowNs) {}

    @Override
    public boolean isDone() {
        return done;
    }

    @Override
    public void shutdown() {
        done = true;
    }

    @Override
    public String affinity() {
        return affinity;
    }
}
