package dev.armdb.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code armdb cluster-demo} as a user runs it: a process that starts ZooKeeper and three node processes, SIGKILLs
 * the leader under load and reads every acknowledged write back from the new leader. Its temporary directory is made
 * in a directory of the test's own, so that the cleanup can be checked, as can the end of every node process it
 * started, on success and on failure. The time limits given are generous for a loaded 2-core machine; the demo's own
 * default is 60 s.
 */
class ClusterDemoSystemTest {
    private static final Pattern STARTED = Pattern.compile("started n\\d: .* \\(pid (\\d+)\\)");

    @TempDir
    Path tmp;

    /** Runs the demo with {@code args} in a child JVM (at most {@code seconds}); returns {status, output}. */
    private Object[] demo(long seconds, String... args) throws IOException, InterruptedException {
        List<String> demoArgs = new ArrayList<>(List.of("cluster-demo"));
        demoArgs.addAll(List.of(args));
        List<String> cmd = ChildProcesses.armdb(List.of("-Djava.io.tmpdir=" + tmp), demoArgs);
        Path out = Files.createTempFile(tmp, "demo", ".out");
        Process p = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(out.toFile())
                .start();
        try {
            assertThat(p.waitFor(seconds, TimeUnit.SECONDS))
                    .as("demo finished within %d s; output so far:%n%s", seconds, Files.readString(out))
                    .isTrue();
            String text = Files.readString(out, StandardCharsets.UTF_8);
            System.out.println(text);
            return new Object[] {p.exitValue(), text};
        } finally {
            p.destroyForcibly();
            // a demo killed here cannot stop its nodes: this test does, by the pids the demo printed
            Matcher m = STARTED.matcher(Files.readString(out, StandardCharsets.UTF_8));
            while (m.find()) {
                ProcessHandle.of(Long.parseLong(m.group(1)))
                        .filter(h -> h.info().commandLine().orElse("").contains(tmp.toString()))
                        .ifPresent(ProcessHandle::destroyForcibly);
            }
            Files.deleteIfExists(out);
        }
    }

    /** The node processes the demo said it started are gone, and its temporary directory with them. */
    private void assertCleanedUp(String output) throws IOException, InterruptedException {
        Matcher m = STARTED.matcher(output);
        int pids = 0;
        while (m.find()) {
            pids++;
            ChildProcesses.awaitGone(Long.parseLong(m.group(1)), 30);
        }
        assertThat(pids).as("node processes started, in:%n%s", output).isEqualTo(3);
        try (Stream<Path> left = Files.list(tmp)) {
            assertThat(left.map(Path::getFileName).map(Path::toString).filter(n -> n.startsWith("armdb-cluster-demo-")))
                    .as("temporary directories left")
                    .isEmpty();
        }
    }

    @Test
    void theLeaderIsKilledUnderLoadAndNoAcknowledgedWriteIsLost() throws Exception {
        Object[] r = demo(300, "--writes", "2000", "--writes-after", "500", "--time-limit", "240s");
        String output = (String) r[1];
        assertThat((int) r[0]).as(output).isZero();
        Matcher check = Pattern.compile("(?m)^no acknowledged write lost \\(([\\d,]+) checked\\)$")
                .matcher(output);
        assertThat(check.find()).as(output).isTrue();
        assertThat(Long.parseLong(check.group(1).replace(",", ""))).isGreaterThanOrEqualTo(2_500);
        assertThat(output)
                .containsPattern("SIGKILL leader n\\d \\(pid \\d+\\) while writing")
                .containsPattern("controller n\\d named n\\d leader in term 2 \\(failover: leader n\\d unusable");
        assertCleanedUp(output);
    }

    @Test
    void aDemoThatRunsOutOfTimeFailsAndStillStopsItsNodesAndRemovesItsDirectory() throws Exception {
        Object[] r = demo(120, "--time-limit", "1s");
        String output = (String) r[1];
        assertThat((int) r[0]).as(output).isEqualTo(1);
        assertThat(output).contains("FAILED: time limit of 1 s reached waiting for");
        assertCleanedUp(output);
    }
}
