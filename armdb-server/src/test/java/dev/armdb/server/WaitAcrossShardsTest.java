package dev.armdb.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.Durability;
import dev.armdb.FixedConfig;
import dev.armdb.replication.leader.ReplicationServer;
import dev.armdb.replication.protocol.MessageType;
import dev.armdb.replication.protocol.ProtocolVersion;
import dev.armdb.replication.protocol.SyncRequest;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * WAIT numreplicas counts the replicas that acknowledged every write of the client (Redis's meaning). The node
 * takes, per shard the client wrote to, the number of distinct nodes that acknowledged that shard, and answers the
 * minimum over shards: node A acknowledging shard 0 only and node B the other shards make it answer 1, while no
 * replica holds all the client's writes. Failed while WAIT combined per-shard counts (answered 1, expected 0).
 */
class WaitAcrossShardsTest {
    private static final String V = "0123456789abcdef";

    @TempDir
    Path tmp;

    @Test
    void waitCountsOnlyNodesThatAcknowledgedEveryShardTheClientWrote() throws Exception {
        FixedConfig cfg = FixedConfig.builder()
                .keySize(8)
                .valueSize(16)
                .shards(3)
                .durability(Durability.NONE)
                .build();
        InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        List<Socket> sockets = new ArrayList<>();
        try (Node leader = Node.start(new NodeConfig(tmp.resolve("leader"), cfg, any, any, null, null));
                RespTestClient c = new RespTestClient(leader)) {
            for (int i = 0; i < 60; i++) {
                assertThat(c.call("SET", String.format("k%07d", i), V)).isEqualTo("+OK");
            }
            ReplicationServer srv = leader.replicationServer();
            for (int shard = 0; shard < 3; shard++) {
                // node A follows shard 0 only, node B shards 1 and 2 only
                byte node = (byte) (shard == 0 ? 0xA : 0xB);
                Socket s = new Socket();
                sockets.add(s);
                s.connect(srv.address(), 2_000);
                s.setSoTimeout(5_000);
                catchUpAndAck(s, shard, node, srv.address().getPort());
            }
            long deadline = System.nanoTime() + 5_000_000_000L;
            for (int i = 0; i < 5_000 && System.nanoTime() < deadline; i++) {
                if (srv.status().stream().allMatch(f -> f.ackedLsn() > 0)
                        && srv.status().size() == 3) {
                    break;
                }
                Thread.sleep(1);
            }
            assertThat(srv.status()).hasSize(3).allMatch(f -> f.ackedLsn() > 0);
            assertThat(c.call("WAIT", "1", "300"))
                    .as("no single replica acknowledged every shard this client wrote")
                    .isEqualTo(":0");
        } finally {
            for (Socket s : sockets) {
                s.close();
            }
        }
    }

    /** Sends a SYNC_REQUEST for {@code shard} as node {@code node}, reads up to CAUGHT_UP and acknowledges it. */
    private static void catchUpAndAck(Socket s, int shard, byte node, int port) throws IOException {
        byte[] nodeId = new byte[SyncRequest.NODE_ID_BYTES];
        nodeId[0] = node;
        SyncRequest req = new SyncRequest(
                ProtocolVersion.CURRENT,
                shard,
                new byte[16],
                0,
                nodeId,
                0,
                0,
                new byte[16],
                "127.0.0.1",
                port,
                "",
                0,
                new byte[32]);
        byte[] payload = req.toBytes();
        s.getOutputStream().write(frame(MessageType.SYNC_REQUEST.code(), payload));
        InputStream in = s.getInputStream();
        long batches = 0;
        for (int i = 0; i < 100_000; i++) {
            byte[] header = in.readNBytes(5);
            if (header.length < 5) {
                throw new IOException("leader closed before CAUGHT_UP");
            }
            int len =
                    ByteBuffer.wrap(header, 1, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
            byte[] body = in.readNBytes(len);
            if (header[0] == MessageType.SLOT_BATCH.code()) {
                batches++;
            }
            if (header[0] == MessageType.CAUGHT_UP.code()) {
                long lsn = ByteBuffer.wrap(body).order(ByteOrder.LITTLE_ENDIAN).getLong(16);
                byte[] ack = ByteBuffer.allocate(16)
                        .order(ByteOrder.LITTLE_ENDIAN)
                        .putLong(lsn)
                        .putLong(batches)
                        .array();
                s.getOutputStream().write(frame(MessageType.ACK.code(), ack));
                s.getOutputStream().flush();
                return;
            }
        }
        throw new IOException("no CAUGHT_UP");
    }

    private static byte[] frame(int type, byte[] payload) {
        return ByteBuffer.allocate(5 + payload.length)
                .order(ByteOrder.LITTLE_ENDIAN)
                .put((byte) type)
                .putInt(payload.length)
                .put(payload)
                .array();
    }
}
