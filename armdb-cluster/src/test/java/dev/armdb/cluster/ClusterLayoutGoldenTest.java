package dev.armdb.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.armdb.ArmDbCorruptException;
import dev.armdb.Durability;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Pins the group state, member and switchover znode formats. A change here is a format change: bump the layout's version and
 * update docs/cluster.md. Regenerate with {@code -Darmdb.golden.write=true} from the module directory after a
 * deliberate change.
 */
class ClusterLayoutGoldenTest {
    private static final boolean WRITE = Boolean.getBoolean("armdb.golden.write");

    static GroupState sampleState() {
        return new GroupState(
                7,
                "node-b",
                List.of("node-c", "node-a"),
                2,
                1_764_000_000_123L,
                "ISR [] -> [node-a, node-c]",
                "failover: node-x gone");
    }

    /** The sample of format 1, which had no last failover's reason. */
    static GroupState sampleStateV1() {
        return new GroupState(7, "node-b", List.of("node-c", "node-a"), 2, 1_764_000_000_123L, "failover: node-x gone");
    }

    static MemberInfo sampleMember() {
        byte[] id = new byte[16];
        for (int i = 0; i < 16; i++) {
            id[i] = (byte) (0xC0 + i);
        }
        return new MemberInfo(
                "node-a",
                "127.0.0.1:6380",
                "127.0.0.1:7380",
                id,
                0x1122334455667788L,
                7,
                Durability.GROUP,
                1,
                true,
                false,
                true,
                "node-b",
                new long[] {5, 0, 0x0102030405L});
    }

    static SwitchoverRequest sampleSwitchover() {
        return SwitchoverRequest.requested("node-b", "node-a", 7, 1_764_000_030_000L)
                .stopped(new long[] {9, 0, 0x0102030405L});
    }

    @Test
    void switchoverMatchesItsGoldenBytesAndRoundTrips() throws IOException {
        byte[] bytes = SwitchoverLayout.encode(sampleSwitchover());
        golden("switchover-v1.hex", bytes);
        assertThat(SwitchoverLayout.decode(bytes)).isEqualTo(sampleSwitchover());
        for (SwitchoverRequest r : List.of(
                SwitchoverRequest.requested("a", "b", 1, 5),
                sampleSwitchover(),
                sampleSwitchover().done(8))) {
            assertThat(SwitchoverLayout.decode(SwitchoverLayout.encode(r))).isEqualTo(r);
        }
    }

    @Test
    void groupStateMatchesItsGoldenBytesAndRoundTrips() throws IOException {
        byte[] bytes = GroupStateLayout.encode(sampleState());
        golden("group-state-v2.hex", bytes);
        assertThat(GroupStateLayout.decode(bytes)).isEqualTo(sampleState());
        assertThat(sampleState().isr()).containsExactly("node-a", "node-c");
    }

    /** A state written in format 1 (before the last failover's reason existed) is still read, that reason empty. */
    @Test
    void groupStateOfFormat1IsStillRead() throws IOException {
        try (InputStream in = ClusterLayoutGoldenTest.class.getResourceAsStream("/golden/group-state-v1.hex")) {
            byte[] v1 = HexFormat.of().parseHex(new String(in.readAllBytes(), StandardCharsets.US_ASCII).strip());
            assertThat(GroupStateLayout.decode(v1)).isEqualTo(sampleStateV1());
            assertThat(GroupStateLayout.decode(v1).lastFailoverReason()).isEmpty();
        }
    }

    @Test
    void memberMatchesItsGoldenBytesAndRoundTrips() throws IOException {
        byte[] bytes = MemberLayout.encode(sampleMember());
        golden("member-v1.hex", bytes);
        assertThat(MemberLayout.decode(bytes)).isEqualTo(sampleMember());
    }

    /**
     * Every single-bit flip and every truncation of both znodes is refused as corrupt (CRC, magic, lengths), never
     * decoded into another state or thrown as anything else.
     */
    @Test
    void everyBitFlipAndTruncationIsRefused() {
        for (byte[] good : List.of(
                GroupStateLayout.encode(sampleState()),
                MemberLayout.encode(sampleMember()),
                SwitchoverLayout.encode(sampleSwitchover()))) {
            for (int bit = 0; bit < good.length * 8; bit++) {
                byte[] bad = good.clone();
                bad[bit / 8] ^= (byte) (1 << (bit % 8));
                assertThatThrownBy(() -> decode(bad)).as("bit %d", bit).isInstanceOf(ArmDbCorruptException.class);
            }
            for (int n = 0; n < good.length; n++) {
                byte[] cut = java.util.Arrays.copyOf(good, n);
                assertThatThrownBy(() -> decode(cut)).as("length %d", n).isInstanceOf(ArmDbCorruptException.class);
            }
        }
    }

    /** Random states and members round-trip (seed printed; re-run with -Darmdb.cluster.seed=N). */
    @Test
    void randomValuesRoundTrip() {
        long seed = Long.getLong("armdb.cluster.seed", System.nanoTime());
        Random r = new Random(seed);
        for (int i = 0; i < 2_000; i++) {
            List<String> isr = new java.util.ArrayList<>();
            int n = r.nextInt(5);
            for (int j = 0; j < n; j++) {
                isr.add("f" + j + "-" + r.nextInt(1000));
            }
            GroupState s = new GroupState(
                    r.nextLong() & Long.MAX_VALUE,
                    "leader-" + r.nextInt(9),
                    isr,
                    r.nextInt(4),
                    r.nextLong(),
                    "r" + r.nextInt(),
                    r.nextBoolean() ? "" : "f" + r.nextInt());
            assertThat(GroupStateLayout.decode(GroupStateLayout.encode(s)))
                    .as("seed %d", seed)
                    .isEqualTo(s);
            long[] lsns = new long[1 + r.nextInt(40)];
            for (int j = 0; j < lsns.length; j++) {
                lsns[j] = r.nextLong();
            }
            byte[] id = new byte[16];
            r.nextBytes(id);
            MemberInfo m = new MemberInfo(
                    "m" + r.nextInt(99),
                    "h" + r.nextInt() + ":" + r.nextInt(65536),
                    r.nextBoolean() ? "" : "::1:7380",
                    id,
                    r.nextLong(),
                    r.nextLong() & Long.MAX_VALUE,
                    Durability.values()[r.nextInt(3)],
                    r.nextInt(3),
                    r.nextBoolean(),
                    r.nextBoolean(),
                    r.nextBoolean(),
                    r.nextBoolean() ? "" : "l" + r.nextInt(9),
                    lsns);
            assertThat(MemberLayout.decode(MemberLayout.encode(m)))
                    .as("seed %d", seed)
                    .isEqualTo(m);
            long from = 1 + (r.nextLong() & (Long.MAX_VALUE >> 1));
            SwitchoverRequest sw =
                    SwitchoverRequest.requested("l" + r.nextInt(9), "t" + r.nextInt(9), from, r.nextLong());
            if (r.nextBoolean()) {
                sw = sw.stopped(lsns);
                if (r.nextBoolean()) {
                    sw = sw.done(from + 1 + r.nextInt(5));
                }
            }
            assertThat(SwitchoverLayout.decode(SwitchoverLayout.encode(sw)))
                    .as("seed %d", seed)
                    .isEqualTo(sw);
        }
    }

    @Test
    void namesThatCannotBeZnodesAreRefused() {
        for (String bad : List.of(".", "..", "a/b", "a b", "x".repeat(65), "é")) {
            assertThatThrownBy(() -> new GroupState(1, bad, List.of(), 0, 0, ""))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("leader");
        }
        assertThatThrownBy(() -> new GroupState(1, "a", List.of("a"), 0, 0, ""))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("never the leader a");
        assertThatThrownBy(() -> new GroupState(1, "a", List.of("b", "b"), 0, 0, ""))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("once each");
    }

    /** Decodes {@code bytes} as the layout byte 5 of its magic names (the others refuse it as well). */
    private static Object decode(byte[] bytes) {
        return switch (bytes.length > 5 ? bytes[5] : 0) {
            case 'G' -> GroupStateLayout.decode(bytes);
            case 'M' -> MemberLayout.decode(bytes);
            default -> SwitchoverLayout.decode(bytes);
        };
    }

    private static void golden(String name, byte[] bytes) throws IOException {
        String hex = HexFormat.of().formatHex(bytes) + "\n";
        if (WRITE) {
            Files.writeString(Path.of("src/test/resources/golden", name), hex, StandardCharsets.US_ASCII);
        }
        try (InputStream in = ClusterLayoutGoldenTest.class.getResourceAsStream("/golden/" + name)) {
            assertThat(in).as("golden file %s", name).isNotNull();
            assertThat(new String(in.readAllBytes(), StandardCharsets.US_ASCII)).isEqualTo(hex);
        }
    }
}
