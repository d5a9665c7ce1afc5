package dev.armdb.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.FixedConfig;
import dev.armdb.FixedMap;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shard count {@code serve} opens with: a default that follows the machine for new collections, and never a
 * mismatch with what an existing collection holds. Mutation check: {@link ServeCommand#shardsFor} ignoring the stored
 * count fails {@link #aCollectionMadeWithAnotherDefaultReopensWithItsOwnShardCount}.
 */
class ServeShardsTest {
    @Test
    void theDefaultIsOnePerCoreAsAPowerOfTwoFrom2To16() {
        assertThat(ServeCommand.defaultShards(1)).isEqualTo(2);
        assertThat(ServeCommand.defaultShards(2)).isEqualTo(2);
        assertThat(ServeCommand.defaultShards(3)).isEqualTo(4);
        assertThat(ServeCommand.defaultShards(4)).isEqualTo(4);
        assertThat(ServeCommand.defaultShards(5)).isEqualTo(8);
        assertThat(ServeCommand.defaultShards(8)).isEqualTo(8);
        assertThat(ServeCommand.defaultShards(9)).isEqualTo(16);
        assertThat(ServeCommand.defaultShards(96)).isEqualTo(16);
        assertThat(ServeCommand.defaultShards(0)).isEqualTo(2);
    }

    @Test
    void aCollectionMadeWithAnotherDefaultReopensWithItsOwnShardCount(@TempDir Path dir) {
        // what an earlier release (16 shards for every machine) created, restarted with only the size options
        FixedMap.open(
                        dir,
                        FixedConfig.builder()
                                .keySize(16)
                                .valueSize(32)
                                .shards(16)
                                .build())
                .close();
        FixedConfig stored = FixedMap.storedConfig(dir);
        int shards = ServeCommand.shardsFor(null, stored, 2);
        assertThat(shards).isEqualTo(16);
        FixedMap.open(dir, stored.toBuilder().shards(shards).build()).close();
    }

    @Test
    void anExplicitCountWinsAndANewCollectionTakesTheDefault() {
        assertThat(ServeCommand.shardsFor(3, null, 2)).isEqualTo(3);
        assertThat(ServeCommand.shardsFor(null, null, 2)).isEqualTo(2);
        assertThat(ServeCommand.shardsFor(null, null, 16)).isEqualTo(16);
    }
}
