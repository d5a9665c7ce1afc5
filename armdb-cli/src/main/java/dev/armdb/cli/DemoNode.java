package dev.armdb.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One {@code armdb serve --cluster} child process of the cluster demo: started with this JVM's own java and class
 * path, its collection and log in a directory of its own, output to that log. Used by one thread.
 */
final class DemoNode {
    private final String id;
    private final Path log;
    private final Process process;

    private DemoNode(String id, Path log, Process process) {
        this.id = id;
        this.log = log;
        this.process = process;
    }

    /**
     * Starts node {@code id} of group {@code group} through ZooKeeper at {@code cluster}, in {@code dir}, with RESP on an
     * ephemeral loopback port (the member znode tells which).
     */
    static DemoNode start(String id, Path dir, String cluster, String group) throws IOException {
        return start(id, dir, cluster, group, List.of());
    }

    /**
     * As {@link #start(String, Path, String, String)}, with {@code moreOptions} of {@code serve} after the demo's own
     * (fault tests give shorter cluster timings and {@code --min-insync}).
     */
    static DemoNode start(String id, Path dir, String cluster, String group, List<String> moreOptions)
            throws IOException {
        Files.createDirectories(dir);
        Path log = dir.resolve("node.log");
        List<String> jvm = List.of(
                "-Xmx256m",
                "-XX:+UseSerialGC",
                // the nodes serve a short demo: the quick compiler starts them faster on a small machine
                "-XX:TieredStopAtLevel=1",
                "-Dorg.slf4j.simpleLogger.log.dev.armdb=info");
        List<String> serve = new ArrayList<>(List.of(
                "--dir",
                dir.resolve("data").toString(),
                "--bind",
                "127.0.0.1",
                "--port",
                "0",
                "--key-size",
                "16",
                "--value-size",
                "32",
                "--shards",
                "4",
                "--durability",
                "group",
                "--io-threads",
                "1",
                "--cluster",
                cluster,
                "--group",
                group,
                "--node-id",
                id));
        serve.addAll(moreOptions);
        Process p = ChildServe.start(jvm, serve, log);
        return new DemoNode(id, log, p);
    }

    String id() {
        return id;
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** SIGKILL: the process ends at once, with no chance to close anything. Waits at most 10 s for it to be gone. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** The last {@code n} lines of its log, for a failure report. */
    String logTail(int n) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - n), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }
}
