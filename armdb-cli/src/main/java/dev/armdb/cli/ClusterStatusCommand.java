package dev.armdb.cli;

import dev.armdb.cluster.ClusterStatus;
import dev.armdb.cluster.ClusterStatusJson;
import dev.armdb.cluster.ClusterStatusReader;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code armdb cluster status}: reads the groups, their leaders, terms, ISRs and members' lag from ZooKeeper and
 * prints them; writes nothing. Single-threaded.
 */
@Command(
        name = "status",
        mixinStandardHelpOptions = true,
        description = {
            "Show every group of a cluster: leader, term, ISR, last failover and why, and per node its role, term,",
            "durability, RESP address and lag behind the leader (per-shard applied LSNs against the leader's, as",
            "the nodes last reported them). Reads ZooKeeper only; writes nothing. Exit 2 if ZooKeeper cannot be",
            "reached within --timeout."
        })
final class ClusterStatusCommand implements Callable<Integer> {
    @Option(
            names = "--cluster",
            required = true,
            description = "ZooKeeper connect string HOST:PORT[,HOST:PORT...][/CHROOT], as given to serve --cluster.")
    String cluster;

    @Option(names = "--json", description = "Print JSON (fields in docs/cluster.md) instead of a table.")
    boolean json;

    @Option(
            names = "--timeout",
            defaultValue = "5s",
            converter = DurationConverter.class,
            description = "Longest wait for a ZooKeeper server to answer (default ${DEFAULT-VALUE}).")
    Duration timeout;

    @Override
    public Integer call() {
        quietZooKeeperLogs();
        ClusterStatus status;
        try (ClusterStatusReader reader = ClusterStatusReader.open(cluster, timeout)) {
            status = reader.read();
        }
        System.out.print(json ? ClusterStatusJson.render(status) : ClusterStatusText.render(status));
        System.out.flush();
        return 0;
    }

    /**
     * Silences the ZooKeeper client's and Curator's own log lines (a refused connection logs a warning per attempt):
     * this command reports what went wrong itself. Leaves a level the user set alone.
     */
    static void quietZooKeeperLogs() {
        for (String logger : new String[] {"org.apache.zookeeper", "org.apache.curator"}) {
            String key = "org.slf4j.simpleLogger.log." + logger;
            if (System.getProperty(key) == null) {
                System.setProperty(key, "off");
            }
        }
    }
}
