package dev.armdb.replication;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.ArmDbException;
import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.FixedMap;
import dev.armdb.replication.follower.ReplicationClient;
import dev.armdb.replication.follower.ReplicationClientConfig;
import dev.armdb.store.ShardFileLayout;
import dev.armdb.store.SlotLayout;
import dev.armdb.store.Store;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A replica overwrites slots in place (it mirrors the leader's slot ids), so an image applied out of LSN order can
 * overwrite a slot that is LIVE at the follower's recorded consistent point. A process crash in the middle of that
 * copy leaves the slot with an odd (in-progress) version; replica recovery then drops the slot and does not count its
 * LSN, so the shard's last LSN is back at or below the recorded point and promotion is allowed, although the shard
 * has lost a key its leader held at that point. A replica shard that recovers a torn slot is therefore copied again
 * (and not promoted meanwhile); fails without that rule: the promoted node has lost K.
 */
class TornReplicaApplyTest extends ClosingTest {
    private static final int KEY_SIZE = 16;
    private static final int VALUE_SIZE = 32;

    private static FixedConfig config() {
        return FixedConfig.builder()
                .keySize(KEY_SIZE)
                .valueSize(VALUE_SIZE)
                .shards(1)
                .durability(Durability.NONE)
                .changeFeedCapacity(1 << 10)
                .build();
    }

    @Test
    void aCrashInsideAnOutOfOrderApplyIsNotPromotedAsAConsistentPoint() throws Exception {
        Path fdir = tmp.resolve("follower");
        FixedMap follower = FixedMap.open(fdir, config());
        int slotSize = SlotLayout.slotSize(KEY_SIZE, VALUE_SIZE);
        int routing = follower.engine().meta().routing().code();
        byte[] dbId = new byte[16];
        new Random(11).nextBytes(dbId);
        byte[] k = ReplicationTest.key(1);
        byte[] vA = ReplicationTest.value(1, 1);
        byte[] kAtLsn1 = ReplicationFaultTest.slotImage(SlotLayout.LIVE, 2, 1, k, vA);
        try (ReplicationFaultTest.FakeLeader fake = new ReplicationFaultTest.FakeLeader()) {
            ReplicationClient client =
                    ReplicationClient.start(follower, fake.address(), ReplicationClientConfig.defaults());
            Socket s = fake.next(Duration.ofSeconds(5));
            ReplicationFaultTest.readSyncRequest(s);
            s.getOutputStream()
                    .write(ReplicationFaultTest.concat(
                            ReplicationFaultTest.frame(
                                    2,
                                    ReplicationFaultTest.shardInfo(
                                            1, KEY_SIZE, VALUE_SIZE, slotSize, routing, 1, dbId, 1, 1)),
                            ReplicationFaultTest.frame(
                                    3, ReplicationFaultTest.slotBatch(1, 1, 1, new int[] {0}, new byte[][] {kAtLsn1})),
                            ReplicationFaultTest.frame(4, ReplicationFaultTest.caughtUp(1, 1, 1))));
            s.getOutputStream().flush();
            ReplicationFaultTest.awaitUntil(
                    () -> "records the consistent point 1", Duration.ofSeconds(5), () -> client.appliedLsn(0) == 1);
            client.close();
            follower.close();
        }
        // what a process crash leaves when it hits the copy of K3's image (LSN 5, applied out of order over slot 0,
        // which holds K at the consistent point 1): the odd version is stored first, then part of the new bytes
        Files.deleteIfExists(fdir.resolve(Store.CLEAN_MARK));
        try (FileChannel ch = FileChannel.open(fdir.resolve(ShardFileLayout.fileName(0)), StandardOpenOption.WRITE)) {
            ByteBuffer torn =
                    ByteBuffer.allocate(SlotLayout.HEADER_SIZE + KEY_SIZE).order(ByteOrder.LITTLE_ENDIAN);
            torn.putInt(SlotLayout.STATE_OFFSET, SlotLayout.stateWord(SlotLayout.LIVE, 3));
            torn.putLong(SlotLayout.LSN_OFFSET, 5);
            torn.put(SlotLayout.KEY_OFFSET, ReplicationTest.key(3));
            ch.write(torn, ShardFileLayout.HEADER_SIZE);
        }
        FixedMap reopened = track(FixedMap.open(fdir, config()));
        assertThat(Files.exists(fdir.resolve(Store.copyMarkName(0))))
                .as("the damaged replica shard is copied again")
                .isTrue();
        assertThat(reopened.get(k)).as("nothing of the damaged shard is served").isNull();
        boolean promoted;
        try {
            ReplicationClient.promoteReplica(reopened);
            promoted = true;
        } catch (ArmDbException e) {
            promoted = false;
        }
        if (promoted) {
            assertThat(reopened.get(k))
                    .as("promoted at recorded LSN 1, where the leader held K = vA")
                    .isEqualTo(vA);
        }
    }
}
