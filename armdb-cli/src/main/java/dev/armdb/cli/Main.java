package dev.armdb.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Entry point of {@code bin/armdb}. Single-threaded entry; each command documents what it starts.
 */
@Command(
        name = "armdb",
        mixinStandardHelpOptions = true,
        version = "armdb 0.1.0",
        description = "armdb: embedded fixed-slot key-value store with leader/follower replication.",
        subcommands = {
            DemoCommand.class,
            ServeCommand.class,
            VerifyCommand.class,
            StatsCommand.class,
            DumpCommand.class,
            DigestCommand.class,
            TlsKeyStoreCommand.class,
            ZooKeeperCommand.class,
            ClusterCommand.class,
            ClusterDemoCommand.class,
            AotTrainCommand.class,
            CommandLine.HelpCommand.class
        })
public final class Main implements Runnable {
    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    /** Runs the command line and exits with its status. */
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit status (for tests). */
    public static int run(String... args) {
        return new CommandLine(new Main())
                .setCaseInsensitiveEnumValuesAllowed(true)
                .setExecutionExceptionHandler((ex, cmd, parsed) -> {
                    cmd.getErr().println(cmd.getCommandSpec().qualifiedName() + ": " + ex.getMessage());
                    return 2;
                })
                .execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
