package dev.armdb.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.FixedMap;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which earlier epochs an open trusts after an unclean stop: all of them after a process crash within the same
 * boot (the page cache kept every write), none after a reboot or when shard files were copied back (new inodes).
 * The boot id comes from a file the test controls ({@link Store#BOOT_ID_PROPERTY}).
 */
class BootTrustTest {
    @TempDir
    Path tmp;

    private Path bootFile;

    @BeforeEach
    void pointAtATestBootId() throws IOException {
        bootFile = tmp.resolve("boot_id");
        boot("boot-A");
        System.setProperty(Store.BOOT_ID_PROPERTY, bootFile.toString());
    }

    @AfterEach
    void restoreBootId() {
        System.clearProperty(Store.BOOT_ID_PROPERTY);
    }

    private void boot(String id) throws IOException {
        Files.writeString(bootFile, id + "\n");
    }

    private Path dir() {
        return tmp.resolve("db");
    }

    /** Opens, writes, and stops uncleanly without losing data (as a killed process does): returns the epoch. */
    private long openWriteAndCrash() throws IOException {
        long epoch;
        try (FixedMap m = FixedMap.open(
                dir(),
                FixedConfig.builder()
                        .keySize(8)
                        .valueSize(8)
                        .shards(2)
                        .durability(Durability.NONE)
                        .build())) {
            m.put(new byte[8], new byte[8]);
            epoch = m.engine().epoch();
        }
        Files.delete(dir().resolve(Store.CLEAN_MARK));
        return epoch;
    }

    private boolean reopenTrusts(long epoch) {
        try (FixedMap m = FixedMap.open(dir())) {
            return m.engine().trustsEpoch(epoch);
        }
    }

    @Test
    void aProcessCrashWithinTheSameBootKeepsEarlierEpochsTrusted() throws IOException {
        long e1 = openWriteAndCrash();
        long e2 = openWriteAndCrash();
        assertThat(reopenTrusts(e1)).as("an epoch two process crashes ago").isTrue();
        assertThat(reopenTrusts(e2)).isTrue();
        assertThat(Files.readString(dir().resolve(BootStateLayout.FILE_NAME))).contains("boot boot-A");
    }

    @Test
    void aRebootDropsTheEpochsBeforeTheUncleanStop() throws IOException {
        long e1 = openWriteAndCrash();
        boot("boot-B");
        assertThat(reopenTrusts(e1)).isFalse();
    }

    @Test
    void shardFilesCopiedBackAreNotTheFilesTheBootRecorded() throws IOException {
        long e1 = openWriteAndCrash();
        Path shard = dir().resolve(ShardFileLayout.fileName(1));
        Path copy = tmp.resolve("copy");
        Files.copy(shard, copy);
        Files.move(copy, shard, StandardCopyOption.REPLACE_EXISTING);
        assertThat(reopenTrusts(e1)).isFalse();
    }

    @Test
    void aCleanCloseIsTrustedWhateverTheBoot() throws IOException {
        long e1 = openWriteAndCrash();
        long e2;
        try (FixedMap m = FixedMap.open(dir())) {
            e2 = m.engine().epoch();
        }
        boot("boot-C");
        assertThat(reopenTrusts(e2)).isTrue();
        assertThat(reopenTrusts(e1))
                .as("trusted through the same-boot crash, then clean closes")
                .isTrue();
    }

    @Test
    void theFileFormatIsPinned() {
        BootStateLayout.BootState s = new BootStateLayout.BootState("e0db3a08-9a3b", new long[] {12, 345});
        byte[] bytes = BootStateLayout.encode(s);
        assertThat(new String(bytes, StandardCharsets.US_ASCII))
                .isEqualTo("armdb-boot 1\nboot e0db3a08-9a3b\ninodes 12 345\n");
        assertThat(BootStateLayout.decode(bytes).sameAs(s)).isTrue();
        assertThat(BootStateLayout.decode("garbage".getBytes(StandardCharsets.US_ASCII)))
                .isNull();
        assertThat(BootStateLayout.decode("armdb-boot 1\nboot x\ninodes 1 y\n".getBytes(StandardCharsets.US_ASCII)))
                .isNull();
    }
}
