package dev.armdb.cli;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One {@code armdb serve --cluster} node of a fault test, as a child process ({@link DemoNode}'s command with the
 * test's options): SIGKILL, SIGSTOP and SIGCONT act on the real process, and a restart runs a new process on the same
 * directory (its RESP port is a new ephemeral one, read from its log). The log of each run is kept beside the
 * collection ({@code node.log}, the previous run's as {@code node.log.N}).
 *
 * <p>Threading: the signal and restart methods from the test's thread; {@link #resp()}, {@link #id()}, {@link
 * #paused()} and {@link #alive()} from any thread.
 */
final class NodeProcess implements AutoCloseable {
    private static final Pattern RESP_LINE = Pattern.compile("armdb node: RESP on [^/\\s]*/([0-9.]+):(\\d+)");

    private final String id;
    private final Path dir;
    private final String cluster;
    private final String group;
    private final List<String> options;
    private volatile DemoNode process;
    private volatile InetSocketAddress resp;
    private volatile boolean paused;
    private int runs;

    private NodeProcess(String id, Path dir, String cluster, String group, List<String> options) {
        this.id = id;
        this.dir = dir;
        this.cluster = cluster;
        this.group = group;
        this.options = List.copyOf(options);
    }

    /** Starts node {@code id} of {@code group} in {@code dir}, with {@code options} added to {@code serve}'s. */
    static NodeProcess start(String id, Path dir, String cluster, String group, List<String> options)
            throws IOException {
        NodeProcess n = new NodeProcess(id, dir, cluster, group, options);
        n.run();
        return n;
    }

    private void run() throws IOException {
        Path log = dir.resolve("node.log");
        if (Files.exists(log)) {
            Files.move(log, dir.resolve("node.log." + runs), StandardCopyOption.REPLACE_EXISTING);
        }
        runs++;
        resp = null;
        paused = false;
        process = DemoNode.start(id, dir, cluster, group, options);
    }

    String id() {
        return id;
    }

    long pid() {
        return process.pid();
    }

    /** True while the current process runs (a paused one too). */
    boolean alive() {
        return process.isAlive();
    }

    /** True between {@link #pause()} and {@link #resume()}: the process takes no CPU and answers nothing. */
    boolean paused() {
        return paused;
    }

    /** The current process's RESP address once it printed it, else null. */
    InetSocketAddress resp() {
        InetSocketAddress a = resp;
        if (a == null) {
            try {
                Matcher m = RESP_LINE.matcher(Files.readString(dir.resolve("node.log"), StandardCharsets.UTF_8));
                if (m.find()) {
                    a = new InetSocketAddress(m.group(1), Integer.parseInt(m.group(2)));
                    resp = a;
                }
            } catch (IOException e) {
                return null;
            }
        }
        return a;
    }

    /** SIGKILL, and waits (bounded) until the process is gone. */
    void kill() throws InterruptedException {
        process.kill();
        paused = false;
    }

    /**
     * SIGSTOP, and waits (bounded) until every thread of the process is stopped: sockets and ZooKeeper session left as
     * they are. {@code kill} returns once the signal is sent; a thread of the node may still run a moment after it
     * (one such moment took a write the test sent only after this call, and the write counted as taken by a paused
     * leader).
     */
    void pause() throws IOException, InterruptedException {
        ChildProcesses.signal(process.pid(), "STOP");
        ChildProcesses.awaitStopped(process.pid());
        paused = true;
    }

    /** SIGCONT after {@link #pause()}. */
    void resume() throws IOException, InterruptedException {
        ChildProcesses.signal(process.pid(), "CONT");
        paused = false;
    }

    /** Starts a new process on the same directory and options (the previous one must be gone). */
    void restart() throws IOException {
        if (process.isAlive()) {
            throw new IllegalStateException("node " + id + " still runs (pid " + process.pid() + ")");
        }
        run();
    }

    /** The whole log of the current run so far. */
    String log() throws IOException {
        return Files.readString(dir.resolve("node.log"), StandardCharsets.UTF_8);
    }

    /** The last {@code n} lines of the current run's log. */
    String logTail(int n) {
        return process.logTail(n);
    }

    /** Ends the process with SIGKILL (which ends a stopped process too); waits at most 10 s. */
    @Override
    public void close() throws InterruptedException {
        process.kill();
        ChildProcesses.awaitGone(process.pid(), 10);
    }
}
