package dev.armdb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Kills a {@link CrashWriter} child JVM with SIGKILL at random moments, again and again on the same directory, and
 * checks after each kill that every acknowledged mutation survived (SYNC and GROUP durability), that at most the one
 * op in flight at the kill differs from the acknowledged state, that nothing is corrupt, and that the verifier agrees.
 *
 * <p>Cycles: system property {@code armdb.crash.cycles} (default 5). Seed: {@code armdb.seed} (printed).
 */
class CrashRecoveryTest {
    @TempDir
    Path tmp;

    /** Complete lines a child wrote to its stdout (a trailing partial line is dropped). */
    private static final class AckReader extends Thread {
        private final InputStream in;
        private final List<String> lines = new ArrayList<>();
        /** Lines read so far, readable while the reader runs. */
        private volatile int count;

        private volatile IOException error;

        AckReader(InputStream in) {
            super("crash-writer-stdout");
            setDaemon(true);
            this.in = in;
        }

        @Override
        public void run() {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            try (in) {
                int n;
                while ((n = in.read(buf)) >= 0) {
                    for (int i = 0; i < n; i++) {
                        if (buf[i] == '\n') {
                            lines.add(line.toString(StandardCharsets.US_ASCII));
                            count = lines.size();
                            line.reset();
                        } else {
                            line.write(buf[i]);
                        }
                    }
                }
            } catch (IOException e) {
                error = e;
            }
        }
    }

    /**
     * Under {@link Durability#GROUP} a write returns before any force: what the kill leaves of it is the page cache
     * only, the redo log's staging file (the slot files' pages are private to the process). Under {@link
     * Durability#SYNC} the log files hold every returned write.
     */
    @ParameterizedTest
    @EnumSource(
            value = Durability.class,
            names = {"SYNC", "GROUP"})
    void acknowledgedWritesSurviveKill9(Durability durability) throws Exception {
        int cycles = Integer.getInteger("armdb.crash.cycles", 5);
        long seed = Long.getLong("armdb.seed", System.nanoTime());
        System.out.println("CrashRecoveryTest: seed=" + seed + " (-Darmdb.seed=" + seed + "), cycles=" + cycles);
        Random rnd = new Random(seed);

        Path dir = tmp.resolve("db");
        String java = ProcessHandle.current().info().command().orElseThrow();
        String classPath = System.getProperty("java.class.path");

        // the state the collection must hold: null = absent, else the exact value
        byte[][] expected = new byte[CrashWriter.UNIVERSE][];
        long nextSeq = 1;
        long totalAcks = 0;
        int cyclesWithAcks = 0;
        int cyclesWithInFlightVisible = 0;

        for (int cycle = 0; cycle < cycles; cycle++) {
            long childSeed = rnd.nextLong();
            long killAfterMs = 200 + rnd.nextInt(1301);
            long startSeq = nextSeq;
            Path stderr = tmp.resolve("child-" + cycle + ".err");
            String ctx = "cycle " + cycle + " (seed " + seed + ", child seed " + childSeed + ", kill after "
                    + killAfterMs + " ms)";

            Process p = new ProcessBuilder(
                            java,
                            "-Xmx128m",
                            "-XX:+UseSerialGC",
                            "-XX:TieredStopAtLevel=1",
                            "-cp",
                            classPath,
                            CrashWriter.class.getName(),
                            dir.toString(),
                            Long.toString(childSeed),
                            Long.toString(startSeq),
                            durability.name())
                    .redirectError(stderr.toFile())
                    .start();
            AckReader reader = new AckReader(p.getInputStream());
            reader.start();
            // the kill delay runs from the child's first acknowledgement, not from its start: a loaded machine can
            // take longer than the delay just to start a JVM, and a kill before any write tests nothing
            long firstAckDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (reader.count == 0 && p.isAlive() && System.nanoTime() < firstAckDeadline) {
                Thread.sleep(5);
            }
            boolean exitedEarly = p.waitFor(killAfterMs, TimeUnit.MILLISECONDS);
            if (exitedEarly) {
                reader.join(10_000);
                fail(ctx + ": child exited by itself with code " + p.exitValue() + " after " + reader.lines.size()
                        + " acks; stderr:\n" + Files.readString(stderr));
            }
            // SIGKILL. Through the handle: Process.destroyForcibly() also closes our end of the child's stdout,
            // which would drop acknowledgements the child wrote but the reader had not consumed yet.
            assertThat(p.toHandle().destroyForcibly())
                    .as(ctx + ": kill requested")
                    .isTrue();
            assertThat(p.waitFor(30, TimeUnit.SECONDS))
                    .as(ctx + ": child did not die")
                    .isTrue();
            reader.join(30_000);
            assertThat(reader.isAlive())
                    .as(ctx + ": stdout reader still running")
                    .isFalse();
            assertThat(reader.error).as(ctx + ": reading child stdout").isNull();

            // apply the acknowledged ops to the expected state
            List<String> acks = reader.lines;
            for (int i = 0; i < acks.size(); i++) {
                String[] f = acks.get(i).split(" ");
                long seq = startSeq + i;
                switch (f[0]) {
                    case "P" -> {
                        assertThat(f)
                                .as(ctx + ": ack line %d '%s'", i, acks.get(i))
                                .hasSize(3);
                        assertThat(Long.parseLong(f[2]))
                                .as(ctx + ": seq of ack line %d", i)
                                .isEqualTo(seq);
                        int keyId = Integer.parseInt(f[1]);
                        expected[keyId] = CrashWriter.value(keyId, seq);
                    }
                    case "D" -> {
                        assertThat(f)
                                .as(ctx + ": ack line %d '%s'", i, acks.get(i))
                                .hasSize(2);
                        expected[Integer.parseInt(f[1])] = null;
                    }
                    default -> fail(ctx + ": unexpected line from child: '" + acks.get(i) + "'");
                }
            }
            long inFlightSeq = startSeq + acks.size();
            totalAcks += acks.size();
            if (!acks.isEmpty()) {
                cyclesWithAcks++;
            }

            // reopen in this JVM and compare
            try (FixedMap map = FixedMap.open(dir, CrashWriter.config(durability))) {
                assertThat(map.stats().corruptSlots())
                        .as(ctx + ": corrupt slots")
                        .isZero();
                List<String> diffs = new ArrayList<>();
                byte[][] actual = new byte[CrashWriter.UNIVERSE][];
                int present = 0;
                for (int k = 0; k < CrashWriter.UNIVERSE; k++) {
                    byte[] v = map.get(CrashWriter.key(k));
                    actual[k] = v;
                    if (v != null) {
                        present++;
                        long[] d = decodeOrFail(v, ctx + ": value of key " + k);
                        assertThat(d[0])
                                .as(ctx + ": key id inside value of key " + k)
                                .isEqualTo(k);
                    }
                    if (!Arrays.equals(v, expected[k])) {
                        diffs.add("key " + k + ": expected " + describe(expected[k]) + ", found " + describe(v));
                    }
                }
                assertThat(diffs)
                        .as(ctx + ": keys differing from their last acknowledged state (at most the in-flight op"
                                + " seq " + inFlightSeq + " may differ)")
                        .hasSizeLessThanOrEqualTo(1);
                if (diffs.size() == 1) {
                    cyclesWithInFlightVisible++;
                    int k = keyOf(diffs.getFirst());
                    if (actual[k] != null) {
                        long[] d = CrashWriter.decode(actual[k]);
                        assertThat(d[1])
                                .as(ctx + ": " + diffs.getFirst() + " — a put that differs from the acked state"
                                        + " must be the in-flight op")
                                .isEqualTo(inFlightSeq);
                    }
                    // else: the in-flight op was a delete of a key whose last ack was a put — allowed
                    expected[k] = actual[k];
                }
                assertThat(map.size()).as(ctx + ": size()").isEqualTo(present);
                long[] seen = {0};
                boolean[] yielded = new boolean[CrashWriter.UNIVERSE];
                map.forEach((key, value) -> {
                    long[] d = decodeOrFail(value, ctx + ": forEach value");
                    assertThat(key).as(ctx + ": forEach key of key id " + d[0]).isEqualTo(CrashWriter.key((int) d[0]));
                    assertThat(value).as(ctx + ": forEach value of key " + d[0]).isEqualTo(actual[(int) d[0]]);
                    assertThat(yielded[(int) d[0]])
                            .as(ctx + ": forEach yielded key " + d[0] + " twice")
                            .isFalse();
                    yielded[(int) d[0]] = true;
                    seen[0]++;
                });
                assertThat(seen[0]).as(ctx + ": entries seen by forEach").isEqualTo(present);
            }
            VerifyReport report = Verifier.verify(dir);
            assertThat(report.clean())
                    .as(ctx + ": verifier found corrupt slots: " + report)
                    .isTrue();
            System.out.println("CrashRecoveryTest: " + ctx + ": " + acks.size() + " acks, " + report.liveKeys()
                    + " live keys, " + report.slotsChecked() + " slots");
            nextSeq = inFlightSeq + 1;
        }
        System.out.println("CrashRecoveryTest: " + totalAcks + " acks in " + cyclesWithAcks + "/" + cycles
                + " cycles; in-flight op visible after " + cyclesWithInFlightVisible + " kills");
        assertThat(totalAcks).as("acknowledged ops over the whole run").isPositive();
    }

    private static long[] decodeOrFail(byte[] v, String what) {
        try {
            return CrashWriter.decode(v);
        } catch (IllegalArgumentException e) {
            throw new AssertionError(what + ": " + e.getMessage(), e);
        }
    }

    private static int keyOf(String diff) {
        return Integer.parseInt(diff.substring(4, diff.indexOf(':')));
    }

    private static String describe(byte[] v) {
        if (v == null) {
            return "absent";
        }
        try {
            long[] d = CrashWriter.decode(v);
            return "put(key " + d[0] + ", seq " + d[1] + ")";
        } catch (IllegalArgumentException e) {
            return "garbage " + java.util.HexFormat.of().formatHex(v);
        }
    }
}
