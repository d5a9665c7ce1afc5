package dev.armdb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Misuse and damage: wrong key and value sizes, impossible configs, reopening with other fixed settings, a second
 * open, damaged {@code db.meta} and shard headers, use after close, a full shard. Each must fail with the
 * documented exception and a message naming what was expected and what was found, and must leave the files as
 * they were.
 */
class BadInputTest {
    private static final int KEY = 16;
    private static final int VALUE = 32;
    private static final String LOCK = "db.lock";
    private static final Pattern NUMBER = Pattern.compile("-?\\d+");

    @TempDir
    Path dir;

    private static FixedConfig.Builder base() {
        return FixedConfig.builder()
                .keySize(KEY)
                .valueSize(VALUE)
                .shards(4)
                .durability(Durability.SYNC)
                .growthStepBytes(4096);
    }

    private static byte[] bytes(int size, int seed) {
        byte[] b = new byte[size];
        Random r = new Random(seed);
        r.nextBytes(b);
        return b;
    }

    private static byte[] key(int i) {
        return bytes(KEY, i);
    }

    private static byte[] value(int i) {
        return bytes(VALUE, 1_000_000 + i);
    }

    private static FixedStore open(boolean tree, Path at, FixedConfig cfg) {
        return tree ? FixedTree.open(at, cfg) : FixedMap.open(at, cfg);
    }

    /** Creates a collection in {@link #dir} holding keys 0..count-1, and closes it. */
    private void createWith(FixedConfig cfg, int count) {
        try (FixedMap map = FixedMap.open(dir, cfg)) {
            for (int i = 0; i < count; i++) {
                map.put(key(i), value(i));
            }
        }
    }

    private void assertHolds(FixedStore store, int count) {
        assertThat(store.size()).as("size").isEqualTo(count);
        for (int i = 0; i < count; i++) {
            assertThat(store.get(key(i))).as("value of key %d", i).isEqualTo(value(i));
        }
        assertThat(store.stats().corruptSlots()).as("corrupt slots").isZero();
    }

    /** The integers a message names, with the collection's path (which may hold digits) left out. */
    private Set<String> numbersIn(Throwable t) {
        String m = String.valueOf(t.getMessage()).replace(dir.toAbsolutePath().toString(), "<dir>");
        Set<String> out = new TreeSet<>();
        Matcher x = NUMBER.matcher(m);
        while (x.find()) {
            out.add(x.group());
        }
        return out;
    }

    /** Every regular file of {@code at} but the lock file, by name. */
    private static Map<String, byte[]> files(Path at) throws IOException {
        Map<String, byte[]> out = new TreeMap<>();
        try (Stream<Path> s = Files.list(at)) {
            for (Path p : s.toList()) {
                String name = p.getFileName().toString();
                if (!name.equals(LOCK) && Files.isRegularFile(p)) {
                    out.put(name, Files.readAllBytes(p));
                }
            }
        }
        return out;
    }

    private static void assertSameFiles(Map<String, byte[]> before, Map<String, byte[]> after, String when) {
        assertThat(after.keySet()).as("%s: files of the directory", when).containsExactlyElementsOf(before.keySet());
        for (Map.Entry<String, byte[]> e : before.entrySet()) {
            byte[] now = after.get(e.getKey());
            assertThat(Arrays.mismatch(e.getValue(), now))
                    .as(
                            "%s: first changed byte of %s (%d bytes before, %d after)",
                            when, e.getKey(), e.getValue().length, now.length)
                    .isEqualTo(-1);
        }
    }

    private static void flipByte(Path file, long at, int mask) throws IOException {
        byte[] b = Files.readAllBytes(file);
        b[(int) at] ^= (byte) mask;
        Files.write(file, b);
    }

    // ------------------------------------------------------------------ wrong sizes

    /** One call with a wrong-size argument, the size it wants and the size (or "null") it gets. */
    private record BadCall(String name, ThrowingCallable call, int expected, String given) {}

    private static String sizeOf(byte[] b) {
        return b == null ? "null" : String.valueOf(b.length);
    }

    @ParameterizedTest(name = "tree={0}")
    @ValueSource(booleans = {false, true})
    void wrongKeyAndValueSizesAreRejectedNamingBothSizes(boolean tree) {
        try (FixedStore store = open(tree, dir, base().build())) {
            byte[] k = key(1);
            byte[] v = value(1);
            store.put(k, v);
            byte[] absent = key(2);

            List<BadCall> calls = new ArrayList<>();
            for (byte[] bk : new byte[][] {null, new byte[KEY - 1], new byte[KEY + 1], new byte[0]}) {
                String g = sizeOf(bk);
                calls.add(new BadCall("put key " + g, () -> store.put(bk, v), KEY, g));
                calls.add(new BadCall("get key " + g, () -> store.get(bk), KEY, g));
                calls.add(new BadCall("get into buffer, key " + g, () -> store.get(bk, new byte[VALUE]), KEY, g));
                calls.add(new BadCall("delete key " + g, () -> store.delete(bk), KEY, g));
                calls.add(new BadCall("containsKey key " + g, () -> store.containsKey(bk), KEY, g));
                calls.add(new BadCall("putIfAbsent key " + g, () -> store.putIfAbsent(bk, v), KEY, g));
                calls.add(new BadCall("compareAndSet key " + g, () -> store.compareAndSet(bk, v, v), KEY, g));
            }
            for (byte[] bv : new byte[][] {null, new byte[VALUE - 1], new byte[VALUE + 1], new byte[0]}) {
                String g = sizeOf(bv);
                calls.add(new BadCall("put value " + g, () -> store.put(k, bv), VALUE, g));
                calls.add(new BadCall("put value " + g + " of a new key", () -> store.put(absent, bv), VALUE, g));
                calls.add(new BadCall("get into buffer " + g, () -> store.get(k, bv), VALUE, g));
                calls.add(new BadCall("putIfAbsent value " + g, () -> store.putIfAbsent(absent, bv), VALUE, g));
                calls.add(new BadCall("compareAndSet expected " + g, () -> store.compareAndSet(k, bv, v), VALUE, g));
                calls.add(new BadCall("compareAndSet update " + g, () -> store.compareAndSet(k, v, bv), VALUE, g));
            }
            for (BadCall bad : calls) {
                assertThatThrownBy(bad.call())
                        .as(bad.name())
                        .isInstanceOf(IllegalArgumentException.class)
                        .satisfies(e -> {
                            assertThat(numbersIn(e))
                                    .as("%s: message \"%s\" names the expected size", bad.name(), e.getMessage())
                                    .contains(String.valueOf(bad.expected()));
                            if (bad.given().equals("null")) {
                                assertThat(e.getMessage())
                                        .as("%s: message names the null", bad.name())
                                        .contains("null");
                            } else {
                                assertThat(numbersIn(e))
                                        .as("%s: message \"%s\" names the given size", bad.name(), e.getMessage())
                                        .contains(bad.given());
                            }
                        });
            }
            // nothing was written by the rejected calls
            assertThat(store.size()).as("size after rejected calls").isEqualTo(1);
            assertThat(store.get(k)).as("value after rejected calls").isEqualTo(v);
            assertThat(store.containsKey(absent))
                    .as("absent key after rejected calls")
                    .isFalse();
        }
    }

    @Test
    void zeroByteValuesRejectNonEmptyValues() {
        try (FixedMap map = FixedMap.open(dir, base().valueSize(0).build())) {
            byte[] k = key(1);
            assertThatThrownBy(() -> map.put(k, new byte[1]))
                    .isInstanceOf(IllegalArgumentException.class)
                    .satisfies(e -> assertThat(numbersIn(e)).contains("0", "1"));
            assertThatThrownBy(() -> map.get(k, new byte[2]))
                    .isInstanceOf(IllegalArgumentException.class)
                    .satisfies(e -> assertThat(numbersIn(e)).contains("0", "2"));
            map.put(k, new byte[0]);
            assertThat(map.get(k)).isEmpty();
            assertThat(map.get(k, new byte[0])).isTrue();
        }
    }

    // ------------------------------------------------------------------ config ranges

    static Stream<Arguments> outOfRangeSettings() {
        return Stream.of(
                Arguments.of("key size", (UnaryOperator<FixedConfig.Builder>) b -> b.keySize(0), 1, 1024, 0),
                Arguments.of("key size", (UnaryOperator<FixedConfig.Builder>) b -> b.keySize(1025), 1, 1024, 1025),
                Arguments.of("value size", (UnaryOperator<FixedConfig.Builder>) b -> b.valueSize(-1), 0, 65000, -1),
                Arguments.of(
                        "value size", (UnaryOperator<FixedConfig.Builder>) b -> b.valueSize(65001), 0, 65000, 65001),
                Arguments.of("shard", (UnaryOperator<FixedConfig.Builder>) b -> b.shards(0), 1, 256, 0),
                Arguments.of("shard", (UnaryOperator<FixedConfig.Builder>) b -> b.shards(257), 1, 256, 257));
    }

    @ParameterizedTest(name = "{0} = {4}")
    @MethodSource("outOfRangeSettings")
    void outOfRangeSettingIsRejectedNamingRangeAndValue(
            String setting, UnaryOperator<FixedConfig.Builder> change, int min, int max, int given) {
        assertThatThrownBy(() -> change.apply(base()).build())
                .isInstanceOf(IllegalArgumentException.class)
                .satisfies(e -> {
                    assertThat(e.getMessage()).as("names the setting").containsIgnoringCase(setting);
                    assertThat(numbersIn(e))
                            .as("message \"%s\" names the range and the value", e.getMessage())
                            .contains(String.valueOf(min), String.valueOf(max), String.valueOf(given));
                });
    }

    @Test
    void boundarySettingsAreAccepted() {
        FixedConfig low = base().keySize(1).valueSize(0).shards(1).build();
        assertThat(List.of(low.keySize(), low.valueSize(), low.shards())).containsExactly(1, 0, 1);
        FixedConfig high = base().keySize(1024).valueSize(65000).shards(256).build();
        assertThat(List.of(high.keySize(), high.valueSize(), high.shards())).containsExactly(1024, 65000, 256);
        assertThatThrownBy(() -> FixedConfig.builder().valueSize(8).build())
                .as("key size is required")
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContainingAll("key size");
    }

    // ------------------------------------------------------------------ config mismatch

    static Stream<Arguments> mismatches() {
        return Stream.of(
                Arguments.of("key size 15", base().keySize(15).build(), "16", "15"),
                Arguments.of("key size 17", base().keySize(17).build(), "16", "17"),
                Arguments.of("value size 31", base().valueSize(31).build(), "32", "31"),
                Arguments.of("value size 0", base().valueSize(0).build(), "32", "0"),
                Arguments.of("shard count 3", base().shards(3).build(), "4", "3"),
                Arguments.of("shard count 5", base().shards(5).build(), "4", "5"),
                Arguments.of(
                        "routing KEY_PREFIX",
                        base().routing(ShardRouting.KEY_PREFIX).build(),
                        "HASH",
                        "KEY_PREFIX"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("mismatches")
    void reopenWithOtherFixedSettingsFailsAndChangesNothing(String what, FixedConfig other, String stored, String asked)
            throws IOException {
        createWith(base().build(), 100);
        Map<String, byte[]> before = files(dir);

        for (boolean tree : new boolean[] {false, true}) {
            String how = (tree ? "FixedTree" : "FixedMap") + " with " + what;
            assertThatThrownBy(() -> open(tree, dir, other))
                    .as(how)
                    .isInstanceOf(ArmDbConfigMismatchException.class)
                    .satisfies(e -> {
                        if (Character.isDigit(stored.charAt(0))) {
                            assertThat(numbersIn(e))
                                    .as("%s: message \"%s\" names both values", how, e.getMessage())
                                    .contains(stored, asked);
                        } else {
                            assertThat(e.getMessage())
                                    .as("%s: names both values", how)
                                    .contains(stored, asked);
                        }
                    });
            assertSameFiles(before, files(dir), how);
        }

        // the failed opens released the lock and left the collection intact
        try (FixedStore tree = FixedTree.open(dir, base().build())) {
            assertHolds(tree, 100);
        }
    }

    // ------------------------------------------------------------------ second open

    @Test
    void secondOpenOfAnOpenCollectionFailsAndTheFirstKeepsWorking() {
        try (FixedMap first = FixedMap.open(dir, base().build())) {
            first.put(key(0), value(0));
            List<ThrowingCallable> seconds = List.of(
                    () -> FixedMap.open(dir, base().build()),
                    () -> FixedMap.open(dir),
                    () -> FixedTree.open(dir, base().build()),
                    () -> FixedTree.open(dir));
            for (int i = 0; i < seconds.size(); i++) {
                assertThatThrownBy(seconds.get(i))
                        .as("second open #%d", i)
                        .isInstanceOf(ArmDbException.class)
                        .hasMessageContaining("already open");
            }
            assertThat(first.isClosed()).isFalse();
            assertThat(first.get(key(0))).isEqualTo(value(0));
            first.put(key(1), value(1));
            assertThat(first.delete(key(0))).isPositive();
            first.put(key(0), value(0));
            first.put(key(2), value(2));
            assertThat(first.compareAndSet(key(2), value(2), value(2))).isPositive();
            first.flush();
            assertHolds(first, 3);
            int[] seen = {0};
            first.forEach((k, v) -> seen[0]++);
            assertThat(seen[0]).isEqualTo(3);
        }
        try (FixedMap again = FixedMap.open(dir)) {
            assertHolds(again, 3);
        }
    }

    /**
     * The directory lock must survive a failed second open in the same JVM: another process must still find
     * {@code db.lock} locked, or it could open and write the collection at the same time as the first instance.
     */
    @Test
    void failedSecondOpenInTheSameJvmKeepsTheCollectionLockedForOtherProcesses() throws Exception {
        try (FixedMap first = FixedMap.open(dir, base().build())) {
            assertThat(otherProcessCanLock(dir.resolve(LOCK)))
                    .as("another process can lock db.lock of an open collection")
                    .isFalse();
            assertThatThrownBy(() -> FixedMap.open(dir, base().build()))
                    .isInstanceOf(ArmDbException.class)
                    .hasMessageContaining("already open");
            assertThat(otherProcessCanLock(dir.resolve(LOCK)))
                    .as("another process can lock db.lock after a failed second open in this JVM,"
                            + " while the first instance is still open")
                    .isFalse();
            first.put(key(0), value(0));
        }
    }

    /** Same as above for the {@link Verifier}, which refuses an open collection. */
    @Test
    void verifyingAnOpenCollectionKeepsItLockedForOtherProcesses() throws Exception {
        try (FixedMap first = FixedMap.open(dir, base().build())) {
            assertThatThrownBy(() -> Verifier.verify(dir))
                    .isInstanceOf(ArmDbException.class)
                    .hasMessageContaining("open");
            assertThat(otherProcessCanLock(dir.resolve(LOCK)))
                    .as("another process can lock db.lock after Verifier.verify refused the open collection,"
                            + " while the collection is still open")
                    .isFalse();
            first.put(key(0), value(0));
        }
    }

    /** Whether a new JVM can take the lock of {@code lockFile} right now. */
    private static boolean otherProcessCanLock(Path lockFile) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        String classes = Path.of(LockProbe.class
                        .getProtectionDomain()
                        .getCodeSource()
                        .getLocation()
                        .toURI())
                .toString();
        Process p = new ProcessBuilder(java.toString(), "-cp", classes, LockProbe.class.getName(), lockFile.toString())
                .redirectErrorStream(true)
                .start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("lock probe finished").isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertThat(out).as("lock probe output").isIn("acquired", "busy");
        return out.equals("acquired");
    }

    /** Run in a separate JVM: tries to lock a file and prints whether it could. */
    static final class LockProbe {
        private LockProbe() {}

        public static void main(String[] args) throws IOException {
            try (FileChannel ch = FileChannel.open(Path.of(args[0]), StandardOpenOption.WRITE)) {
                FileLock lock = ch.tryLock();
                System.out.print(lock != null ? "acquired" : "busy");
            }
        }
    }

    // ------------------------------------------------------------------ damaged db.meta

    static Stream<Arguments> metaDamages() {
        List<Arguments> out = new ArrayList<>();
        out.add(Arguments.of("truncated to 100 bytes", (MetaDamage) (b, r) -> Arrays.copyOf(b, 100)));
        out.add(Arguments.of("truncated to 0 bytes", (MetaDamage) (b, r) -> new byte[0]));
        out.add(Arguments.of("extended to 129 bytes", (MetaDamage) (b, r) -> Arrays.copyOf(b, 129)));
        out.add(Arguments.of("128 random bytes", (MetaDamage) (b, r) -> {
            byte[] g = new byte[128];
            r.nextBytes(g);
            return g;
        }));
        for (int at : new int[] {0, 7, 8, 12, 16, 31, 32, 36, 40, 44, 48, 52, 56, 64, 100, 123, 124, 127}) {
            out.add(Arguments.of("byte " + at + " flipped", (MetaDamage) (b, r) -> {
                byte[] d = b.clone();
                d[at] ^= (byte) (1 + r.nextInt(255));
                return d;
            }));
        }
        return out.stream();
    }

    /** Turns the bytes of a good {@code db.meta} into damaged ones. */
    @FunctionalInterface
    interface MetaDamage {
        byte[] apply(byte[] good, Random random);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("metaDamages")
    void damagedDbMetaIsRejectedAndNothingIsWritten(String what, MetaDamage damage) throws IOException {
        FixedConfig cfg = base().build();
        createWith(cfg, 50);
        Path meta = dir.resolve("db.meta");
        byte[] good = Files.readAllBytes(meta);
        Files.write(meta, damage.apply(good, new Random(what.hashCode())));
        Map<String, byte[]> before = files(dir);

        Map<String, ThrowingCallable> opens = new LinkedHashMap<>();
        opens.put("FixedMap.open(dir, config)", () -> FixedMap.open(dir, cfg));
        opens.put("FixedMap.open(dir)", () -> FixedMap.open(dir));
        opens.put("FixedTree.open(dir, config)", () -> FixedTree.open(dir, cfg));
        opens.put("FixedTree.open(dir)", () -> FixedTree.open(dir));
        opens.put("Verifier.verify(dir)", () -> Verifier.verify(dir));
        for (Map.Entry<String, ThrowingCallable> o : opens.entrySet()) {
            String how = o.getKey() + " with db.meta " + what;
            assertThatThrownBy(o.getValue())
                    .as(how)
                    .isInstanceOf(ArmDbCorruptException.class)
                    .hasMessageContaining("db.meta");
            assertSameFiles(before, files(dir), how);
        }

        Files.write(meta, good);
        try (FixedMap map = FixedMap.open(dir, cfg)) {
            assertHolds(map, 50);
        }
    }

    // ------------------------------------------------------------------ no collection

    @Test
    void openWithoutConfigNeedsAnExistingCollection() throws IOException {
        Path missing = dir.resolve("missing");
        Path empty = Files.createDirectories(dir.resolve("empty"));
        List<Path> places = List.of(missing, empty);
        for (Path at : places) {
            List<ThrowingCallable> opens = List.of(() -> FixedMap.open(at), () -> FixedTree.open(at));
            for (ThrowingCallable o : opens) {
                assertThatThrownBy(o)
                        .as("open without config at %s", at.getFileName())
                        .isInstanceOf(ArmDbException.class)
                        .hasMessageContaining("db.meta");
            }
        }
        assertThat(missing).as("no directory is created").doesNotExist();
        assertThat(empty).as("nothing is created in an empty directory").isEmptyDirectory();
    }

    // ------------------------------------------------------------------ closed

    private static Map<String, ThrowingCallable> operations(FixedStore store, byte[] k, byte[] v) {
        Map<String, ThrowingCallable> ops = new LinkedHashMap<>();
        ops.put("get", () -> store.get(k));
        ops.put("get into buffer", () -> store.get(k, new byte[VALUE]));
        ops.put("put", () -> store.put(k, v));
        ops.put("delete", () -> store.delete(k));
        ops.put("containsKey", () -> store.containsKey(k));
        ops.put("putIfAbsent", () -> store.putIfAbsent(k, v));
        ops.put("compareAndSet", () -> store.compareAndSet(k, v, v));
        return ops;
    }

    @ParameterizedTest(name = "tree={0}")
    @ValueSource(booleans = {false, true})
    void everyOperationAfterCloseThrowsClosed(boolean tree) {
        FixedStore store = open(tree, dir, base().build());
        for (int i = 0; i < 10; i++) {
            store.put(key(i), value(i));
        }
        store.close();
        store.close();
        assertThat(store.isClosed()).isTrue();

        Map<String, ThrowingCallable> ops = operations(store, key(3), value(3));
        ops.put("size", store::size);
        ops.put("forEach", () -> store.forEach((k, v) -> {}));
        ops.put("stats", store::stats);
        ops.put("flush", store::flush);
        if (store instanceof FixedTree t) {
            ops.put("range(null, null)", () -> t.range(null, null));
            ops.put("range(a, b)", () -> t.range(new byte[] {0}, new byte[] {(byte) 0xFF}));
            ops.put("first", t::first);
            ops.put("last", t::last);
            ops.put("floor", () -> t.floor(key(3)));
            ops.put("ceiling", () -> t.ceiling(key(3)));
            ops.put("lower", () -> t.lower(key(3)));
            ops.put("higher", () -> t.higher(key(3)));
            ops.put("prefix", () -> t.prefix(new byte[] {1}));
            ops.put("descending", t::descending);
        }
        for (Map.Entry<String, ThrowingCallable> op : ops.entrySet()) {
            assertThatThrownBy(op.getValue())
                    .as("%s after close", op.getKey())
                    .isInstanceOf(ArmDbClosedException.class);
        }
        store.close();

        try (FixedStore again = open(tree, dir, base().build())) {
            assertHolds(again, 10);
        }
    }

    /** Reads of a key that is not stored must fail after close too, not answer "absent". */
    @ParameterizedTest(name = "tree={0}")
    @ValueSource(booleans = {false, true})
    void readsOfAnAbsentKeyAfterCloseThrowClosed(boolean tree) {
        FixedStore store = open(tree, dir, base().build());
        store.put(key(1), value(1));
        store.close();
        byte[] absent = key(2);
        Map<String, ThrowingCallable> reads = new LinkedHashMap<>();
        reads.put("get", () -> store.get(absent));
        reads.put("get into buffer", () -> store.get(absent, new byte[VALUE]));
        reads.put("containsKey", () -> store.containsKey(absent));
        List<String> notClosed = new ArrayList<>();
        reads.forEach((name, call) -> {
            Throwable t = catchThrowable(call);
            if (!(t instanceof ArmDbClosedException)) {
                notClosed.add(name + (t == null ? " returned normally" : " threw " + t));
            }
        });
        assertThat(notClosed)
                .as("reads of an absent key after close that do not throw ArmDbClosedException")
                .isEmpty();
    }

    // ------------------------------------------------------------------ damaged shard header

    @ParameterizedTest(name = "byte {0}")
    @ValueSource(ints = {0, 7, 8, 11, 12, 16, 31, 32, 36, 40, 44, 59, 60, 63})
    void damagedShardHeaderIsRejected(int at) throws IOException {
        FixedConfig cfg = base().shards(2).build();
        createWith(cfg, 50);
        Path shard = dir.resolve("shard-000.slots");
        int mask = 1 + new Random(at).nextInt(255);
        flipByte(shard, at, mask);
        Map<String, byte[]> before = files(dir);

        Map<String, ThrowingCallable> opens = new LinkedHashMap<>();
        opens.put("FixedMap.open(dir, config)", () -> FixedMap.open(dir, cfg));
        opens.put("FixedTree.open(dir)", () -> FixedTree.open(dir));
        opens.put("Verifier.verify(dir)", () -> Verifier.verify(dir));
        for (Map.Entry<String, ThrowingCallable> o : opens.entrySet()) {
            String how = o.getKey() + " with header byte " + at + " of shard 0 flipped";
            assertThatThrownBy(o.getValue())
                    .as(how)
                    .isInstanceOf(ArmDbCorruptException.class)
                    .hasMessageContaining("shard-000.slots");
            Map<String, byte[]> after = files(dir);
            assertSameFiles(
                    Map.of("db.meta", before.get("db.meta"), "shard-000.slots", before.get("shard-000.slots")),
                    Map.of("db.meta", after.get("db.meta"), "shard-000.slots", after.get("shard-000.slots")),
                    how);
            // the sound shard may have been opened (and, with another growth step, extended with zeros) before
            // shard 0 failed; its slots must be untouched
            byte[] was = before.get("shard-001.slots");
            byte[] now = after.get("shard-001.slots");
            assertThat(now.length).as("%s: length of shard-001.slots", how).isGreaterThanOrEqualTo(was.length);
            assertThat(Arrays.mismatch(was, Arrays.copyOf(now, was.length)))
                    .as("%s: first changed byte of shard-001.slots", how)
                    .isEqualTo(-1);
            byte[] added = Arrays.copyOfRange(now, was.length, now.length);
            assertThat(Arrays.equals(added, new byte[added.length]))
                    .as("%s: the %d bytes added to shard-001.slots are zeros", how, added.length)
                    .isTrue();
        }

        flipByte(shard, at, mask);
        try (FixedMap map = FixedMap.open(dir, cfg)) {
            assertHolds(map, 50);
        }
    }

    // ------------------------------------------------------------------ full shard

    @ParameterizedTest(name = "{0}")
    @EnumSource(Durability.class)
    void fullShardRejectsNewKeysAndKeepsTheOthers(Durability durability) {
        FixedConfig cfg =
                base().shards(1).maxSlotsPerShard(64).durability(durability).build();
        byte[] extra = key(64);
        try (FixedMap map = FixedMap.open(dir, cfg)) {
            for (int i = 0; i < 64; i++) {
                map.put(key(i), value(i));
            }
            assertThatThrownBy(() -> map.put(extra, value(64)))
                    .isInstanceOf(ArmDbFullException.class)
                    .satisfies(e -> assertThat(numbersIn(e))
                            .as("message \"%s\" names the limit", e.getMessage())
                            .contains("64"));
            assertThatThrownBy(() -> map.putIfAbsent(extra, value(64))).isInstanceOf(ArmDbFullException.class);
            assertThat(map.containsKey(extra)).isFalse();
            assertThat(map.get(extra)).isNull();
            assertHolds(map, 64);
        }
        try (FixedMap map = FixedMap.open(dir, cfg)) {
            assertHolds(map, 64);
            assertThat(map.get(extra)).isNull();
            assertThatThrownBy(() -> map.put(extra, value(64))).isInstanceOf(ArmDbFullException.class);

            // a deleted key's slot is reused once the delete is durable
            assertThat(map.delete(key(0))).isPositive();
            map.flush();
            map.put(extra, value(64));
            assertThat(map.get(extra)).isEqualTo(value(64));
            assertThat(map.size()).isEqualTo(64);
        }
        try (FixedMap map = FixedMap.open(dir)) {
            assertThat(map.size()).isEqualTo(64);
            for (int i = 1; i <= 64; i++) {
                assertThat(map.get(key(i))).as("value of key %d", i).isEqualTo(value(i));
            }
            assertThat(map.get(key(0))).isNull();
        }
    }
}
