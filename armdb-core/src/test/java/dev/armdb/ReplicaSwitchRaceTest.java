package dev.armdb;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.store.Store;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A collection turned into a replica (as REPLICAOF does before replication wipes or loads a shard) must have no user
 * write land after the switch returns. Writers hammer one shard while the main thread flips the collection to a
 * replica and back; after each flip, once every writer has been refused at least once, the shard's LSN must be the
 * one read right after the flip. Fails when the writable check runs outside the shard's write lock (a put that
 * passed the check just before the flip lands after it).
 */
class ReplicaSwitchRaceTest {
    private static final int FLIPS = 400;
    private static final int WRITERS = 2;

    @TempDir
    Path dir;

    @Test
    void noUserWriteLandsAfterTheCollectionBecameAReplica() throws Exception {
        FixedConfig cfg = FixedConfig.builder()
                .keySize(8)
                .valueSize(8)
                .shards(1)
                .durability(Durability.NONE)
                .build();
        try (FixedMap map = FixedMap.open(dir, cfg)) {
            Store store = map.engine();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong[] refusals = new AtomicLong[WRITERS];
            AtomicReference<Throwable> unexpected = new AtomicReference<>();
            Thread[] writers = new Thread[WRITERS];
            for (int w = 0; w < WRITERS; w++) {
                AtomicLong refused = refusals[w] = new AtomicLong();
                long base = (long) w << 32;
                writers[w] = Thread.ofPlatform().start(() -> {
                    byte[] key = new byte[8];
                    byte[] value = new byte[8];
                    long deadline = System.nanoTime() + 60_000_000_000L;
                    for (long i = 0; !stop.get() && System.nanoTime() < deadline; i++) {
                        ByteBuffer.wrap(key).putLong(base + (i & 1023));
                        try {
                            map.put(key, value);
                        } catch (ArmDbReadOnlyException e) {
                            refused.incrementAndGet();
                        } catch (Throwable t) {
                            unexpected.set(t);
                            return;
                        }
                    }
                });
            }
            int late = 0;
            try {
                for (int flip = 0; flip < FLIPS && unexpected.get() == null; flip++) {
                    store.replica(true);
                    long lsnAtSwitch = store.shard(0).lastLsn();
                    awaitEveryWriterRefusedAgain(refusals);
                    if (store.shard(0).lastLsn() != lsnAtSwitch) {
                        late++;
                    }
                    store.replica(false);
                }
            } finally {
                stop.set(true);
                for (Thread t : writers) {
                    t.join(10_000);
                }
            }
            assertThat(unexpected.get()).isNull();
            assertThat(late)
                    .as("flips (of %d) after which a user write still landed", FLIPS)
                    .isZero();
        }
    }

    /** Every writer's refusal count grows by two: its put in flight at the switch, if any, has finished. */
    private static void awaitEveryWriterRefusedAgain(AtomicLong[] refusals) {
        long[] before = new long[refusals.length];
        for (int i = 0; i < refusals.length; i++) {
            before[i] = refusals[i].get();
        }
        long deadline = System.nanoTime() + 10_000_000_000L;
        for (int i = 0; i < refusals.length; i++) {
            while (refusals[i].get() < before[i] + 2) {
                assertThat(System.nanoTime())
                        .as("writer %d refused within 10 s", i)
                        .isLessThan(deadline);
                Thread.onSpinWait();
            }
        }
    }
}
