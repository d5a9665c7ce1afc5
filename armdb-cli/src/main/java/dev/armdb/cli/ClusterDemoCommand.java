package dev.armdb.cli;

import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code armdb cluster-demo}: automatic failover shown end to end with real processes on loopback ({@link
 * ClusterDemo}). Exit 0 if no acknowledged write was lost, 1 otherwise.
 */
@Command(
        name = "cluster-demo",
        mixinStandardHelpOptions = true,
        description = {
            "Start ZooKeeper and three serve --cluster nodes (child processes, loopback, a temporary directory),",
            "write batches acknowledged by WAIT, SIGKILL the leader while it writes, show the failover, write on the",
            "new leader, and read every acknowledged write back from it: 'no acknowledged write lost (N checked)'.",
            "Everything started is stopped and removed at the end, also on failure. Exit 0 on success."
        })
final class ClusterDemoCommand implements Callable<Integer> {
    @Option(
            names = "--writes",
            defaultValue = "5000",
            description = "Acknowledged writes before the leader is killed (default ${DEFAULT-VALUE}).")
    long writes;

    @Option(
            names = "--writes-after",
            defaultValue = "1000",
            description = "Acknowledged writes on the new leader before the check (default ${DEFAULT-VALUE}).")
    long writesAfter;

    @Option(
            names = "--time-limit",
            defaultValue = "60s",
            converter = DurationConverter.class,
            description = "Give up (exit 1) if the demo has not finished by then (default ${DEFAULT-VALUE}).")
    Duration timeLimit;

    @Option(names = "--keep", description = "Keep the temporary directory (node logs and data) and print where.")
    boolean keep;

    @Override
    public Integer call() throws Exception {
        if (writes < 1 || writesAfter < 1) {
            throw new IllegalArgumentException(
                    "--writes and --writes-after must be at least 1, got " + writes + " and " + writesAfter);
        }
        return new ClusterDemo(System.out, writes, writesAfter, timeLimit, keep).run();
    }
}
