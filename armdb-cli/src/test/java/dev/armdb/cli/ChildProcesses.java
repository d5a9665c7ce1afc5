package dev.armdb.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What the system tests do to child processes: build the command line of a {@code bin/armdb} child JVM (this JVM's
 * own java and class path), send a signal (SIGKILL, SIGSTOP, SIGCONT, SIGTERM through {@code kill}), wait, bounded,
 * until a process is gone, and tell which process a proxied connection comes from. Any thread.
 */
final class ChildProcesses {
    private ChildProcesses() {}

    /** The command line of {@code bin/armdb args...} in a child JVM started with {@code jvmOptions}. */
    static List<String> armdb(List<String> jvmOptions, List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElseThrow());
        cmd.addAll(jvmOptions);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Main.class.getName());
        cmd.addAll(args);
        return cmd;
    }

    /** Sends {@code signal} (a name such as {@code STOP}) to process {@code pid}; fails if {@code kill} does. */
    static void signal(long pid, String signal) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-s", signal, Long.toString(pid))
                .redirectErrorStream(true)
                .start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS))
                .as("kill -s %s %d finished", signal, pid)
                .isTrue();
        assertThat(kill.exitValue())
                .as(
                        "kill -s %s %d: %s",
                        signal, pid, new String(kill.getInputStream().readAllBytes()))
                .isZero();
    }

    /**
     * Waits, for at most 10 s, until every thread of process {@code pid} is stopped (state {@code T} in Linux's {@code
     * /proc/PID/task/TID/stat}, or ended); fails if one still runs then.
     */
    static void awaitStopped(long pid) throws InterruptedException {
        Path tasks = Path.of("/proc", Long.toString(pid), "task");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        String running = "?";
        while (System.nanoTime() - deadline < 0) {
            running = runningThread(tasks);
            if (running == null) {
                return;
            }
            Thread.sleep(1);
        }
        throw new AssertionError(
                "process " + pid + " did not stop within 10 s after SIGSTOP: thread " + running + " still runs");
    }

    /** A thread of {@code tasks} (a {@code /proc/PID/task} directory) neither stopped nor ended, or null if none. */
    private static String runningThread(Path tasks) {
        try (java.util.stream.Stream<Path> ids = Files.list(tasks)) {
            for (Path task : ids.toList()) {
                String stat;
                try {
                    stat = Files.readString(task.resolve("stat"));
                } catch (IOException gone) {
                    continue; // the thread ended meanwhile
                }
                // "tid (comm) S ...": the state follows the last ')', as comm may hold spaces and parentheses
                char state = stat.charAt(stat.lastIndexOf(')') + 2);
                // T stopped, t traced; Z and X: a thread that ended
                if ("TtZX".indexOf(state) < 0) {
                    return task.getFileName() + " (state " + state + ")";
                }
            }
            return null;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot list " + tasks, e);
        }
    }

    /**
     * The process among {@code pids} that holds the far end of {@code proxyEnd}, a connection a loopback proxy accepted
     * (the socket whose local port is {@code proxyEnd}'s remote port and whose remote port is its local port), or -1;
     * read from Linux's {@code /proc} (the socket tables and each process's descriptors), as {@code ss -p} does.
     */
    static long socketOwner(Socket proxyEnd, List<Long> pids) {
        String inode = null;
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            try {
                List<String> lines = Files.readAllLines(Path.of(table));
                // the first line names the columns
                for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
                    String[] f = line.trim().split("\\s+");
                    if (f.length > 9 && port(f[1]) == proxyEnd.getPort() && port(f[2]) == proxyEnd.getLocalPort()) {
                        inode = f[9];
                    }
                }
            } catch (IOException e) {
                // no such table (IPv6 off): the other one has it
            }
        }
        if (inode == null) {
            return -1;
        }
        String link = "socket:[" + inode + "]";
        for (long pid : pids) {
            try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "fd"))) {
                for (Path fd : fds) {
                    try {
                        if (Files.readSymbolicLink(fd).toString().equals(link)) {
                            return pid;
                        }
                    } catch (IOException e) {
                        // closed meanwhile
                    }
                }
            } catch (IOException e) {
                // the process is gone
            }
        }
        return -1;
    }

    /** The port of a {@code /proc/net/tcp} address, {@code HEXADDR:HEXPORT}. */
    private static int port(String address) {
        return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1), 16);
    }

    /** Waits until process {@code pid} is gone, at most {@code seconds}; fails otherwise. */
    static void awaitGone(long pid, long seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
            assertThat(System.nanoTime() - deadline)
                    .as("process %d still running after %d s", pid, seconds)
                    .isNegative();
            Thread.sleep(100);
        }
    }
}
