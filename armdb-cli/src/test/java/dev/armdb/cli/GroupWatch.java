package dev.armdb.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.ArmDbException;
import dev.armdb.cluster.ClusterStatus;
import dev.armdb.cluster.ClusterStatusReader;
import dev.armdb.cluster.GroupState;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * What the process-level cluster tests read of one replica group in ZooKeeper (its state and members, as {@code
 * armdb cluster status} reads them), and their bounded waits.
 *
 * <p>Threading: the test's thread.
 */
final class GroupWatch implements AutoCloseable {
    private final ClusterStatusReader status;
    private final String group;

    /**
     * Watches {@code group} through {@code connect} (with its chroot); an ensemble may take a while to elect its
     * leader, so opening tries for up to a minute.
     */
    GroupWatch(String connect, String group) {
        this.status = open(connect);
        this.group = group;
    }

    private static ClusterStatusReader open(String connect) {
        for (int attempt = 1; ; attempt++) {
            try {
                return ClusterStatusReader.open(connect, Duration.ofSeconds(10));
            } catch (ArmDbException e) {
                if (attempt == 6) {
                    throw e;
                }
            }
        }
    }

    /** The group as ZooKeeper has it now, or null if it is not there or ZooKeeper cannot be read now. */
    ClusterStatus.Group group() {
        try {
            return status.read().groups().stream()
                    .filter(g -> g.name().equals(group))
                    .findFirst()
                    .orElse(null);
        } catch (ArmDbException e) {
            return null;
        }
    }

    /** The group state, or null if there is none or ZooKeeper cannot be read now. */
    GroupState state() {
        ClusterStatus.Group g = group();
        return g == null ? null : g.state();
    }

    /** Waits up to {@code seconds} until {@code done}, polling every 100 ms; fails naming {@code what}. */
    static void await(String what, long seconds, BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!done.getAsBoolean()) {
            assertThat(System.nanoTime() - deadline)
                    .as("waiting %d s for %s", seconds, what)
                    .isNegative();
            Thread.sleep(100);
        }
    }

    @Override
    public void close() {
        status.close();
    }
}
