package dev.armdb.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * node-redis and ioredis at their default settings against a node on 127.0.0.1, through {@code
 * src/test/node/clients.cjs}. The packages come from {@code .node-clients/} at the repository's root ({@code
 * .ci/run} installs them); without node or the packages the test is skipped with a message saying what is missing.
 * redis-py runs through {@code src/test/node/clients.py} with the Debian package {@code python3-redis} (4.3, RESP2
 * only: the RESP3 versions are on PyPI, out of reach of the build); skipped with a message when it is missing.
 */
class NodeClientsTest {
    @TempDir
    Path tmp;

    @Test
    void nodeRedisAndIoredisAtDefaults() throws Exception {
        Path modules =
                Path.of("..", ".node-clients", "node_modules").toAbsolutePath().normalize();
        boolean installed =
                Files.isDirectory(modules.resolve("redis")) && Files.isDirectory(modules.resolve("ioredis"));
        String why = !hasNode()
                ? "node is not on the PATH"
                : !installed
                        ? "the npm packages redis and ioredis are not installed in " + modules + " (.ci/run does)"
                        : null;
        if (why != null) {
            System.out.println("NodeClientsTest SKIPPED: " + why);
        }
        Assumptions.assumeTrue(why == null, "NodeClientsTest skipped: " + why);
        try (Node n = node()) {
            ProcessBuilder pb = new ProcessBuilder(
                    "node",
                    Path.of("src", "test", "node", "clients.cjs").toString(),
                    Integer.toString(n.respAddress().getPort()));
            pb.environment().put("NODE_PATH", modules.toString());
            assertThat(run(pb)).contains("node-redis", "ioredis");
        }
    }

    @Test
    void redisPyAtDefaults() throws Exception {
        String why = runs("/usr/bin/python3", "-c", "import redis")
                ? null
                : "/usr/bin/python3 with the module redis (Debian: python3-redis) is missing";
        if (why != null) {
            System.out.println("NodeClientsTest SKIPPED redis-py: " + why);
        }
        Assumptions.assumeTrue(why == null, "redis-py skipped: " + why);
        try (Node n = node()) {
            String output = run(new ProcessBuilder(
                    "/usr/bin/python3",
                    Path.of("src", "test", "node", "clients.py").toString(),
                    Integer.toString(n.respAddress().getPort())));
            assertThat(output).contains("redis-py");
        }
    }

    private Node node() {
        InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        FixedConfig cfg = FixedConfig.builder()
                .keySize(8)
                .valueSize(16)
                .shards(4)
                .durability(Durability.NONE)
                .build();
        return Node.start(new NodeConfig(tmp.resolve("n"), cfg, any, any, null, null).withIoThreads(1));
    }

    /** Runs the script to its end (at most 120 s), prints its output, and checks it exited 0. */
    private static String run(ProcessBuilder pb) throws Exception {
        Process p = pb.redirectErrorStream(true).start();
        boolean done = p.waitFor(120, TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly();
        }
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        System.out.println(output);
        assertThat(done).as("the script ended within 120 s").isTrue();
        assertThat(p.exitValue()).as(output).isZero();
        return output;
    }

    private static boolean hasNode() {
        return runs("node", "--version");
    }

    private static boolean runs(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }
}
