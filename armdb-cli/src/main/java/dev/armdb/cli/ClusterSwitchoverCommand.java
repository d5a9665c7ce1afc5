package dev.armdb.cli;

import dev.armdb.ArmDbException;
import dev.armdb.cluster.Switchover;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code armdb cluster switchover}: hands a group's leadership to one of its followers with no copy and no loss (see
 * {@link Switchover}). Prints each step; exits 0 once the target leads, 1 with the reason otherwise.
 */
@Command(
        name = "switchover",
        mixinStandardHelpOptions = true,
        description = {
            "Hand a group's leadership to one of its followers, with no copy and no loss: the leader stops taking",
            "writes, the target applies exactly the leader's last LSNs on every shard, the term is raised, the target",
            "promotes itself and the old leader follows it. Writes pause meanwhile (clients get -TRYAGAIN) and resume",
            "on the new leader. Exit 0 once the target leads; 1 with the reason otherwise (the leader then takes",
            "writes again)."
        })
final class ClusterSwitchoverCommand implements Callable<Integer> {
    @Option(
            names = "--cluster",
            required = true,
            description = "ZooKeeper's connect string HOST:PORT[,HOST:PORT...][/CHROOT], as the nodes were given it.")
    String cluster;

    @Option(names = "--group", required = true, description = "The replica group.")
    String group;

    @Option(names = "--to", required = true, description = "Node id of the follower to hand the leadership to.")
    String to;

    @Option(
            names = "--timeout",
            defaultValue = "30s",
            converter = DurationConverter.class,
            description = "Longest the whole switchover may take (default ${DEFAULT-VALUE}).")
    Duration timeout;

    @Override
    public Integer call() {
        try {
            Switchover.Outcome o = Switchover.run(cluster, group, to, timeout, line -> {
                System.out.println("armdb cluster switchover: " + line);
                System.out.flush();
            });
            System.out.printf(
                    "armdb cluster switchover: done: group %s led by %s in term %d (was %s in term %d), at LSNs %s;"
                            + " writes paused about %d ms%n",
                    group, o.to(), o.toTerm(), o.from(), o.fromTerm(), o.lsns(), o.pausedMillis());
            if (!o.oldLeaderFollows()) {
                System.out.printf(
                        "armdb cluster switchover: %s did not stream from %s yet within the timeout; it re-points when"
                                + " it next reads the group state%n",
                        o.from(), o.to());
            }
            return 0;
        } catch (ArmDbException | IllegalArgumentException e) {
            System.err.println("armdb cluster switchover: " + e.getMessage());
            return 1;
        }
    }
}
