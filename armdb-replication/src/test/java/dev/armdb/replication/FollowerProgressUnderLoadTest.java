package dev.armdb.replication;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.FixedMap;
import dev.armdb.replication.follower.ReplicationClient;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * A follower's recorded position keeps moving while its leader writes without pause over a few hot keys, whose
 * slots are released and reused all the time: streaming must reach consistent points under load, not only once the
 * writes stop (else WAIT would hang and a promotion be refused for as long as the writes run).
 */
class FollowerProgressUnderLoadTest extends ClosingTest {
    @Test
    void recordedPositionAdvancesWhileHotKeysAreRewritten() throws Exception {
        long seed = Long.getLong("armdb.seed", System.nanoTime());
        System.out.println("FollowerProgressUnderLoadTest: seed=" + seed + " (-Darmdb.seed=" + seed + ")");
        FixedConfig cfg = FixedConfig.builder()
                .keySize(16)
                .valueSize(32)
                .shards(1)
                .durability(Durability.GROUP)
                .build();
        FixedMap leader = track(FixedMap.open(tmp.resolve("leader"), cfg));
        FixedMap follower = track(FixedMap.open(tmp.resolve("follower"), cfg));
        var server = track(dev.armdb.replication.leader.ReplicationServer.start(
                leader, dev.armdb.replication.leader.ReplicationServerConfig.defaults()));
        ReplicationClient client = track(ReplicationClient.start(
                follower, server.address(), dev.armdb.replication.follower.ReplicationClientConfig.defaults()));
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong writes = new AtomicLong();
        Random rnd = new Random(seed);
        Thread writer = Thread.ofPlatform().start(() -> {
            long deadline = System.nanoTime() + 4_000_000_000L;
            for (int n = 0; n < 20_000_000 && !stop.get() && System.nanoTime() < deadline; n++) {
                int k = rnd.nextInt(64);
                leader.put(ReplicationTest.key(k), ReplicationTest.value(k, n));
                writes.incrementAndGet();
            }
        });
        int advances = 0;
        long last = client.appliedLsn(0);
        long firstSample = -1;
        while (writer.isAlive()) {
            Thread.sleep(100);
            long now = client.appliedLsn(0);
            if (now > last) {
                advances++;
                last = now;
            }
            if (firstSample < 0) {
                firstSample = writes.get();
            }
        }
        stop.set(true);
        writer.join(10_000);
        System.out.println("FollowerProgressUnderLoadTest: " + writes.get() + " writes, recorded position advanced "
                + advances + " times while they ran, last " + last);
        assertThat(advances)
                .as("times the follower's recorded LSN moved while %d writes ran (last %d)", writes.get(), last)
                .isGreaterThanOrEqualTo(3);
    }
}
