package dev.armdb.cli;

import dev.armdb.cluster.StandaloneZooKeeper;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code armdb zookeeper}: runs a standalone ZooKeeper server (ZooKeeper's own classes) for development and tests,
 * until SIGTERM/SIGINT. Production points {@code serve --cluster} at an existing ensemble.
 */
@Command(
        name = "zookeeper",
        mixinStandardHelpOptions = true,
        description = {
            "Run a standalone ZooKeeper server for development and tests (snapshots and log in --dir), binding",
            "127.0.0.1 unless --bind says otherwise. Production points serve --cluster at an existing ensemble.",
            "SIGTERM/SIGINT: stop, exit 0."
        })
final class ZooKeeperCommand implements Callable<Integer> {
    @Option(names = "--dir", required = true, description = "Data directory (created if missing).")
    Path dir;

    @Option(names = "--port", defaultValue = "2181", description = "Client port (default ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--bind", defaultValue = "127.0.0.1", description = "Client address (default ${DEFAULT-VALUE}).")
    String bind;

    @Option(names = "--exit-with-parent", hidden = true)
    boolean exitWithParent;

    @Override
    public Integer call() throws Exception {
        try (StandaloneZooKeeper zk = StandaloneZooKeeper.start(dir, new InetSocketAddress(bind, port))) {
            CountDownLatch stopped = new CountDownLatch(1);
            // handle TERM/INT ourselves so a clean stop exits 0 (the JVM's default handler exits 143/130)
            sun.misc.SignalHandler stop = sig -> stopped.countDown();
            sun.misc.Signal.handle(new sun.misc.Signal("TERM"), stop);
            sun.misc.Signal.handle(new sun.misc.Signal("INT"), stop);
            if (exitWithParent) {
                // a test's server must not outlive the test JVM, even one ended by SIGKILL
                ProcessHandle.current()
                        .parent()
                        .ifPresentOrElse(p -> p.onExit().thenRun(stopped::countDown), stopped::countDown);
            }
            System.out.printf("armdb zookeeper: serving %s, data in %s%n", zk.connectString(), dir);
            System.out.flush();
            stopped.await();
        }
        System.out.println("armdb zookeeper: stopped cleanly");
        return 0;
    }
}
