package dev.armdb.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.armdb.ArmDbException;
import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.FixedMap;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Store#promote} refuses a replica that holds an incomplete copy by itself, whoever calls it: the replication
 * client checks the same before it promotes, which left the store's own check untested. Mutation check
 * (2026-12-04): dropping {@code checkNoIncompleteCopy()} from {@code Store.promote} fails {@link
 * #aReplicaWithAnIncompleteCopyIsNotPromoted}.
 */
class IncompleteCopyPromoteTest {
    @TempDir
    Path dir;

    private static FixedConfig config() {
        return FixedConfig.builder()
                .keySize(8)
                .valueSize(8)
                .shards(2)
                .durability(Durability.GROUP)
                .build();
    }

    @Test
    void aReplicaWithAnIncompleteCopyIsNotPromoted() {
        try (FixedMap map = FixedMap.open(dir, config())) {
            Store store = map.engine();
            store.replica(true);
            store.beginCopy(1);
            assertThatThrownBy(store::promote)
                    .isInstanceOf(ArmDbException.class)
                    .hasMessageContaining("shard 1")
                    .hasMessageContaining("incomplete copy");
            assertThat(store.isReplica())
                    .as("still a replica after the refused promotion")
                    .isTrue();
            store.finishCopy(1);
            store.promote();
            assertThat(store.isReplica()).as("promoted once the copy finished").isFalse();
        }
    }
}
