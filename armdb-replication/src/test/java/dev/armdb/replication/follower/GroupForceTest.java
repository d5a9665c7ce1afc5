package dev.armdb.replication.follower;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * {@link GroupForce}: every caller returns covered by a force that began after its store, and concurrent callers
 * share forces. Mutation checks: returning when {@code done >= mark} (a force that began before the store) fails
 * {@link #everyCallerIsCoveredByAForceBegunAfterItsStore}; a ticket numbered {@code begun} instead of {@code begun +
 * 1} fails {@link #aTicketIsDoneOnlyOnceAForceBegunAfterItsStoreCompleted}.
 */
class GroupForceTest {
    private static final int THREADS = 8;
    private static final int CALLS_PER_THREAD = 200;

    /** How a caller waits for its store to be forced. */
    private interface Wait {
        void untilForced(GroupForce group);
    }

    @Test
    void everyCallerIsCoveredByAForceBegunAfterItsStore() throws Exception {
        assertEveryCallerCovered(200_000, GroupForce::forceCovering);
    }

    @Test
    void aLoneCallerRunsItsOwnForceEachTime() {
        AtomicLong forces = new AtomicLong();
        GroupForce group = new GroupForce(forces::incrementAndGet);
        for (int i = 0; i < 5; i++) {
            group.forceCovering();
        }
        assertThat(forces.get()).isEqualTo(5);
        assertThat(group.forces()).isEqualTo(5);
    }

    @Test
    void aTicketIsDoneOnlyOnceAForceBegunAfterItsStoreCompleted() throws Exception {
        assertEveryCallerCovered(100_000, group -> {
            long ticket = group.request();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!group.done(ticket) && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
        });
    }

    /**
     * {@link #THREADS} callers each store and wait {@link #CALLS_PER_THREAD} times over a force that takes {@code
     * forceNanos}; asserts that no wait returned before a force covered its store, and that forces were shared.
     */
    private static void assertEveryCallerCovered(long forceNanos, Wait wait) throws InterruptedException {
        AtomicLong stores = new AtomicLong();
        AtomicLong durable = new AtomicLong();
        AtomicLong uncovered = new AtomicLong();
        try (GroupForce group = new GroupForce(
                () -> {
                    // what a force makes durable is what was stored when it began; it takes a while, as a real one does
                    long seen = stores.get();
                    LockSupport.parkNanos(forceNanos);
                    durable.accumulateAndGet(seen, Math::max);
                },
                "group-force-test")) {
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                threads.add(Thread.ofPlatform().start(() -> {
                    for (int i = 0; i < CALLS_PER_THREAD; i++) {
                        long mine = stores.incrementAndGet();
                        wait.untilForced(group);
                        if (durable.get() < mine) {
                            uncovered.incrementAndGet();
                        }
                    }
                }));
            }
            for (Thread t : threads) {
                t.join(TimeUnit.SECONDS.toMillis(60));
                assertThat(t.isAlive()).as("caller thread finished").isFalse();
            }
            assertThat(uncovered.get())
                    .as("waits that returned before their store was forced")
                    .isZero();
            assertThat(group.forces())
                    .as("forces run for %d calls", THREADS * CALLS_PER_THREAD)
                    .isPositive()
                    .isLessThan(THREADS * CALLS_PER_THREAD);
        }
    }

    @Test
    void aFailedBackgroundForceFailsTheTicketsItDidNotReach() {
        try (GroupForce group = new GroupForce(
                () -> {
                    throw new IllegalStateException("disk gone");
                },
                "group-force-test")) {
            long ticket = group.request();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            Throwable thrown = null;
            while (thrown == null && System.nanoTime() < deadline) {
                try {
                    assertThat(group.done(ticket)).isFalse();
                } catch (dev.armdb.ArmDbException e) {
                    thrown = e;
                }
            }
            assertThat(thrown).as("the ticket's failure").isNotNull().hasMessageContaining("disk gone");
        }
    }

    @Test
    void ticketsNotForcedByCloseFail() {
        GroupForce group = new GroupForce(() -> LockSupport.parkNanos(1_000), "group-force-test");
        group.close();
        long ticket = group.request();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> group.done(ticket))
                .isInstanceOf(dev.armdb.ArmDbException.class)
                .hasMessageContaining("closed");
    }
}
