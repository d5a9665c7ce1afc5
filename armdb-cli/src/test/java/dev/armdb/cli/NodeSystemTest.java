package dev.armdb.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.armdb.FixedMap;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Multi-process: a leader and a follower started with {@code armdb serve} in child JVMs on 127.0.0.1, driven by
 * Debian's real {@code redis-cli} and {@code redis-benchmark} (installed by .ci/run). Also the README
 * quickstart's commands.
 */
class NodeSystemTest {
    private static final String VALUE = "abcdefghijklmnopqrstuvwxyz012345";

    @TempDir
    Path tmp;

    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void stopAll() {
        for (Process p : processes) {
            p.destroyForcibly();
        }
    }

    private static boolean onPath(String tool) {
        for (String dir : System.getenv("PATH").split(":")) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    private Process serve(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(
                ProcessHandle.current().info().command().orElseThrow(),
                "-cp",
                System.getProperty("java.class.path"),
                "dev.armdb.cli.Main",
                "serve"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        processes.add(p);
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        List<String> output = new ArrayList<>();
        String line;
        while ((line = r.readLine()) != null) {
            if (line.startsWith("armdb node: RESP on")) {
                Thread.ofPlatform().daemon().start(() -> drain(r));
                return p;
            }
            output.add(line);
            assertThat(System.nanoTime()).as("node start, last line: %s", line).isLessThan(deadline);
        }
        throw new AssertionError("node exited before it started serving, status " + p.waitFor() + ", command "
                + String.join(" ", args) + ", output:\n" + String.join("\n", output));
    }

    private static void drain(BufferedReader r) {
        try {
            while (r.readLine() != null) {
                // keep the pipe flowing
            }
        } catch (IOException ignored) {
            // process ended
        }
    }

    private static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS))
                .as("%s finished", List.of(cmd))
                .isTrue();
        return out.trim();
    }

    private static String cli(int port, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("redis-cli", "-h", "127.0.0.1", "-p", Integer.toString(port)));
        cmd.addAll(List.of(args));
        return run(cmd.toArray(String[]::new));
    }

    private static void awaitSameDigest(int leaderPort, int followerPort) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        String l = cli(leaderPort, "DEBUG", "DIGEST");
        String f = cli(followerPort, "DEBUG", "DIGEST");
        while (!l.equals(f) && System.nanoTime() < deadline) {
            Thread.sleep(100);
            l = cli(leaderPort, "DEBUG", "DIGEST");
            f = cli(followerPort, "DEBUG", "DIGEST");
        }
        assertThat(f).as("follower digest").isEqualTo(l).isNotEmpty();
    }

    @Test
    void leaderAndFollowerServeRedisClientsAndConverge() throws Exception {
        boolean tools = onPath("redis-cli") && onPath("redis-benchmark");
        // CI installs redis-tools (.ci/run); there a missing tool is a failure, on a laptop a skip
        assertThat(tools || !"true".equals(System.getenv("CI")))
                .as("redis-tools installed in CI")
                .isTrue();
        assumeTrue(tools, "redis-tools not installed");
        int lp = TestPorts.free();
        int lr = TestPorts.free();
        int fp = TestPorts.free();
        int mp = TestPorts.free();
        Path ldir = tmp.resolve("leader");
        Path fdir = tmp.resolve("follower");
        Path secret = tmp.resolve("repl.secret");
        CliTest.secretFile(secret, "system-test-secret-0123456789\n");
        Path keyStore = tmp.resolve("repl.p12");
        Path password = tmp.resolve("repl.password");
        CliTest.secretFile(password, "system-test-password\n");
        assertThat(Main.run(
                        "tls-keystore",
                        "--out",
                        keyStore.toString(),
                        "--password-file",
                        password.toString(),
                        "--san",
                        "ip:127.0.0.1",
                        "--days",
                        "2"))
                .isZero();
        String[] security = {
            "--repl-secret-file",
            secret.toString(),
            "--repl-tls-keystore",
            keyStore.toString(),
            "--repl-tls-password-file",
            password.toString()
        };
        String[] sizes = concat(new String[] {"--key-size", "16", "--value-size", "32", "--shards", "4"}, security);
        Process leader = serve(concat(
                new String[] {
                    "--dir", ldir.toString(), "--port", "" + lp, "--repl-port", "" + lr, "--metrics-port", "" + mp
                },
                sizes));
        Process follower = serve(concat(
                new String[] {"--dir", fdir.toString(), "--port", "" + fp, "--follow", "127.0.0.1:" + lr}, sizes));

        assertThat(cli(lp, "PING")).isEqualTo("PONG");
        assertThat(cli(lp, "SET", "key:000000000001", VALUE)).isEqualTo("OK");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!cli(fp, "GET", "key:000000000001").equals(VALUE) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(cli(fp, "GET", "key:000000000001")).isEqualTo(VALUE);
        assertThat(cli(lp, "WAIT", "1", "5000")).isEqualTo("1");

        String bench = run(
                "redis-benchmark",
                "-h",
                "127.0.0.1",
                "-p",
                "" + lp,
                "-t",
                "set,get",
                "-r",
                "100000",
                "-d",
                "32",
                "-n",
                "20000",
                "-q");
        assertThat(bench).contains("SET:").contains("GET:").doesNotContainIgnoringCase("error");
        assertThat(Long.parseLong(cli(lp, "DBSIZE"))).isGreaterThan(1000);
        awaitSameDigest(lp, fp);

        assertThat(cli(lp, "SET", "short", VALUE)).isEqualTo("ERR key must be exactly 16 bytes (got 5)");
        assertThat(cli(lp, "SET", "key:000000000002", "tiny")).isEqualTo("ERR value must be exactly 32 bytes (got 4)");
        assertThat(cli(fp, "SET", "key:000000000002", VALUE))
                .isEqualTo("READONLY You can't write against a read only replica.");
        long keys = Long.parseLong(cli(lp, "DBSIZE"));
        assertThat(cli(lp, "--scan").lines().distinct().count()).isEqualTo(keys);
        assertThat(cli(lp, "--bigkeys")).contains(keys + " strings with " + keys * 32 + " bytes");
        assertThat(stat(lp)).contains("keys", "requests").doesNotContain("-9223372036854775808");
        assertThat(cli(lp, "FLUSHALL")).isEqualTo("OK");
        assertThat(cli(lp, "DBSIZE")).isEqualTo("0");
        awaitSameDigest(lp, fp);
        assertThat(cli(fp, "DBSIZE")).as("FLUSHALL replicated").isEqualTo("0");
        assertThat(cli(lp, "SET", "key:000000000001", VALUE)).isEqualTo("OK");
        assertThat(malformed(lp)).startsWith("-ERR Protocol error");
        assertThat(cli(lp, "PING")).isEqualTo("PONG");
        assertThat(cli(lp, "INFO", "replication")).contains("role:master").contains("connected_slaves:1");
        assertThat(cli(fp, "INFO", "replication")).contains("role:slave").contains("master_link_status:up");

        String metrics = java.net.http.HttpClient.newHttpClient()
                .send(
                        java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + mp + "/metrics"))
                                .build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString())
                .body();
        assertThat(metrics)
                .contains("armdb_slots_live{shard=\"0\"}")
                .contains("armdb_replication_streaming_events_sent_total{role=\"leader\"}")
                .contains("armdb_replication_followers");

        follower.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        assertThat(cli(lp, "MSET", "key:000000000003", VALUE, "key:000000000004", VALUE))
                .isEqualTo("OK");
        assertThat(cli(lp, "DEL", "key:000000000001")).isEqualTo("1");
        serve(concat(
                new String[] {"--dir", fdir.toString(), "--port", "" + fp, "--follow", "127.0.0.1:" + lr}, security));
        awaitSameDigest(lp, fp);
        assertThat(cli(fp, "EXISTS", "key:000000000001", "key:000000000003")).isEqualTo("1");

        assertThat(cli(fp, "REPLICAOF", "NO", "ONE")).isEqualTo("OK");
        assertThat(cli(fp, "SET", "key:000000000009", VALUE)).isEqualTo("OK");
        assertThat(cli(fp, "ROLE")).startsWith("master");

        leader.destroy();
        assertThat(leader.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(leader.exitValue()).isZero();

        // everything serve and tls-keystore created is readable by its owner only
        CliTest.assertOwnerOnly(ldir);
        CliTest.assertOwnerOnly(fdir);
        assertThat(PosixFilePermissions.toString(java.nio.file.Files.getPosixFilePermissions(keyStore)))
                .isEqualTo("rw-------");
        // a secret file others may read is refused, as ssh refuses such a key
        java.nio.file.Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-r--r--"));
        List<String> cmd = new ArrayList<>(List.of(
                ProcessHandle.current().info().command().orElseThrow(),
                "-cp",
                System.getProperty("java.class.path"),
                "dev.armdb.cli.Main",
                "serve",
                "--dir",
                tmp.resolve("third").toString(),
                "--port",
                "" + TestPorts.free()));
        cmd.addAll(List.of(sizes));
        Process refused = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        processes.add(refused);
        String said = new String(refused.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(refused.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(refused.exitValue()).as(said).isNotZero();
        assertThat(said).contains("accessible by other users (mode rw-r--r--)").contains("chmod 600");
    }

    /** What {@code redis-cli --stat} prints in about two seconds (it runs until stopped; line-buffered by stdbuf). */
    private String stat(int port) throws Exception {
        Path out = tmp.resolve("stat.txt");
        Process p = new ProcessBuilder(
                        "stdbuf", "-oL", "redis-cli", "-h", "127.0.0.1", "-p", "" + port, "--stat", "-i", "0.2")
                .redirectErrorStream(true)
                .redirectOutput(out.toFile())
                .start();
        Thread.sleep(2_000);
        p.destroy();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return Files.readString(out);
    }

    /**
     * A follower started on an empty directory with only {@code --follow} (and the leader's secret) takes the leader's
     * shard count, key and value sizes instead of refusing to start (no sizes) or failing every shard (16 shards
     * against the leader's 3).
     */
    /**
     * {@code SHUTDOWN} from redis-cli stops a leader right after a burst of writes, and its follower, promoted then,
     * holds exactly the leader's data: the leader waited for the follower's acknowledgements before it stopped. The
     * follower is stopped (SIGSTOP) through the burst and for a second after the SHUTDOWN; with the wait skipped the
     * leader is gone by then and the follower misses the burst. Also the refusals, and a follower's own
     * SHUTDOWN.
     */
    @Test
    void shutdownWaitsForTheFollowerThenStopsCleanly() throws Exception {
        assumeTrue(onPath("redis-cli") && onPath("redis-benchmark"), "redis-tools not installed");
        int lp = TestPorts.free();
        int lr = TestPorts.free();
        int fp = TestPorts.free();
        String[] leader = {
            "--dir",
            tmp.resolve("leader").toString(),
            "--port",
            "" + lp,
            "--repl-port",
            "" + lr,
            "--key-size",
            "16",
            "--value-size",
            "32",
            "--shards",
            "4"
        };
        Process l = serve(leader);
        Process f =
                serve("--dir", tmp.resolve("follower").toString(), "--port", "" + fp, "--follow", "127.0.0.1:" + lr);
        assertThat(cli(lp, "SET", "key:000000000001", VALUE)).isEqualTo("OK");
        awaitSameDigest(lp, fp);

        assertThat(cli(lp, "SHUTDOWN", "ABORT")).contains("No shutdown in progress");
        assertThat(cli(lp, "SHUTDOWN", "SAVE", "NOSAVE")).contains("syntax error");
        assertThat(cli(lp, "SHUTDOWN", "LATER")).contains("syntax error");
        assertThat(cli(lp, "PING")).isEqualTo("PONG");

        // the follower is stopped through the burst and the SHUTDOWN, so only the leader's wait lets it catch up
        run("kill", "-STOP", "" + f.pid());
        try {
            run(
                    "redis-benchmark",
                    "-h",
                    "127.0.0.1",
                    "-p",
                    "" + lp,
                    "-t",
                    "set",
                    "-r",
                    "1000000",
                    "-d",
                    "32",
                    "-n",
                    "20000",
                    "-P",
                    "16",
                    "-q");
            Thread.ofPlatform().daemon().start(() -> {
                try {
                    cli(lp, "SHUTDOWN");
                } catch (Exception ignored) {
                    // the check is the leader's exit below
                }
            });
            assertThat(l.waitFor(1, TimeUnit.SECONDS))
                    .as("leader waits for its follower")
                    .isFalse();
        } finally {
            run("kill", "-CONT", "" + f.pid());
        }
        assertThat(l.waitFor(60, TimeUnit.SECONDS)).as("leader stopped").isTrue();
        assertThat(l.exitValue()).isZero();

        assertThat(cli(fp, "REPLICAOF", "NO", "ONE")).isEqualTo("OK");
        String followerDigest = cli(fp, "DEBUG", "DIGEST");
        serve(leader);
        assertThat(cli(lp, "DEBUG", "DIGEST")).as("the stopped leader's data").isEqualTo(followerDigest);

        cli(fp, "SHUTDOWN", "NOW");
        assertThat(f.waitFor(60, TimeUnit.SECONDS)).as("follower stopped").isTrue();
        assertThat(f.exitValue()).isZero();
    }

    /**
     * A node started with {@code --exit-with-parent} (as aot-train and cluster-demo start theirs) stops cleanly
     * when its parent is killed with SIGKILL, which leaves the parent no chance to stop it. Fails without the
     * option's watch: the node serves on as an orphan.
     */
    @Test
    void aChildNodeStopsWhenItsParentIsKilled() throws Exception {
        int port = TestPorts.free();
        String java = ProcessHandle.current().info().command().orElseThrow();
        String serve = String.join(
                " ",
                "'" + java + "'",
                "-cp",
                "'" + System.getProperty("java.class.path") + "'",
                "dev.armdb.cli.Main serve --exit-with-parent --dir",
                "'" + tmp.resolve("child") + "'",
                "--port",
                port + " --key-size 8 --value-size 8");
        // into a file: a Process's pipe is closed when that process (here the parent) exits
        Path log = tmp.resolve("child.log");
        Process parent = new ProcessBuilder("bash", "-c", serve + " & echo child $!; wait")
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        processes.add(parent);
        String first = awaitLine(log, "child ");
        ProcessHandle child =
                ProcessHandle.of(Long.parseLong(first.substring(6).trim())).orElseThrow();
        try {
            awaitLine(log, "armdb node: RESP on");
            run("kill", "-KILL", "" + parent.pid());
            assertThat(child.onExit().get(60, TimeUnit.SECONDS).isAlive()).isFalse();
            awaitLine(log, "armdb node: stopped cleanly");
        } finally {
            child.destroyForcibly();
        }
    }

    /** The first line of {@code log} that starts with {@code prefix}, waiting up to a minute for it. */
    private static String awaitLine(Path log, String prefix) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        List<String> lines = List.of();
        while (System.nanoTime() < deadline) {
            lines = Files.exists(log) ? Files.readAllLines(log) : List.of();
            for (String l : lines) {
                if (l.startsWith(prefix)) {
                    return l;
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no line starting with '" + prefix + "' in " + lines);
    }

    @Test
    void aNewFollowerTakesItsLeadersShape() throws Exception {
        assumeTrue(onPath("redis-cli"), "redis-tools not installed");
        int lp = TestPorts.free();
        int lr = TestPorts.free();
        int fp = TestPorts.free();
        Path secret = tmp.resolve("repl.secret");
        CliTest.secretFile(secret, "system-test-secret-0123456789\n");
        serve(
                "--dir",
                tmp.resolve("leader").toString(),
                "--port",
                "" + lp,
                "--repl-port",
                "" + lr,
                "--key-size",
                "8",
                "--value-size",
                "12",
                "--shards",
                "3",
                "--repl-secret-file",
                secret.toString());
        assertThat(cli(lp, "SET", "key:0001", "twelve-bytes")).isEqualTo("OK");
        serve(
                "--dir",
                tmp.resolve("follower").toString(),
                "--port",
                "" + fp,
                "--follow",
                "127.0.0.1:" + lr,
                "--repl-secret-file",
                secret.toString());
        assertThat(cli(lp, "SET", "key:0002", "twelve-byte2")).isEqualTo("OK");
        awaitSameDigest(lp, fp);
        assertThat(cli(fp, "GET", "key:0001")).isEqualTo("twelve-bytes");
        assertThat(cli(fp, "GET", "key:0002")).isEqualTo("twelve-byte2");
        assertThat(FixedMap.storedConfig(tmp.resolve("follower")))
                .satisfies(c -> assertThat(c.shards()).isEqualTo(3))
                .satisfies(c -> assertThat(c.keySize()).isEqualTo(8))
                .satisfies(c -> assertThat(c.valueSize()).isEqualTo(12));
    }

    @Test
    void requirePassFileAndProtectedModeOptions() throws Exception {
        boolean tools = onPath("redis-cli");
        assertThat(tools || !"true".equals(System.getenv("CI")))
                .as("redis-tools installed in CI")
                .isTrue();
        assumeTrue(tools, "redis-tools not installed");
        Path open = tmp.resolve("open.pw");
        Files.writeString(open, "pw-0123\n");
        Files.setPosixFilePermissions(open, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        Process refused = new ProcessBuilder(
                        ProcessHandle.current().info().command().orElseThrow(),
                        "-cp",
                        System.getProperty("java.class.path"),
                        "dev.armdb.cli.Main",
                        "serve",
                        "--dir",
                        tmp.resolve("r").toString(),
                        "--port",
                        "" + TestPorts.free(),
                        "--key-size",
                        "8",
                        "--value-size",
                        "8",
                        "--requirepass-file",
                        open.toString())
                .redirectErrorStream(true)
                .start();
        processes.add(refused);
        String why = new String(refused.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(refused.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(refused.exitValue()).isNotZero();
        assertThat(why).contains("readable by its group or others");

        Path pw = tmp.resolve("node.pw");
        Files.writeString(pw, "pw-0123\n");
        Files.setPosixFilePermissions(pw, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        int port = TestPorts.free();
        serve(
                "--dir",
                tmp.resolve("p").toString(),
                "--port",
                "" + port,
                "--key-size",
                "8",
                "--value-size",
                "8",
                "--requirepass-file",
                pw.toString());
        assertThat(cli(port, "SET", "key00001", "val00001")).startsWith("NOAUTH");
        assertThat(cli(port, "--no-auth-warning", "-a", "wrong", "PING")).contains("WRONGPASS");
        assertThat(cli(port, "--no-auth-warning", "-a", "pw-0123", "SET", "key00001", "val00001"))
                .isEqualTo("OK");
        assertThat(cli(port, "--no-auth-warning", "--user", "default", "--pass", "pw-0123", "GET", "key00001"))
                .isEqualTo("val00001");
    }

    @Test
    void tlsKeyStoreOptionsServeRedisCliOverTls() throws Exception {
        boolean tools = onPath("redis-cli");
        assertThat(tools || !"true".equals(System.getenv("CI")))
                .as("redis-tools installed in CI")
                .isTrue();
        assumeTrue(tools, "redis-tools not installed");
        assumeTrue(run("redis-cli", "--help").contains("--tls"), "SKIPPED: this redis-cli is built without TLS");
        Path keyStore = tmp.resolve("resp.p12");
        Path password = tmp.resolve("resp.password");
        CliTest.secretFile(password, "system-test-password\n");
        assertThat(Main.run(
                        "tls-keystore",
                        "--out",
                        keyStore.toString(),
                        "--password-file",
                        password.toString(),
                        "--san",
                        "ip:127.0.0.1",
                        "--days",
                        "2"))
                .isZero();
        Path cert = tmp.resolve("resp.pem");
        // the export command the operations guide gives
        String pem = run(
                Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-exportcert",
                "-rfc",
                "-keystore",
                keyStore.toString(),
                "-alias",
                "armdb",
                "-storepass",
                "system-test-password");
        Files.writeString(cert, pem.substring(pem.indexOf("-----BEGIN")) + "\n");
        int port = TestPorts.free();
        serve(
                "--dir",
                tmp.resolve("t").toString(),
                "--port",
                "" + port,
                "--key-size",
                "8",
                "--value-size",
                "8",
                "--tls-keystore",
                keyStore.toString(),
                "--tls-password-file",
                password.toString());
        assertThat(cli(port, "--tls", "--cacert", cert.toString(), "SET", "key00001", "val00001"))
                .isEqualTo("OK");
        assertThat(cli(port, "--tls", "--cacert", cert.toString(), "GET", "key00001"))
                .isEqualTo("val00001");
        assertThat(cli(port, "PING")).doesNotContain("PONG");
    }

    private static String malformed(int port) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write("*1\r\n$abc\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            String reply = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
            return reply;
        }
    }

    private static String[] concat(String[] a, String[] b) {
        String[] r = new String[a.length + b.length];
        System.arraycopy(a, 0, r, 0, a.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
