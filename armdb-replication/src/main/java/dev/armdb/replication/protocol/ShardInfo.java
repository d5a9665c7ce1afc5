package dev.armdb.replication.protocol;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Leader → follower, the answer to a good SyncRequest: the leader's collection shape, and how catch-up will run.
 *
 * <pre>
 *  0               4               8               12              16
 *  +---------------+---------------+---------------+---------------+
 *  |  shard count  |   key size    |  value size   |   slot size   |
 *  +---------------+---------------+---------------+---------------+
 *  16              20              24
 *  |    routing    |  slot count   |  database id (16 bytes) ...
 *  +---------------+---------------+-------------------------------+
 *  40                              48      49                      56
 *  |          leader LSN           | mode  |      zero padding     |
 *  +-------------------------------+-------+-----------------------+
 *  56                              64                              72
 *  |         leader epoch          |       leader term (u64)       |
 *  +-------------------------------+-------------------------------+
 *  72              74      75      80
 *  |   RESP port   | hlen  | 0 pad |
 *  +---------------+-------+-------+
 *  80
 *  |  RESP host (hlen bytes, ASCII; empty = the host the follower dialed) |
 *  +---------------------------------------------------------------+
 *  80 + hlen                                            + 32
 *  |   proof: HMAC-SHA256(secret, "armdb-leader" | follower nonce  |
 *  |          | the follower's whole SyncRequest payload           |
 *  |          | every byte of this payload before the proof)       |
 *  |          zeros without secret                                 |
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * The proof covers the follower's request (its node id, nonce, the address it dialed), so it answers exactly that
 * request. Immutable.
 *
 * @param shardCount leader's shard count
 * @param keySize key size
 * @param valueSize value size
 * @param slotSize slot size
 * @param routing routing code
 * @param slotCount slots in use in this shard on the leader
 * @param databaseId the leader's database id
 * @param leaderLsn the shard's last LSN on the leader when the session started
 * @param mode how the follower is caught up
 * @param epoch the leader's epoch (random per open of the leader); the follower records it with its LSN
 * @param term the leader's term (never negative); the follower refuses a lower one than it has seen
 * @param respHost the host the leader serves RESP clients on, empty for a wildcard address or none
 * @param respPort the leader's RESP port, 0 for none
 * @param proof the leader's proof (32 bytes), or zeros if it has no secret
 */
public record ShardInfo(
        int shardCount,
        int keySize,
        int valueSize,
        int slotSize,
        int routing,
        int slotCount,
        byte[] databaseId,
        long leaderLsn,
        CatchUpMode mode,
        long epoch,
        long term,
        String respHost,
        int respPort,
        byte[] proof) {
    /** Bytes before the RESP host. */
    public static final int FIXED_LENGTH = 80;
    /** Offset of the leader epoch. */
    public static final int EPOCH_OFFSET = 56;
    /** Offset of the leader term. */
    public static final int TERM_OFFSET = 64;
    /** Offset of the RESP port. */
    public static final int RESP_PORT_OFFSET = 72;

    /** Largest payload. */
    public static final int MAX_LENGTH = FIXED_LENGTH + SyncRequest.MAX_HOST + SyncRequest.PROOF_BYTES;

    /** Checks the RESP address. */
    public ShardInfo {
        Codec.checkHost("RESP host", respHost);
        Codec.checkPort("RESP port", respPort);
    }

    /** The payload length of this answer. */
    public int length() {
        return FIXED_LENGTH + respHost.length() + SyncRequest.PROOF_BYTES;
    }

    /** Bytes the proof covers: everything before it. */
    public int signedLength() {
        return length() - SyncRequest.PROOF_BYTES;
    }

    /** The label of the leader's proof. */
    public static final String PROOF_ROLE = "armdb-leader";

    /** How a session catches the follower up. */
    public enum CatchUpMode {
        /** Only the change feed: it still holds every change after the follower's LSN. */
        BACKLOG,
        /** A scan of slots newer than the follower's LSN, then the feed. */
        PARTIAL_SCAN,
        /** The follower wipes the shard; a scan of every slot, then the feed. */
        FULL
    }

    /** Writes the payload at the buffer's position. */
    public void encode(ByteBuffer out) {
        out.putInt(shardCount)
                .putInt(keySize)
                .putInt(valueSize)
                .putInt(slotSize)
                .putInt(routing);
        out.putInt(slotCount).put(databaseId).putLong(leaderLsn);
        out.put((byte) mode.ordinal()).put(new byte[7]).putLong(epoch).putLong(term);
        out.putShort((short) respPort).put((byte) respHost.length()).put(new byte[5]);
        Codec.putAscii(out, respHost);
        out.put(proof);
    }

    /** The payload's bytes, of which the first {@link #signedLength()} are what the proof covers. */
    public byte[] toBytes() {
        ByteBuffer b = ByteBuffer.allocate(length()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        encode(b);
        return b.array();
    }

    /** This answer with {@code proof} in place of its own. */
    public ShardInfo withProof(byte[] proof) {
        return new ShardInfo(
                shardCount,
                keySize,
                valueSize,
                slotSize,
                routing,
                slotCount,
                databaseId,
                leaderLsn,
                mode,
                epoch,
                term,
                respHost,
                respPort,
                proof);
    }

    /**
     * Reads a payload.
     *
     * @throws ProtocolException if the length or the mode is wrong
     */
    public static ShardInfo decode(ByteBuffer in) {
        Codec.expectLengthAtLeast(MessageType.SHARD_INFO, in, FIXED_LENGTH + SyncRequest.PROOF_BYTES);
        int shards = in.getInt();
        int key = in.getInt();
        int value = in.getInt();
        int slot = in.getInt();
        int routing = in.getInt();
        int count = in.getInt();
        byte[] id = new byte[16];
        in.get(id);
        long lsn = in.getLong();
        int mode = in.get();
        if (mode < 0 || mode >= CatchUpMode.values().length) {
            throw new ProtocolException(ErrorCode.MALFORMED, "ShardInfo mode must be 0..2, got " + mode);
        }
        in.position(in.position() + 7);
        long epoch = in.getLong();
        long term = Codec.term(MessageType.SHARD_INFO, in.getLong());
        int respPort = Short.toUnsignedInt(in.getShort());
        int hlen = Byte.toUnsignedInt(in.get());
        in.position(in.position() + 5);
        Codec.expectLength(MessageType.SHARD_INFO, in, hlen + SyncRequest.PROOF_BYTES);
        String respHost = Codec.getAscii(MessageType.SHARD_INFO, in, hlen);
        byte[] proof = new byte[SyncRequest.PROOF_BYTES];
        in.get(proof);
        return new ShardInfo(
                shards,
                key,
                value,
                slot,
                routing,
                count,
                id,
                lsn,
                CatchUpMode.values()[mode],
                epoch,
                term,
                respHost,
                respPort,
                proof);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ShardInfo s
                && s.shardCount == shardCount
                && s.keySize == keySize
                && s.valueSize == valueSize
                && s.slotSize == slotSize
                && s.routing == routing
                && s.slotCount == slotCount
                && Arrays.equals(s.databaseId, databaseId)
                && s.leaderLsn == leaderLsn
                && s.mode == mode
                && s.epoch == epoch
                && s.term == term
                && s.respHost.equals(respHost)
                && s.respPort == respPort
                && Arrays.equals(s.proof, proof);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(leaderLsn) * 31 + slotCount;
    }
}
