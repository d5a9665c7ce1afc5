package dev.armdb.cli;

import dev.armdb.FixedConfig;
import dev.armdb.replication.leader.ReplicationServer;
import dev.armdb.server.Node;
import dev.armdb.server.NodeConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code armdb aot-train}: the training run behind the launcher's ahead-of-time cache. A leader {@code serve} process
 * with default settings takes pipelined {@code SET}s over RESP, a fresh node in this process, told {@code REPLICAOF} as
 * users start a follower, makes its first copy of it, live writes and deletes stream to the follower, and the follower
 * answers {@code GET}s; then the classes of the leader's side of replication are loaded too, without running them (see
 * {@link #loadLeaderClasses}). The JVM records the classes loaded and the methods' profiles of this run into the cache
 * ({@code -XX:AOTCacheOutput}, set by the launcher), so later processes start sooner and compile their hot paths
 * earlier; a first copy into a fresh follower process, most of whose time is a cold JVM's, is about a quarter faster
 * with it.
 *
 * <p>Everything happens on loopback ports chosen by the system, in a temporary directory removed at the end.
 */
@Command(
        name = "aot-train",
        hidden = true,
        mixinStandardHelpOptions = true,
        description = {
            "The launcher's training run for the JVM's ahead-of-time cache: a leader and a follower node in this",
            "process on loopback, a load, a first copy and live streaming. Exit 0 when the follower matched."
        })
final class AotTrainCommand implements Callable<Integer> {
    private static final int KEY = 16;
    private static final int VALUE = 32;
    private static final int PIPELINE = 1_000;
    private static final int TIMEOUT_MILLIS = 60_000;
    private static final Pattern LISTENING = Pattern.compile("RESP on [^ ]*:(\\d+), replication on [^ ]*:(\\d+)");

    @Option(
            names = "--records",
            defaultValue = "200000",
            description = "Records loaded before the follower starts (default ${DEFAULT-VALUE}).")
    int records;

    private final PrintStream out = System.err;

    @Override
    public Integer call() throws Exception {
        if (records < PIPELINE) {
            throw new IllegalArgumentException("aot-train needs at least " + PIPELINE + " records, got " + records);
        }
        Path root = Files.createTempDirectory("armdb-aot-");
        long t0 = System.nanoTime();
        try {
            train(root);
        } finally {
            deleteTree(root);
        }
        out.printf(
                Locale.ROOT,
                "armdb: loaded the leader side's %d classes%n",
                loadLeaderClasses().size());
        out.printf(Locale.ROOT, "armdb: training run done in %.1f s%n", (System.nanoTime() - t0) / 1e9);
        return 0;
    }

    /**
     * The leader runs in a child process, so that this JVM's profiles are a follower's only: profiles of both roles in
     * one JVM (one class behind an interface in one role, another in the other) made the cache of no use to a
     * follower's first copy.
     */
    private void train(Path root) throws IOException, InterruptedException {
        Path log = root.resolve("leader.log");
        Process leader = startLeader(root.resolve("leader"), log);
        try {
            InetSocketAddress[] addresses = awaitAddresses(leader, log);
            // the shape the leader's defaults gave it (same machine, so the same default shard count)
            FixedConfig cfg = FixedConfig.builder()
                    .keySize(KEY)
                    .valueSize(VALUE)
                    .shards(ServeCommand.defaultShards(Runtime.getRuntime().availableProcessors()))
                    .build();
            InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
            try (RespLink l = new RespLink(addresses[0], TIMEOUT_MILLIS)) {
                writes(l, 0, records, false);
                // started as a leader and told REPLICAOF, as users and the benchmarks start a follower: the switch
                // loads classes of its own (its handshake runs on a virtual thread) that the cache should hold
                try (Node follower = Node.start(new NodeConfig(root.resolve("follower"), cfg, any, any, null, null));
                        RespLink f = new RespLink(follower.respAddress(), TIMEOUT_MILLIS)) {
                    Object answer = f.call(
                            "REPLICAOF",
                            addresses[1].getAddress().getHostAddress(),
                            Integer.toString(addresses[1].getPort()));
                    if (!"+OK".equals(answer)) {
                        throw new IllegalStateException("REPLICAOF answered " + answer + ", expected +OK");
                    }
                    awaitSize(f, l.call("DBSIZE"));
                    writes(l, records / 2, records + records / 2, true);
                    awaitSize(f, l.call("DBSIZE"));
                    reads(f, records);
                }
            }
        } finally {
            leader.destroy();
            if (!leader.waitFor(30, TimeUnit.SECONDS)) {
                leader.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    /**
     * Loads and initializes every class of the replication server's package without running its code, so that the
     * cache holds them while this JVM's profiles stay a follower's (see {@link #train}): a leader process otherwise
     * loads and verifies them from its jar when its first follower connects, and that follower's handshake waits.
     *
     * @return the names of the classes loaded
     */
    static List<String> loadLeaderClasses() throws IOException, ClassNotFoundException {
        Class<?> anchor = ReplicationServer.class;
        String dir = anchor.getPackageName().replace('.', '/');
        Path source;
        try {
            source = Path.of(
                    anchor.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IOException("cannot locate the classes of " + anchor.getName() + ": " + e.getMessage(), e);
        }
        List<String> names;
        if (Files.isDirectory(source)) {
            names = classesUnder(source, source.resolve(dir));
        } else {
            try (FileSystem jar = FileSystems.newFileSystem(source)) {
                Path top = jar.getPath("/");
                names = classesUnder(top, top.resolve(dir));
            }
        }
        for (String name : names) {
            Class.forName(name, true, anchor.getClassLoader());
        }
        return names;
    }

    /** The binary names of the classes in the directory {@code dir} under the class path root {@code top}. */
    private static List<String> classesUnder(Path top, Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(f -> top.relativize(f).toString())
                    .filter(f -> f.endsWith(".class") && !f.endsWith("module-info.class"))
                    .map(f -> f.substring(0, f.length() - ".class".length()).replace('/', '.'))
                    .sorted()
                    .toList();
        }
    }

    /** Starts {@code serve} with default settings, on ephemeral loopback ports, in a child JVM of this one's kind. */
    private static Process startLeader(Path dir, Path log) throws IOException {
        return ChildServe.start(
                List.of(),
                List.of(
                        "--dir",
                        dir.toString(),
                        "--bind",
                        "127.0.0.1",
                        "--port",
                        "0",
                        "--key-size",
                        Integer.toString(KEY),
                        "--value-size",
                        Integer.toString(VALUE)),
                log);
    }

    /** The leader's RESP and replication addresses, from the line {@code serve} prints once it listens. */
    private static InetSocketAddress[] awaitAddresses(Process leader, Path log) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MILLIS);
        while (true) {
            for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
                Matcher m = LISTENING.matcher(line);
                if (m.find()) {
                    return new InetSocketAddress[] {
                        new InetSocketAddress("127.0.0.1", Integer.parseInt(m.group(1))),
                        new InetSocketAddress("127.0.0.1", Integer.parseInt(m.group(2)))
                    };
                }
            }
            if (!leader.isAlive() || System.nanoTime() > deadline) {
                throw new IllegalStateException("the training leader did not start within a minute; its output: "
                        + Files.readString(log, StandardCharsets.UTF_8));
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
        }
    }

    /** Pipelined SETs of records from..to-1; with {@code deleteEvery}, every tenth record is deleted instead. */
    private static void writes(RespLink link, int from, int to, boolean deleteEvery) throws IOException {
        for (int i = from; i < to; i += PIPELINE) {
            int end = Math.min(to, i + PIPELINE);
            for (int j = i; j < end; j++) {
                if (deleteEvery && j % 10 == 0) {
                    link.send("DEL", key(j));
                } else {
                    link.send("SET", key(j), value(j));
                }
            }
            link.flush();
            for (int j = i; j < end; j++) {
                Object reply = link.reply();
                if (reply instanceof String s && s.startsWith("-")) {
                    throw new IllegalStateException("write of record " + j + " failed: " + s);
                }
            }
        }
    }

    /** Pipelined GETs of every record below {@code n}. */
    private static void reads(RespLink link, int n) throws IOException {
        for (int i = 0; i < n; i += PIPELINE) {
            int end = Math.min(n, i + PIPELINE);
            for (int j = i; j < end; j++) {
                link.send("GET", key(j));
            }
            link.flush();
            for (int j = i; j < end; j++) {
                link.reply();
            }
        }
    }

    /** Waits (at most a minute) until {@code link}'s node answers DBSIZE with {@code expected}. */
    private static void awaitSize(RespLink link, Object expected) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MILLIS);
        while (true) {
            Object size = link.call("DBSIZE");
            if (size.equals(expected)) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(
                        "the follower holds " + size + " keys after a minute, the leader " + expected);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
        }
    }

    private static String key(int i) {
        return String.format(Locale.ROOT, "k%0" + (KEY - 1) + "d", i);
    }

    private static String value(int i) {
        return String.format(Locale.ROOT, "v%0" + (VALUE - 1) + "d", i);
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
