package dev.armdb.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.FixedMap;
import dev.armdb.replication.follower.ReplicationClient;
import dev.armdb.replication.follower.ReplicationClientConfig;
import dev.armdb.replication.leader.ReplicationServer;
import dev.armdb.replication.leader.ReplicationServerConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ArmDbMeterBinderTest {
    @TempDir
    Path tmp;

    @Test
    void exposesEngineGaugesAndReplicationCountersWithShardTags() {
        FixedConfig cfg = FixedConfig.builder()
                .keySize(8)
                .valueSize(8)
                .shards(2)
                .durability(Durability.NONE)
                .build();
        try (FixedMap leader = FixedMap.open(tmp.resolve("l"), cfg);
                FixedMap follower = FixedMap.open(tmp.resolve("f"), cfg);
                ReplicationServer server = ReplicationServer.start(leader, ReplicationServerConfig.defaults())) {
            for (long i = 0; i < 100; i++) {
                leader.put(java.nio.ByteBuffer.allocate(8).putLong(i).array(), new byte[8]);
            }
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            new ArmDbMeterBinder(leader, () -> server, () -> null).bindTo(registry);
            // meters hold their objects weakly: nothing the binding needs may go with a collection
            System.gc();
            double live = registry.find("armdb.slots.live").gauges().stream()
                    .mapToDouble(g -> g.value())
                    .sum();
            assertThat(live).isEqualTo(100);
            assertThat(registry.find("armdb.lsn").tag("shard", "1").gauge()).isNotNull();

            try (ReplicationClient client =
                    ReplicationClient.start(follower, server.address(), ReplicationClientConfig.defaults())) {
                for (int s = 0; s < 2; s++) {
                    assertThat(client.awaitApplied(
                                    s, leader.stats().shards().get(s).maxLsn(), Duration.ofSeconds(30)))
                            .isTrue();
                }
                assertThat(registry.find("armdb.replication.catchup_slots_scanned")
                                .tag("role", "leader")
                                .functionCounter()
                                .count())
                        .isGreaterThanOrEqualTo(100);
                assertThat(registry.find("armdb.replication.bytes_sent")
                                .tag("role", "leader")
                                .functionCounter()
                                .count())
                        .isPositive();
                assertThat(registry.find("armdb.replication.followers").gauge().value())
                        .isEqualTo(1);
            }
        }
    }
}
