package dev.armdb.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code armdb cluster}: commands that act on replica groups through ZooKeeper. Prints its usage when run alone. */
@Command(
        name = "cluster",
        mixinStandardHelpOptions = true,
        description = "Act on replica groups coordinated through ZooKeeper (serve --cluster).",
        subcommands = {ClusterSwitchoverCommand.class})
final class ClusterCommand implements Runnable {
    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
