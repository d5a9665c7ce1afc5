package dev.armdb.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.armdb.ArmDbException;
import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.FixedMap;
import dev.armdb.replication.follower.ReplicationClient;
import dev.armdb.replication.follower.ReplicationClientConfig;
import dev.armdb.replication.leader.ReplicationServer;
import dev.armdb.replication.leader.ReplicationServerConfig;
import dev.armdb.replication.protocol.FrameLayout;
import dev.armdb.store.SlotLayout;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The follower's recorded and acknowledged positions are consistent points (its contents equal the leader's at one
 * LSN at least that new), reproduced from the two ways protocol v3 broke it: a partial scan that skipped superseded
 * slots (a deleted key came back), and a feed entry whose slot changed again before it was read (the follower
 * recorded an LSN while holding a value its leader never had at any later LSN).
 */
class ConsistentPointTest extends ClosingTest {
    private static final int KEY_SIZE = 16;
    private static final int VALUE_SIZE = 32;

    private static FixedConfig config(Durability durability, int feedCapacity) {
        return FixedConfig.builder()
                .keySize(KEY_SIZE)
                .valueSize(VALUE_SIZE)
                .shards(1)
                .durability(durability)
                .changeFeedCapacity(feedCapacity)
                .build();
    }

    /**
     * K1 is in slot 0 when the follower stops. The leader deletes K1, forces (the tombstone's slot is released),
     * writes K2 twice (the first copy reuses slot 0 and is superseded by the second), then laps the 16-entry feed,
     * so the follower resumes by a partial scan. Fails when the scan skips superseded slots: the follower keeps K1's
     * old value in slot 0, records the leader's LSN, and keeps K1 after promotion.
     */
    @Test
    void aPartialScanSendsSupersededSlotsSoADeletedKeyNeverComesBack() throws Exception {
        FixedMap leader = track(FixedMap.open(tmp.resolve("leader"), config(Durability.GROUP, 16)));
        FixedMap follower = track(FixedMap.open(tmp.resolve("follower"), config(Durability.GROUP, 16)));
        ReplicationServer server = track(ReplicationServer.start(leader, ReplicationServerConfig.defaults()));
        byte[] k1 = ReplicationTest.key(1);
        leader.put(k1, ReplicationTest.value(1, 1));
        leader.flush();
        ReplicationClient first =
                ReplicationClient.start(follower, server.address(), ReplicationClientConfig.defaults());
        assertThat(first.awaitApplied(0, leader.engine().view(0).lastLsn(), Duration.ofSeconds(30)))
                .isTrue();
        first.close();
        assertThat(follower.get(k1)).isNotNull();

        leader.delete(k1);
        leader.flush();
        byte[] k2 = ReplicationTest.key(2);
        leader.put(k2, ReplicationTest.value(2, 1));
        leader.put(k2, ReplicationTest.value(2, 2));
        for (int i = 0; i < 30; i++) {
            leader.put(ReplicationTest.key(100 + i), ReplicationTest.value(100 + i, 1));
        }
        long target = leader.engine().view(0).lastLsn();

        ReplicationClient second =
                ReplicationClient.start(follower, server.address(), ReplicationClientConfig.defaults());
        assertThat(second.awaitApplied(0, target, Duration.ofSeconds(30)))
                .as("follower records the leader's LSN %d; status %s", target, second.status())
                .isTrue();
        assertThat(server.metrics().resyncsPartial.sum())
                .as("the lapped feed made it a partial scan")
                .isPositive();
        assertThat(follower.get(k1)).as("K1 was deleted on the leader").isNull();
        assertThat(ReplicationTest.contents(follower)).isEqualTo(ReplicationTest.contents(leader));
        second.promote();
        assertThat(follower.get(k1)).as("K1 after promotion").isNull();
        assertThat(follower.get(k2)).isEqualTo(ReplicationTest.value(2, 2));
    }

    /**
     * A fake leader replays the reviewers' trace: K=vA at LSN 1 in slot 0 (the follower has it and records 1); then a
     * batch ending at LSN 2 carries slot 1's current image, K3 at LSN 5 (K's second copy there was deleted and the
     * slot reused). Applied, the follower holds K=vA and K3: no leader state. It must not record or acknowledge 2,
     * nor be promoted, until a batch reaches LSN 5; then it records 5. Fails when the follower records every batch's
     * up-to LSN.
     */
    @Test
    void aBatchCarryingImagesNewerThanItsUpToIsNotAConsistentPoint() throws Exception {
        FixedMap follower = track(FixedMap.open(tmp.resolve("follower"), config(Durability.NONE, 1 << 10)));
        int slotSize = SlotLayout.slotSize(KEY_SIZE, VALUE_SIZE);
        int routing = follower.engine().meta().routing().code();
        byte[] dbId = new byte[16];
        new Random(7).nextBytes(dbId);
        byte[] k = ReplicationTest.key(1);
        byte[] k3 = ReplicationTest.key(3);
        byte[] kAtLsn1 = ReplicationFaultTest.slotImage(SlotLayout.LIVE, 2, 1, k, ReplicationTest.value(1, 1));
        byte[] k3AtLsn5 = ReplicationFaultTest.slotImage(SlotLayout.LIVE, 2, 5, k3, ReplicationTest.value(3, 1));
        byte[] slot0FreedAtLsn3 =
                ReplicationFaultTest.slotImage(SlotLayout.FREE, 2, 3, new byte[KEY_SIZE], new byte[VALUE_SIZE]);
        ReplicationClientConfig ccfg =
                ReplicationClientConfig.defaults().withTimeouts(Duration.ofMillis(50), Duration.ofSeconds(5));
        try (ReplicationFaultTest.FakeLeader fake = new ReplicationFaultTest.FakeLeader()) {
            ReplicationClient client = track(ReplicationClient.start(follower, fake.address(), ccfg));
            Socket s = fake.next(Duration.ofSeconds(5));
            ReplicationFaultTest.readSyncRequest(s);
            var out = s.getOutputStream();
            out.write(ReplicationFaultTest.concat(
                    ReplicationFaultTest.frame(
                            2,
                            ReplicationFaultTest.shardInfo(1, KEY_SIZE, VALUE_SIZE, slotSize, routing, 1, dbId, 1, 1)),
                    ReplicationFaultTest.frame(
                            3, ReplicationFaultTest.slotBatch(1, 1, 1, new int[] {0}, new byte[][] {kAtLsn1})),
                    ReplicationFaultTest.frame(4, ReplicationFaultTest.caughtUp(1, 1, 1))));
            out.flush();
            ReplicationFaultTest.awaitUntil(() -> "records 1", Duration.ofSeconds(5), () -> client.appliedLsn(0) == 1);

            out.write(ReplicationFaultTest.frame(
                    3, ReplicationFaultTest.slotBatch(2, 2, 1, new int[] {1}, new byte[][] {k3AtLsn5})));
            out.flush();
            ReplicationFaultTest.awaitUntil(
                    () -> "batch applied",
                    Duration.ofSeconds(5),
                    () -> client.metrics().slotsApplied.sum() == 2);
            // heartbeats and acks flow meanwhile; none may carry 2
            Thread.sleep(200);
            assertThat(client.appliedLsn(0))
                    .as("LSN 2 is not a consistent point")
                    .isEqualTo(1);
            assertThat(lastAckedLsn(s)).as("acknowledged").isLessThanOrEqualTo(1);

            out.write(ReplicationFaultTest.frame(
                    3, ReplicationFaultTest.slotBatch(3, 5, 1, new int[] {0}, new byte[][] {slot0FreedAtLsn3})));
            out.flush();
            ReplicationFaultTest.awaitUntil(
                    () -> "records 5: " + client.status(), Duration.ofSeconds(5), () -> client.appliedLsn(0) == 5);
            assertThat(follower.get(k)).isNull();
            assertThat(follower.get(k3)).isEqualTo(ReplicationTest.value(3, 1));
        }
    }

    /** A follower between consistent points refuses promotion, live and after a restart. */
    @Test
    void aFollowerBetweenConsistentPointsIsNotPromoted() throws Exception {
        Path fdir = tmp.resolve("follower");
        FixedMap follower = FixedMap.open(fdir, config(Durability.NONE, 1 << 10));
        int slotSize = SlotLayout.slotSize(KEY_SIZE, VALUE_SIZE);
        int routing = follower.engine().meta().routing().code();
        byte[] dbId = new byte[16];
        new Random(8).nextBytes(dbId);
        byte[] kAtLsn1 = ReplicationFaultTest.slotImage(
                SlotLayout.LIVE, 2, 1, ReplicationTest.key(1), ReplicationTest.value(1, 1));
        byte[] k3AtLsn5 = ReplicationFaultTest.slotImage(
                SlotLayout.LIVE, 2, 5, ReplicationTest.key(3), ReplicationTest.value(3, 1));
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
                            ReplicationFaultTest.frame(4, ReplicationFaultTest.caughtUp(1, 1, 1)),
                            ReplicationFaultTest.frame(
                                    3,
                                    ReplicationFaultTest.slotBatch(2, 2, 1, new int[] {1}, new byte[][] {k3AtLsn5}))));
            s.getOutputStream().flush();
            ReplicationFaultTest.awaitUntil(
                    () -> "both batches applied",
                    Duration.ofSeconds(5),
                    () -> client.metrics().slotsApplied.sum() == 2);
            assertThatThrownBy(client::promote)
                    .isInstanceOf(ArmDbException.class)
                    .hasMessageContaining("consistent point");
            follower.close();
        }
        FixedMap reopened = track(FixedMap.open(fdir, config(Durability.NONE, 1 << 10)));
        assertThatThrownBy(() -> ReplicationClient.promoteReplica(reopened))
                .isInstanceOf(ArmDbException.class)
                .hasMessageContaining("consistent point");
        assertThat(reopened.engine().isReplica()).isTrue();
    }

    /** The highest LSN in the ACK frames the follower sends within the next 150 ms. */
    private static long lastAckedLsn(Socket s) throws Exception {
        s.setSoTimeout(100);
        var in = s.getInputStream();
        long max = 0;
        long deadline = System.nanoTime() + 150_000_000L;
        try {
            for (int i = 0; i < 10_000 && System.nanoTime() < deadline; i++) {
                byte[] header = in.readNBytes(FrameLayout.HEADER_SIZE);
                if (header.length < FrameLayout.HEADER_SIZE) {
                    break;
                }
                int length = ByteBuffer.wrap(header, 1, 4)
                        .order(ByteOrder.LITTLE_ENDIAN)
                        .getInt();
                byte[] payload = in.readNBytes(length);
                if (header[0] == dev.armdb.replication.protocol.MessageType.ACK.code()) {
                    max = Math.max(
                            max,
                            ByteBuffer.wrap(payload)
                                    .order(ByteOrder.LITTLE_ENDIAN)
                                    .getLong(0));
                }
            }
        } catch (java.net.SocketTimeoutException e) {
            return max;
        }
        return max;
    }
}
