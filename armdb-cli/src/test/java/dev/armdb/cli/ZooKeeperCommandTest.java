package dev.armdb.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.cluster.ClusterStatusReader;
import dev.armdb.cluster.MemberInfo;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
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

    private static Process armdb(String... args) throws IOException {
        List<String> cmd = new java.util.ArrayList<>(List.of(
                ProcessHandle.current().info().command().orElseThrow(),
                "-cp",
                System.getProperty("java.class.path"),
                "dev.armdb.cli.Main"));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).start();
    }

    /** Lines of {@code p}'s output as they come (a daemon thread reads them). */
    private static LinkedBlockingQueue<String> lines(Process p) {
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
        return lines;
    }

    /** Waits up to 60 s for a line starting with {@code prefix}; fails with the output seen otherwise. */
    private static String awaitLine(LinkedBlockingQueue<String> lines, String prefix) throws InterruptedException {
        StringBuilder seen = new StringBuilder();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            String line = lines.poll(100, TimeUnit.MILLISECONDS);
            if (line != null) {
                seen.append(line).append('\n');
                if (line.startsWith(prefix)) {
                    return line;
                }
            }
        }
        throw new AssertionError("no line starting with '" + prefix + "' within 60 s; output:\n" + seen);
    }

    /**
     * A node started with --cluster against a zookeeper process bootstraps its group alone and takes writes; it
     * publishes its first --repl-advertise name as its replication address.
     */
    @Test
    void serveWithClusterJoinsAGroupAndLeadsItAlone() throws Exception {
        int zkPort = TestPorts.free();
        int respPort = TestPorts.free();
        String advertised = "127.0.0.1:" + TestPorts.free();
        Process zk = armdb("zookeeper", "--dir", tmp.resolve("zk").toString(), "--port", "" + zkPort);
        Process node = null;
        try {
            awaitLine(lines(zk), "armdb zookeeper: serving");
            node = armdb(
                    "serve",
                    "--dir",
                    tmp.resolve("n1").toString(),
                    "--port",
                    "" + respPort,
                    "--key-size",
                    "4",
                    "--value-size",
                    "4",
                    "--cluster",
                    "127.0.0.1:" + zkPort + "/armdb",
                    "--group",
                    "g",
                    "--node-id",
                    "n1",
                    "--repl-advertise",
                    advertised + ",localhost:1");
            assertThat(awaitLine(lines(node), "armdb node: RESP on"))
                    .contains("group g as node n1 through ZooKeeper at 127.0.0.1:" + zkPort + "/armdb");
            String reply = "";
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!reply.equals("+OK") && System.nanoTime() < deadline) {
                Thread.sleep(200);
                reply = set(respPort);
            }
            assertThat(reply).as("SET once the group named the node leader").isEqualTo("+OK");
            try (ClusterStatusReader status =
                    ClusterStatusReader.open("127.0.0.1:" + zkPort + "/armdb", Duration.ofSeconds(10))) {
                MemberInfo n1 =
                        status.read().groups().getFirst().members().getFirst().info();
                assertThat(n1.replicationAddress())
                        .as("published replication address")
                        .isEqualTo(advertised);
            }
            node.destroy();
            assertThat(node.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(node.exitValue()).isZero();
        } finally {
            if (node != null) {
                node.destroyForcibly();
            }
            zk.destroyForcibly();
        }
    }

    /** One SET of a 4-byte key and value over a fresh RESP connection; the reply's first line. */
    private static String set(int port) throws IOException {
        try (java.net.Socket s = new java.net.Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(5_000);
            s.getOutputStream()
                    .write("*3\r\n$3\r\nSET\r\n$4\r\nkey1\r\n$4\r\nval1\r\n".getBytes(StandardCharsets.US_ASCII));
            return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
        }
    }

    @Test
    void clusterOptionsGoTogether() {
        String dir = tmp.resolve("x").toString();
        String[] sizes = {"--key-size", "4", "--value-size", "4", "--port", "0"};
        assertThat(serveError(sizes, "--dir", dir, "--group", "g")).contains("--group and --node-id go with --cluster");
        assertThat(serveError(sizes, "--dir", dir, "--cluster", "127.0.0.1:1", "--group", "g"))
                .contains("--cluster needs --group G and --node-id N");
        assertThat(serveError(
                        sizes,
                        "--dir",
                        dir,
                        "--cluster",
                        "127.0.0.1:1",
                        "--group",
                        "g",
                        "--node-id",
                        "n",
                        "--follow",
                        "127.0.0.1:2"))
                .contains("--follow and --cluster exclude each other");
        assertThat(serveError(sizes, "--dir", dir, "--cluster", "127.0.0.1:1", "--group", "g", "--node-id", "a/b"))
                .contains("node id may hold only");
        String[] cluster = {"--dir", dir, "--cluster", "127.0.0.1:1", "--group", "g", "--node-id", "n"};
        assertThat(serveError(sizes, concat(cluster, "--session-timeout", "3s", "--lease", "3s")))
                .contains(
                        "the leader lease must be positive and shorter than the session timeout 3000 ms, got 3000 ms");
        assertThat(serveError(sizes, concat(cluster, "--cluster-tick", "1s", "--failover-grace", "500ms")))
                .contains("the grace period must be longer than the tick 1000 ms");
        assertThat(serveError(sizes, concat(cluster, "--failover-block", "0s")))
                .contains("expected a positive duration, got '0s'");
        for (String bad : List.of("127.0.0.1", ":7000", "127.0.0.1:0", "127.0.0.1:65536", "host:x")) {
            assertThat(serveError(sizes, concat(cluster, "--repl-advertise", bad)))
                    .as("--repl-advertise %s", bad)
                    .contains(
                            "--repl-advertise expects HOST:PORT entries with a port of 1 to 65535, got '" + bad + "'");
        }
    }

    private static String[] concat(String[] a, String... b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    /** Runs serve in this JVM and returns what it wrote to stderr; it must fail (status 2) within 30 s. */
    private static String serveError(String[] sizes, String... args) {
        List<String> all = new java.util.ArrayList<>(List.of("serve"));
        all.addAll(List.of(args));
        all.addAll(List.of(sizes));
        java.io.PrintStream old = System.err;
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        System.setErr(new java.io.PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int status = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
                    java.time.Duration.ofSeconds(30), () -> Main.run(all.toArray(String[]::new)));
            assertThat(status).isEqualTo(2);
        } finally {
            System.setErr(old);
        }
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void servesClientsAndStopsCleanlyOnSigterm() throws Exception {
        int port = TestPorts.free();
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
