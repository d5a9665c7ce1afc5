package dev.armdb.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Digest;
import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.FixedMap;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CliTest {
    @TempDir
    Path dir;

    private static String capture(Runnable r, int[] status) {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            r.run();
        } finally {
            System.setOut(old);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    @Test
    void demoReplicatesAndReportsAMatch() {
        int[] status = {-1};
        String out = capture(
                () -> status[0] = Main.run("demo", "--records", "20000", "--shards", "3", "--live-ops", "5000"),
                status);
        assertThat(status[0]).as(out).isZero();
        assertThat(out).contains("follower caught up").contains("lag").contains("follower matches leader (");
    }

    /**
     * The launcher's training run: a leader child process, a first copy into a node of this JVM told REPLICAOF, live
     * writes and deletes; it fails (an exception, not exit 0) unless the follower ends with the leader's key count.
     */
    @Test
    void aotTrainingRunCopiesAndStreamsToAFollower() {
        assertThat(Main.run("aot-train", "--records", "3000")).isZero();
        assertThat(Main.run("aot-train", "--records", "10")).isNotZero();
    }

    /** The training run also loads the leader side's classes, which a follower's run never uses. */
    @Test
    void aotTrainingLoadsEveryClassOfTheReplicationServersPackage() throws Exception {
        assertThat(AotTrainCommand.loadLeaderClasses())
                .contains(
                        "dev.armdb.replication.leader.ReplicationServer",
                        "dev.armdb.replication.leader.FollowerSession",
                        "dev.armdb.replication.leader.ShardStreamer",
                        "dev.armdb.replication.leader.PooledStream")
                .allSatisfy(name -> assertThat(name).startsWith("dev.armdb.replication.leader."));
    }

    @Test
    void verifyStatsDumpAndDigestDescribeACollection() {
        FixedConfig cfg = FixedConfig.builder()
                .keySize(8)
                .valueSize(8)
                .shards(2)
                .durability(Durability.NONE)
                .build();
        Digest expected;
        try (FixedMap map = FixedMap.open(dir, cfg)) {
            for (int i = 0; i < 100; i++) {
                byte[] k = ("key" + (10000 + i)).substring(0, 8).getBytes(StandardCharsets.US_ASCII);
                map.put(k, "value-00".getBytes(StandardCharsets.US_ASCII));
            }
            expected = Digest.of(map);
        }
        int[] status = {-1};
        String verify = capture(() -> status[0] = Main.run("verify", "--dir", dir.toString()), status);
        assertThat(status[0]).isZero();
        assertThat(verify).contains("clean").contains("100 live keys");

        String digest = capture(() -> status[0] = Main.run("digest", "--dir", dir.toString()), status);
        assertThat(status[0]).isZero();
        assertThat(digest).contains("total " + expected.hex());

        String stats = capture(() -> status[0] = Main.run("stats", "--dir", dir.toString(), "--json"), status);
        assertThat(status[0]).isZero();
        assertThat(stats).contains("\"live\":100").contains("\"keySize\":8");

        String dump = capture(() -> status[0] = Main.run("dump", "--dir", dir.toString(), "--limit", "5"), status);
        assertThat(status[0]).isZero();
        assertThat(dump.lines()).hasSize(5).allMatch(l -> l.startsWith("key1") && l.endsWith("\tvalue-00"));
    }

    @Test
    void serveRefusesClientBufferLimitsOutOfRangeBeforeStarting() {
        PrintStream oldErr = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        int status;
        try {
            status = Main.run(
                    "serve",
                    "--dir",
                    dir.resolve("n").toString(),
                    "--key-size",
                    "8",
                    "--value-size",
                    "8",
                    "--port",
                    "0",
                    "--client-query-buffer-limit",
                    "1kb");
        } finally {
            System.setErr(oldErr);
        }
        assertThat(status).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8))
                .contains("the client query buffer limit must be within 65536..1073741824 bytes, got 1024");
        assertThat(dir.resolve("n").resolve("db.meta")).doesNotExist();
    }

    @Test
    void verifyOfAMissingCollectionFailsWithAReason() {
        int[] status = {-1};
        capture(
                () -> status[0] =
                        Main.run("verify", "--dir", dir.resolve("nothing").toString()),
                status);
        assertThat(status[0]).isEqualTo(2);
    }

    /** Writes an owner-only secret file. */
    static Path secretFile(Path file, String text) throws java.io.IOException {
        java.nio.file.Files.writeString(file, text);
        java.nio.file.Files.setPosixFilePermissions(
                file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        return file;
    }

    /** Asserts every directory under {@code root} (itself included) is 0700 and every file 0600. */
    static void assertOwnerOnly(Path root) throws java.io.IOException {
        int files = 0;
        try (java.util.stream.Stream<Path> all = java.nio.file.Files.walk(root)) {
            for (Path p : all.toList()) {
                String mode = java.nio.file.attribute.PosixFilePermissions.toString(
                        java.nio.file.Files.getPosixFilePermissions(p));
                if (java.nio.file.Files.isDirectory(p)) {
                    assertThat(mode).as("mode of directory %s", p).isEqualTo("rwx------");
                } else {
                    assertThat(mode).as("mode of file %s", p).isEqualTo("rw-------");
                    files++;
                }
            }
        }
        assertThat(files).as("files under %s", root).isPositive();
    }

    @Test
    void demoCreatesOwnerOnlyFiles() throws Exception {
        int[] status = {-1};
        String out = capture(
                () -> status[0] = Main.run("demo", "--records", "2000", "--shards", "2", "--live-ops", "100", "--keep"),
                status);
        assertThat(status[0]).as(out).isZero();
        Path kept = Path.of(out.lines()
                .filter(l -> l.startsWith("kept "))
                .findFirst()
                .orElseThrow()
                .substring(5));
        try {
            assertOwnerOnly(kept);
        } finally {
            try (java.util.stream.Stream<Path> all = java.nio.file.Files.walk(kept)) {
                for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    java.nio.file.Files.delete(p);
                }
            }
        }
    }

    @Test
    void tlsKeyStoreWritesALoadableStoreAndRefusesToOverwriteOrAShortPassword() throws Exception {
        Path password = secretFile(dir.resolve("pw"), "secret-password\n");
        Path store = dir.resolve("node.p12");
        int[] status = {-1};
        String out = capture(
                () -> status[0] =
                        Main.run("tls-keystore", "--out", store.toString(), "--password-file", password.toString()),
                status);
        assertThat(status[0]).as(out).isZero();
        assertThat(out).contains("wrote").contains("ip:127.0.0.1");
        assertThat(dev.armdb.replication.ReplicationTls.fromKeyStore(store, "secret-password".toCharArray()))
                .isNotNull();
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(
                        java.nio.file.Files.getPosixFilePermissions(store)))
                .as("the key store is owner-only")
                .isEqualTo("rw-------");
        try (java.util.stream.Stream<Path> left = java.nio.file.Files.list(dir)) {
            assertThat(left.map(p -> p.getFileName().toString()))
                    .as("no temporary directory left behind")
                    .containsExactlyInAnyOrder("pw", "node.p12");
        }
        assertThat(Main.run("tls-keystore", "--out", store.toString(), "--password-file", password.toString()))
                .as("an existing store is not overwritten")
                .isEqualTo(2);
        // eleven characters: one short of the minimum
        secretFile(password, "abcdefghijk\n");
        assertThat(Main.run(
                        "tls-keystore",
                        "--out",
                        dir.resolve("other.p12").toString(),
                        "--password-file",
                        password.toString()))
                .isEqualTo(2);
        assertThat(dir.resolve("other.p12")).doesNotExist();
    }

    @Test
    void aPasswordFileOthersCanReadIsRefused() throws Exception {
        Path password = secretFile(dir.resolve("pw"), "a-long-enough-password\n");
        java.nio.file.Files.setPosixFilePermissions(
                password, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        PrintStream oldErr = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        int status;
        try {
            status = Main.run(
                    "tls-keystore", "--out", dir.resolve("x.p12").toString(), "--password-file", password.toString());
        } finally {
            System.setErr(oldErr);
        }
        assertThat(status).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8))
                .contains("accessible by other users (mode rw-r--r--)")
                .contains("chmod 600");
        assertThat(dir.resolve("x.p12")).doesNotExist();
    }
}
