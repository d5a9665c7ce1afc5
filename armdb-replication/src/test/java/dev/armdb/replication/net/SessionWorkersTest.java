package dev.armdb.replication.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@link SessionWorkers#adopt}: sessions of one affinity (a follower node's shards) share a worker while any of them
 * runs, so one wake-up serves them all; sessions of other affinities, and those without, spread over the workers by
 * load.
 */
class SessionWorkersTest {
    /** A session that does nothing until told to end; it records the thread that adopted it. */
    private static final class IdleSession extends EndableSession {
        private final CountDownLatch adopted = new CountDownLatch(1);
        private volatile Thread worker;

        IdleSession(String affinity) {
            super(affinity);
        }

        @Override
        public void adopted(Selector selector, long nowNs) {
            worker = Thread.currentThread();
            adopted.countDown();
        }

        @Override
        public int doWork(long nowNs, boolean stopping) {
            return 0;
        }

        @Override
        public long deadline(long nowNs) {
            return nowNs + TimeUnit.MILLISECONDS.toNanos(5);
        }

        Thread awaitWorker() throws InterruptedException {
            assertThat(adopted.await(10, TimeUnit.SECONDS)).as("adopted").isTrue();
            return worker;
        }
    }

    @Test
    void sessionsOfOneAffinityShareAWorkerAndOthersSpreadByLoad() throws Exception {
        try (SessionWorkers pool = new SessionWorkers(3, "test-worker", () -> false)) {
            pool.start();
            List<IdleSession> a = adoptAll(pool, "node-a", 4);
            List<IdleSession> b = adoptAll(pool, "node-b", 2);
            IdleSession loose = new IdleSession(null);
            pool.adopt(loose);

            Thread aWorker = a.get(0).awaitWorker();
            for (IdleSession s : a) {
                assertThat(s.awaitWorker()).as("every session of node-a").isSameAs(aWorker);
            }
            Thread bWorker = b.get(0).awaitWorker();
            assertThat(b.get(1).awaitWorker()).isSameAs(bWorker);
            assertThat(bWorker).as("node-b goes to a less loaded worker").isNotSameAs(aWorker);
            assertThat(loose.awaitWorker())
                    .as("a session without affinity goes to the idle worker")
                    .isNotSameAs(aWorker)
                    .isNotSameAs(bWorker);

            // once every session of node-a has ended, the worker forgets the affinity (a follower that left holds
            // no place, and the table does not grow with every follower ever seen)
            assertThat(pool.runs("node-a")).isTrue();
            for (IdleSession s : a) {
                s.done = true;
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (pool.runs("node-a") && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertThat(pool.runs("node-a")).as("node-a released").isFalse();
            assertThat(pool.runs("node-b")).isTrue();
        }
    }

    private static List<IdleSession> adoptAll(SessionWorkers pool, String affinity, int n) {
        List<IdleSession> sessions = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            IdleSession s = new IdleSession(affinity);
            sessions.add(s);
            pool.adopt(s);
        }
        return sessions;
    }
}
