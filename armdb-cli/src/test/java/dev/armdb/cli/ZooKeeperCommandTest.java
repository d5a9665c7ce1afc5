package dev.armdb.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code armdb zookeeper} as a process: serves ZooKeeper clients on loopback and stops on SIGTERM with status 0 (its own handler: the JVM's default
 * would exit 143). */
class ZooKeeperCommandTest {
    @TempDir
    Path tmp;

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Test
    void servesClientsAndStopsCleanlyOnSigterm() throws Exception {
        int port = freePort();
        Process p = new ProcessBuilder(List.of(
                        ProcessHandle.current().info().command().orElseThrow(),
                        "-cp",
                        System.getProperty("java.class.path"),
                        "dev.armdb.cli.Main",
                        "zookeeper",
                        "--dir",
                        tmp.resolve("zk").toString(),
                        "--port",
                        "" + port))
                .redirectErrorStream(true)
                .start();
        try {
            BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
            Thread.ofPlatform().daemon().start(() -> {
                try {
                    for (String line; (line = r.readLine()) != null; ) {
                        lines.add(line);
                    }
                } catch (IOException ignored) {
                    // the process ended
                }
            });
            StringBuilder seen = new StringBuilder();
            String started = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (started == null && System.nanoTime() < deadline) {
                String line = lines.poll(100, TimeUnit.MILLISECONDS);
                if (line != null) {
                    seen.append(line).append('\n');
                    started = line.startsWith("armdb zookeeper: serving") ? line : null;
                }
            }
            assertThat(started)
                    .as("output so far:%n%s", seen)
                    .isEqualTo("armdb zookeeper: serving 127.0.0.1:" + port + ", data in " + tmp.resolve("zk"));
            try (CuratorFramework c =
                    CuratorFrameworkFactory.newClient("127.0.0.1:" + port, 4_000, 4_000, new RetryNTimes(5, 200))) {
                c.start();
                c.create().forPath("/probe", new byte[] {1});
                assertThat(c.getData().forPath("/probe")).containsExactly(1);
            }
            p.destroy();
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).isZero();
            // the port is free again: the server stopped with the process
            try (ServerSocket again = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                assertThat(again.getLocalPort()).isEqualTo(port);
            }
        } finally {
            p.destroyForcibly();
        }
    }
}
