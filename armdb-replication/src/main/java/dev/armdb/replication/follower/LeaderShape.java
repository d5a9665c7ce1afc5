package dev.armdb.replication.follower;

import dev.armdb.ShardRouting;
import dev.armdb.replication.ReplicationMetrics;
import dev.armdb.replication.net.FrameChannel;
import dev.armdb.replication.protocol.ErrorCode;
import dev.armdb.replication.protocol.ErrorMessage;
import dev.armdb.replication.protocol.MessageType;
import dev.armdb.replication.protocol.ProtocolException;
import dev.armdb.replication.protocol.ShardInfo;
import dev.armdb.replication.protocol.SyncRequest;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.concurrent.atomic.LongAdder;

/**
 * The shape of a leader's collection (shard count, key and value sizes, routing), learnt before a follower's
 * collection exists so that a new follower can be created to match it instead of being told every size by hand.
 *
 * @param shardCount the leader's shard count
 * @param keySize the leader's key size in bytes
 * @param valueSize the leader's value size in bytes
 * @param routing how the leader routes keys to shards
 */
public record LeaderShape(int shardCount, int keySize, int valueSize, ShardRouting routing) {
    private static final SecureRandom IDS = new SecureRandom();

    /**
     * Asks the leader's replication server at {@code leader} for its shape: one handshake for shard 0, as a follower
     * that holds nothing would make it (authenticated both ways when {@code config} has a secret), closed after the
     * leader's SHARD_INFO. The leader sees a follower that left before its first copy. Blocks the calling thread for
     * at most about {@code timeout} per step (connect, each frame). Plain TCP only.
     *
     * @throws IllegalArgumentException if {@code config} asks for TLS
     * @throws ProtocolException if the leader refuses the handshake or fails authentication, or answers with an ERROR
     * @throws IOException if the leader cannot be reached or closes the connection
     */
    public static LeaderShape probe(InetSocketAddress leader, ReplicationClientConfig config, Duration timeout)
            throws IOException {
        if (config.tls() != null) {
            throw new IllegalArgumentException(
                    "learning a leader's shape needs a plain replication connection, got a TLS one; give the"
                            + " follower's sizes and shard count when it follows over TLS");
        }
        byte[] probeId = new byte[16];
        IDS.nextBytes(probeId);
        LeaderHandshake handshake = new LeaderHandshake(
                0, leader, config, LeaderHandshake.Position.FRESH, new ReplicationMetrics(), probeId);
        int millis = (int) Math.min(Integer.MAX_VALUE, Math.max(1, timeout.toMillis()));
        try (Socket socket = new Socket()) {
            socket.connect(leader, millis);
            socket.setSoTimeout(millis);
            FrameChannel ch = new FrameChannel(socket, new LongAdder(), new LongAdder(), FrameChannel.SMALL_BUFFER);
            SyncRequest req = handshake.answer(expect(ch, MessageType.CHALLENGE, leader));
            byte[] bytes = req.toBytes();
            ch.send(MessageType.SYNC_REQUEST, bytes, 0, bytes.length);
            ShardInfo info = handshake.authenticate(expect(ch, MessageType.SHARD_INFO, leader));
            return new LeaderShape(
                    info.shardCount(), info.keySize(), info.valueSize(), ShardRouting.ofCode(info.routing()));
        }
    }

    private static ByteBuffer expect(FrameChannel ch, MessageType wanted, InetSocketAddress leader) throws IOException {
        MessageType got = ch.receive();
        if (got == MessageType.ERROR) {
            ErrorMessage err = ErrorMessage.decode(ch.payload());
            throw new ProtocolException(err.code(), "leader " + leader + " refused: " + err.sanitized());
        }
        if (got != wanted) {
            throw new ProtocolException(
                    ErrorCode.MALFORMED, "leader " + leader + " sent " + got + ", expected " + wanted);
        }
        return ch.payload();
    }
}
