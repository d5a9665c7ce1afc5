package dev.armdb.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.FixedMap;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every file a collection creates is owner-only (docs/format.md, the security rules): the copy mark is created with
 * {@code Files.createFile}, so it gets the process umask's mode (usually 0644) instead of 0600. Failed before the
 * mark was created owner-only, under a usual umask.
 */
class CopyMarkModeTest {
    @TempDir
    Path dir;

    @Test
    void theCopyMarkIsOwnerOnly() throws Exception {
        FixedConfig cfg = FixedConfig.builder()
                .keySize(8)
                .valueSize(8)
                .shards(1)
                .durability(Durability.NONE)
                .build();
        try (FixedMap map = FixedMap.open(dir, cfg)) {
            map.engine().beginCopy(0);
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(dir.resolve(Store.copyMarkName(0)));
            assertThat(mode)
                    .as("mode of %s", Store.copyMarkName(0))
                    .doesNotContain(
                            PosixFilePermission.GROUP_READ,
                            PosixFilePermission.GROUP_WRITE,
                            PosixFilePermission.OTHERS_READ,
                            PosixFilePermission.OTHERS_WRITE);
            assertThat(Files.getPosixFilePermissions(dir.resolve(ShardFileLayout.fileName(0))))
                    .as("control: the shard file is owner-only")
                    .doesNotContain(PosixFilePermission.GROUP_READ, PosixFilePermission.OTHERS_READ);
        }
    }
}
