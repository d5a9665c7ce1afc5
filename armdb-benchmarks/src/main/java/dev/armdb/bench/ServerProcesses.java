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
