package dev.armdb.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The server processes (redis-server, {@code armdb serve}) a driver starts, all on 127.0.0.1 with free ports.
 * An optional pid file always lists the pids of those still running, so {@code bin/bench}'s EXIT trap can end
 * them should this JVM die (and never a pid that was already reaped and could be reused); every one still running
 * is stopped by {@link #close()} or, failing that, by a shutdown hook.
 *
 * <p>Used by one driver thread.
 */
final class ServerProcesses implements AutoCloseable {
    /** One started server: its process, RESP port and log file, and the registry that started it. */
    record Server(Process process, int port, Path log, ServerProcesses owner) implements AutoCloseable {
        /** Stops the server (SIGTERM, then SIGKILL after 30 s) and waits for it. */
        @Override
        public void close() {
            stop(process);
            owner.writePids();
        }
    }

    /**
     * A leader and its one follower (a Redis master and its replica), each its own process in its own directory;
     * closing stops the follower first, then the leader, even when stopping the follower fails.
     */
    record Pair(Server leader, Server follower) implements AutoCloseable {
        @Override
        public void close() {
            try {
                follower.close();
            } finally {
                leader.close();
            }
        }
    }

    /** Starts the follower of a pair whose leader already answers. */
    @FunctionalInterface
    private interface FollowerStart {
        Server start() throws IOException, InterruptedException;
    }

    /** How long a follower may take to attach (and a Redis replica to finish its first sync). */
    static final long LINK_SECONDS = 120;

    private final Path pidFile;
    private final List<Process> started = new ArrayList<>();
    private final Thread hook = new Thread(this::stopAll, "armdb-bench-stop-servers");

    /** A registry writing pids to {@code pidFile} (none if null). */
    ServerProcesses(Path pidFile) {
        this.pidFile = pidFile;
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** A TCP port on 127.0.0.1 free at the time of the call. */
    static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Whether {@code tool} is an executable on the PATH. */
    static boolean onPath(String tool) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String dir : path.split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    /**
     * Starts a redis-server on a free loopback port with its working directory in {@code dir}, plus {@code extra}
     * settings (such as {@code --appendonly yes}), and waits until it answers PING.
     */
    Server redis(Path dir, List<String> extra) throws IOException, InterruptedException {
        int port = freePort();
        List<String> cmd = new ArrayList<>(List.of(
                "redis-server",
                "--port",
                Integer.toString(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                dir.toString(),
                "--daemonize",
                "no"));
        cmd.addAll(extra);
        return start(cmd, dir, port);
    }

    /**
     * Starts {@code armdb serve} through {@code launcher} (for example the path of {@code bin/armdb}) with the
     * collection in {@code dir}, RESP on a free loopback port, plus {@code extra} options; waits until it answers
     * PING.
     */
    Server armdb(List<String> launcher, Path dir, List<String> extra) throws IOException, InterruptedException {
        int port = freePort();
        List<String> cmd = new ArrayList<>(launcher);
        cmd.addAll(List.of(
                "serve",
                "--dir",
                dir.resolve("data").toString(),
                "--port",
                Integer.toString(port),
                "--bind",
                "127.0.0.1"));
        cmd.addAll(extra);
        return start(cmd, dir, port);
    }

    /**
     * Starts an {@code armdb serve} leader in {@code dir/leader} with {@code options} and a replication port, then a
     * follower in {@code dir/follower} with the same {@code options} plus {@code --follow} to it and
     * {@code followerExtra}; returns once the leader counts one follower and the follower's link is up. If anything
     * fails, whatever was started is stopped before the exception leaves.
     */
    Pair armdbPair(List<String> launcher, Path dir, List<String> options, List<String> followerExtra)
            throws IOException, InterruptedException {
        int replPort = freePort();
        List<String> leaderArgs = new ArrayList<>(options);
        leaderArgs.addAll(List.of("--repl-port", Integer.toString(replPort)));
        List<String> followerArgs = new ArrayList<>(options);
        followerArgs.addAll(List.of("--follow", "127.0.0.1:" + replPort));
        followerArgs.addAll(followerExtra);
        Server leader = armdb(launcher, Files.createDirectories(dir.resolve("leader")), leaderArgs);
        return pair(leader, () -> armdb(launcher, Files.createDirectories(dir.resolve("follower")), followerArgs));
    }

    /**
     * Starts a redis-server master in {@code dir/leader} with {@code extra} settings, then a replica in
     * {@code dir/follower} with the same settings plus {@code --replicaof} the master and {@code followerExtra};
     * returns once the master counts one replica and the replica's link is up (its first sync done). If anything
     * fails, whatever was started is stopped before the exception leaves.
     */
    Pair redisPair(Path dir, List<String> extra, List<String> followerExtra) throws IOException, InterruptedException {
        Server master = redis(Files.createDirectories(dir.resolve("leader")), extra);
        List<String> replicaArgs = new ArrayList<>(extra);
        replicaArgs.addAll(List.of("--replicaof", "127.0.0.1", Integer.toString(master.port())));
        replicaArgs.addAll(followerExtra);
        return pair(master, () -> redis(Files.createDirectories(dir.resolve("follower")), replicaArgs));
    }

    private static Pair pair(Server leader, FollowerStart followerStart) throws IOException, InterruptedException {
        Pair pair = null;
        try {
            pair = new Pair(leader, followerStart.start());
            awaitLink(pair, LINK_SECONDS);
            return pair;
        } catch (IOException | InterruptedException | RuntimeException e) {
            if (pair != null) {
                pair.close();
            } else {
                leader.close();
            }
            throw e;
        }
    }

    /**
     * Waits (at most {@code seconds}, polling every 100 ms) until the leader's {@code INFO replication} counts one
     * follower and the follower's says {@code master_link_status:up}; fails at once should either process exit.
     */
    static void awaitLink(Pair pair, long seconds) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (true) {
            for (Server s : List.of(pair.leader(), pair.follower())) {
                if (!s.process().isAlive()) {
                    throw new IOException("a server of the pair exited with "
                            + s.process().exitValue() + " before the follower attached:\n" + tail(s.log()));
                }
            }
            String leader = replicationInfo(pair.leader());
            String follower = replicationInfo(pair.follower());
            if (leader.contains("connected_slaves:1") && follower.contains("master_link_status:up")) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("the follower did not attach within " + seconds + " s; leader INFO replication:\n"
                        + leader + "\nfollower INFO replication:\n" + follower + "\nfollower log:\n"
                        + tail(pair.follower().log()));
            }
            Thread.sleep(100);
        }
    }

    /** {@code INFO replication} of {@code s}, or the error that kept it from answering. */
    private static String replicationInfo(Server s) {
        try (Resp r = Resp.connect(s.port(), 5_000)) {
            return r.callText("INFO", "replication");
        } catch (IOException e) {
            return "(no answer: " + e.getMessage() + ")";
        }
    }

    private Server start(List<String> cmd, Path dir, int port) throws IOException, InterruptedException {
        Path log = dir.resolve("server.log");
        Process p = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .start();
        started.add(p);
        writePids();
        Server server = new Server(p, port, log, this);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (true) {
            if (!p.isAlive()) {
                throw new IOException(
                        "server exited with " + p.exitValue() + " before it answered PING: " + cmd + "\n" + tail(log));
            }
            try (Resp r = Resp.connect(port, 5_000)) {
                if ("PONG".equals(r.call("PING"))) {
                    return server;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            if (System.nanoTime() > deadline) {
                server.close();
                throw new IOException("server did not answer PING within 120 s: " + cmd + "\n" + tail(log));
            }
            Thread.sleep(20);
        }
    }

    /** Rewrites the pid file with the pids of the servers still running. */
    private void writePids() {
        if (pidFile == null) {
            return;
        }
        StringBuilder sb = new StringBuilder();
        for (Process p : started) {
            if (p.isAlive()) {
                sb.append(p.pid()).append('\n');
            }
        }
        try {
            Files.writeString(pidFile, sb, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private static void stop(Process p) {
        if (!p.isAlive()) {
            return;
        }
        p.destroy();
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private void stopAll() {
        for (Process p : started) {
            stop(p);
        }
    }

    /** Stops every server this registry started that still runs. */
    @Override
    public void close() {
        stopAll();
        writePids();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running or ran already
        }
    }
}
