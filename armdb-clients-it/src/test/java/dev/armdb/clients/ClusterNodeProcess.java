package dev.armdb.clients;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.commands.ProtocolCommand;
import redis.clients.jedis.exceptions.JedisException;

/**
 * One {@code armdb serve --cluster} node as a child process ({@link ArmdbProcess}), seen only as its clients see it:
 * its RESP address (from its log), and what {@code INFO cluster} and {@code DEBUG DIGEST} answer there.
 *
 * <p>Threading: the test's thread.
 */
final class ClusterNodeProcess implements AutoCloseable {
    /** DEBUG, which Jedis has no constant for. */
    private static final ProtocolCommand DEBUG = () -> "DEBUG".getBytes(StandardCharsets.US_ASCII);

    private static final Pattern RESP_LINE = Pattern.compile("armdb node: RESP on [^/\\s]*/([0-9.]+):(\\d+)");

    private final String id;
    private final ArmdbProcess process;
    private final InetSocketAddress resp;

    private ClusterNodeProcess(String id, ArmdbProcess process, InetSocketAddress resp) {
        this.id = id;
        this.process = process;
        this.resp = resp;
    }

    /**
     * Starts node {@code id} of {@code group} through ZooKeeper at {@code cluster} in {@code dir} (16-byte keys,
     * 32-byte values, 4 shards, durability GROUP, RESP on an ephemeral loopback port), with {@code options} after
     * those; waits (bounded) until it prints its RESP address. It stops by itself when this JVM goes.
     */
    static ClusterNodeProcess start(String id, Path dir, String cluster, String group, List<String> options)
            throws IOException, InterruptedException {
        List<String> jvm = List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");
        List<String> args = new ArrayList<>(List.of(
                "serve",
                "--exit-with-parent",
                "--dir",
                dir.resolve("data").toString(),
                "--bind",
                "127.0.0.1",
                "--port",
                "0",
                "--key-size",
                "16",
                "--value-size",
                "32",
                "--shards",
                "4",
                "--durability",
                "group",
                "--io-threads",
                "1",
                "--cluster",
                cluster,
                "--group",
                group,
                "--node-id",
                id));
        args.addAll(options);
        ArmdbProcess p = ArmdbProcess.start(jvm, args, dir.resolve("node.log"));
        Matcher m = p.awaitLine(RESP_LINE, 60);
        return new ClusterNodeProcess(id, p, new InetSocketAddress(m.group(1), Integer.parseInt(m.group(2))));
    }

    String id() {
        return id;
    }

    InetSocketAddress resp() {
        return resp;
    }

    /** Its {@code INFO cluster} fields by name; empty if it does not answer. */
    Map<String, String> clusterInfo() {
        Map<String, String> fields = new HashMap<>();
        try (Jedis j = jedis()) {
            for (String line : j.info("cluster").split("\r\n")) {
                int colon = line.indexOf(':');
                if (colon > 0 && !line.startsWith("#")) {
                    fields.put(line.substring(0, colon), line.substring(colon + 1));
                }
            }
        } catch (JedisException e) {
            fields.clear();
        }
        return fields;
    }

    /** The size of its ISR if it answers that it leads and accepts writes, else -1. */
    int leadingIsrSize() {
        Map<String, String> f = clusterInfo();
        if (!"leader".equals(f.get("armdb_cluster_role")) || !"1".equals(f.get("armdb_cluster_accepts_writes"))) {
            return -1;
        }
        return Integer.parseInt(f.get("armdb_cluster_isr_size"));
    }

    /** Its {@code DEBUG DIGEST}, or the failure if it does not answer. */
    String digest() {
        try (Jedis j = jedis()) {
            return new String((byte[]) j.sendCommand(DEBUG, "DIGEST"), StandardCharsets.US_ASCII);
        } catch (JedisException e) {
            return "unreadable: " + e;
        }
    }

    /** A Jedis connection to it (1 s timeouts); the caller closes it. */
    Jedis jedis() {
        return new Jedis(
                new HostAndPort(resp.getAddress().getHostAddress(), resp.getPort()),
                DefaultJedisClientConfig.builder()
                        .connectionTimeoutMillis(1_000)
                        .socketTimeoutMillis(5_000)
                        .build());
    }

    /** SIGKILL. */
    void kill() throws InterruptedException {
        process.kill();
    }

    String logTail(int n) {
        return process.logTail(n);
    }

    @Override
    public void close() throws InterruptedException {
        process.close();
    }
}
