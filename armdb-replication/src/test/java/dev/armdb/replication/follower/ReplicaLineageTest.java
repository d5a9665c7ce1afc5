package dev.armdb.replication.follower;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.armdb.ArmDbCorruptException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pins {@code replica.lineage} (a format change must be deliberate: bump the version and update docs/format.md;
 * regenerate with {@code -Darmdb.golden.write=true} from the module directory) and the rule of {@link
 * ReplicaLineage#inherits}.
 */
class ReplicaLineageTest {
    private static final boolean WRITE = Boolean.getBoolean("armdb.golden.write");

    @TempDir
    Path tmp;

    private static byte[] id(int first) {
        byte[] b = new byte[16];
        for (int i = 0; i < 16; i++) {
            b[i] = (byte) (first + i);
        }
        return b;
    }

    private static ReplicaLineage sample() {
        return new ReplicaLineage(
                0x0102030405060708L, new byte[][] {id(0xA0), id(0xB0)}, new long[] {1_000, 0}, new long[] {
                    0x1111, 0x2222
                });
    }

    @Test
    void theFileMatchesTheGoldenBytesAndRoundTrips() throws IOException {
        String hex = HexFormat.of().formatHex(sample().encode()) + "\n";
        if (WRITE) {
            Files.writeString(Path.of("src/test/resources/golden/replica-lineage-v1.hex"), hex);
        }
        try (InputStream in = ReplicaLineageTest.class.getResourceAsStream("/golden/replica-lineage-v1.hex")) {
            assertThat(in).as("golden file").isNotNull();
            assertThat(hex).isEqualTo(new String(in.readAllBytes(), StandardCharsets.US_ASCII));
        }
        sample().write(tmp);
        ReplicaLineage back = ReplicaLineage.load(tmp);
        assertThat(back.promotionEpoch()).isEqualTo(0x0102030405060708L);
        assertThat(back.encode()).isEqualTo(sample().encode());
        ReplicaLineage.clear(tmp);
        assertThat(ReplicaLineage.load(tmp)).isNull();
    }

    @Test
    void aDamagedFileIsReportedNotTrusted() throws IOException {
        sample().write(tmp);
        Path file = tmp.resolve(ReplicaLineageLayout.FILE_NAME);
        byte[] b = Files.readAllBytes(file);
        b[ReplicaLineageLayout.entryOffset(0) + ReplicaLineageLayout.APPLIED_LSN_OFFSET] ^= 1;
        Files.write(file, b);
        assertThatThrownBy(() -> ReplicaLineage.load(tmp))
                .isInstanceOf(ArmDbCorruptException.class)
                .hasMessageContaining("fails its CRC32C");
        Files.write(file, new byte[10]);
        assertThatThrownBy(() -> ReplicaLineage.load(tmp))
                .isInstanceOf(ArmDbCorruptException.class)
                .hasMessageContaining("not an armdb replica lineage");
    }

    @Test
    void onlyAFollowerOfTheSameHistoryHoldingNothingNewerIsInherited() {
        ReplicaLineage l = sample();
        assertThat(l.inherits(0, id(0xA0), 0x1111, 900, 1_000)).isTrue();
        assertThat(l.inherits(0, id(0xA0), 0x1111, 900, 1_001))
                .as("holds an image newer than inherited")
                .isFalse();
        assertThat(l.inherits(0, id(0xA0), 0x9999, 900, 950))
                .as("another leader epoch")
                .isFalse();
        assertThat(l.inherits(0, id(0xC0), 0x1111, 900, 950))
                .as("another leader")
                .isFalse();
        assertThat(l.inherits(0, id(0xA0), 0x1111, 0, 950))
                .as("nothing recorded")
                .isFalse();
        assertThat(l.inherits(1, id(0xB0), 0x2222, 1, 1))
                .as("the promoted shard had applied nothing")
                .isFalse();
        assertThat(l.inherits(2, id(0xA0), 0x1111, 900, 950))
                .as("no such shard")
                .isFalse();
    }
}
