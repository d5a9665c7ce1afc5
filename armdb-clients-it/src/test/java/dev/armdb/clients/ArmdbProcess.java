package dev.armdb.clients;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One {@code armdb} command as a child process run from armdb-cli's packaged jars ({@code armdb-cli.jar} and {@code
 * lib/} in the directory the system property {@code armdb.cli.target} names), with this JVM's java and its output to a
 * log file: the nodes run with the class path users run them with, and nothing of this module's class path. The whole
 * build's {@code verify} packages armdb-cli before these tests; run alone, this module uses the jars of the last
 * package or install.
 *
 * <p>Threading: the test's thread.
 */
final class ArmdbProcess implements AutoCloseable {
    private final Path log;
    private final Process process;

    private ArmdbProcess(Path log, Process process) {
        this.log = log;
        this.process = process;
    }

    /** Runs {@code armdb args...} in a JVM started with {@code jvmOptions}, its output going to {@code log}. */
    static ArmdbProcess start(List<String> jvmOptions, List<String> args, Path log) throws IOException {
        Path target = Path.of(System.getProperty("armdb.cli.target", "../armdb-cli/target"));
        Path jar = target.resolve("armdb-cli.jar");
        Path lib = target.resolve("lib");
        if (!Files.isRegularFile(jar) || !Files.isDirectory(lib)) {
            throw new IllegalStateException("expected armdb-cli's packaged jar " + jar + " and " + lib
                    + ", found neither or one: package it first (./mvnw -B install -DskipTests)");
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElseThrow());
        cmd.addAll(jvmOptions);
        cmd.add("-cp");
        cmd.add(jar + File.pathSeparator + lib.resolve("*"));
        cmd.add("dev.armdb.cli.Main");
        cmd.addAll(args);
        Files.createDirectories(log.getParent());
        Process p = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        return new ArmdbProcess(log, p);
    }

    long pid() {
        return process.pid();
    }

    boolean alive() {
        return process.isAlive();
    }

    /**
     * Waits up to {@code seconds} until the log has a line matching {@code line}; returns the match. Fails, with the
     * log's end, when the time runs out or the process ends first.
     */
    Matcher awaitLine(Pattern line, long seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() - deadline < 0) {
            Matcher m = line.matcher(log());
            if (m.find()) {
                return m;
            }
            if (!process.isAlive()) {
                throw new AssertionError("process " + pid() + " ended (exit " + process.exitValue()
                        + ") before a line matching " + line + "; its log ends:\n" + logTail(40));
            }
            Thread.sleep(50);
        }
        throw new AssertionError(
                "no line matching " + line + " within " + seconds + " s; the log ends:\n" + logTail(40));
    }

    /** The whole log so far (empty if it cannot be read). */
    String log() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    /** The last {@code n} lines of the log, for a failure report. */
    String logTail(int n) {
        List<String> lines = log().lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - n), lines.size()));
    }

    /** SIGKILL: the process ends at once, closing nothing. Waits at most 10 s for it to be gone. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            throw new AssertionError("process " + pid() + " still runs 10 s after SIGKILL");
        }
    }

    @Override
    public void close() throws InterruptedException {
        kill();
    }
}
