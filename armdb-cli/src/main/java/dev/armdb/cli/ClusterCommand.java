package dev.armdb.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code armdb cluster}: the commands that look at (and act on) a cluster coordinated through ZooKeeper. */
@Command(
        name = "cluster",
        mixinStandardHelpOptions = true,
        description = "Commands for a cluster of serve --cluster nodes coordinated through ZooKeeper.",
        subcommands = {ClusterStatusCommand.class, ClusterSwitchoverCommand.class})
final class ClusterCommand implements Runnable {
    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
