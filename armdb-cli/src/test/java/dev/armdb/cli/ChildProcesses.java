package dev.armdb.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What the system tests do to child processes: build the command line of a {@code bin/armdb} child JVM (this JVM's
 * own java and class path), send a signal (SIGKILL, SIGSTOP, SIGCONT, SIGTERM through {@code kill}) and wait, bounded,
 * until a process is gone. Any thread.
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
