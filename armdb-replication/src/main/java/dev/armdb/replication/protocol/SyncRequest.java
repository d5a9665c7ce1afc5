package dev.armdb.replication.protocol;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Follower → leader, the first frame of a session: which shard, which leader database the follower last
 * followed, the LSN it has fully applied, who the follower is, the address it dialed and the address it serves
 * clients on.
 *
 * <pre>
 *  0               2               4                               8
 *  +---------------+---------------+-------------------------------+
 *  | proto version |  flags (0)    |           shard id            |
 *  +---------------+---------------+-------------------------------+
 *  8                                                               24
 *  |   leader database id (16 bytes; all zero = none)              |
 *  +---------------------------------------------------------------+
 *  24                              32                              48
 *  |           from LSN            |   follower node id (16 bytes) |
 *  +-------------------------------+-------------------------------+
 *  48                              56                              64
 *  |  leader epoch of from LSN     | highest LSN held in the shard |
 *  +-------------------------------+-------------------------------+
 *  64                                                              80
 *  |                  follower nonce (16 bytes)                    |
 *  +---------------+---------------+-------+-------+---------------+
 *  80              82              84      85      86              88
 *  |  dialed port  |   RESP port   | dlen  | rlen  |  reserved (0) |
 *  +---------------+---------------+-------+-------+---------------+
 *  88
 *  | dialed host (dlen bytes, ASCII) | RESP host (rlen bytes, ASCII) |
 *  +---------------------------------------------------------------+
 *  88 + dlen + rlen                                     + 32
 *  |   proof: HMAC-SHA256(secret, "armdb-follower" | leader nonce  |
 *  |          | every byte before the proof); zeros without secret|
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * The dialed host and port are the leader address exactly as the follower was told it ({@code REPLICAOF host
 * port}, {@code --follow host:port}); the leader refuses a proof over an address it does not answer on, so a relay
 * cannot pass a follower's proof on to another leader. The RESP host is empty when the follower serves on a
 * wildcard address (the leader then reports the connection's source address). Immutable.
 *
 * @param protocolVersion the follower's protocol version
 * @param shard shard id
 * @param leaderDatabaseId 16 bytes; zeros when the follower never synced
 * @param fromLsn the LSN the follower has fully applied (0 = nothing)
 * @param nodeId 16 bytes naming the follower node (the same for all its shards and across restarts)
 * @param leaderEpoch the leader epoch the follower last synced under (0 = unknown)
 * @param heldLsn the highest LSN of any slot image the follower holds in the shard (at least {@code fromLsn})
 * @param nonce 16 random bytes, fresh per session, that the leader's proof in ShardInfo must cover
 * @param dialedHost the leader host as the follower was told it
 * @param dialedPort the leader port as the follower was told it
 * @param respHost the host the follower serves RESP clients on, empty for a wildcard or none
 * @param respPort the follower's RESP port, 0 for none
 * @param proof the follower's proof (32 bytes), or zeros if it has no secret
 */
public record SyncRequest(
        int protocolVersion,
        int shard,
        byte[] leaderDatabaseId,
        long fromLsn,
        byte[] nodeId,
        long leaderEpoch,
        long heldLsn,
        byte[] nonce,
        String dialedHost,
        int dialedPort,
        String respHost,
        int respPort,
        byte[] proof) {
    /** Bytes before the two host names. */
    public static final int FIXED_LENGTH = 88;

    /** Most bytes of one host name. */
    public static final int MAX_HOST = 255;

    /** Bytes of a proof. */
    public static final int PROOF_BYTES = 32;

    /** Largest payload. */
    public static final int MAX_LENGTH = FIXED_LENGTH + 2 * MAX_HOST + PROOF_BYTES;

    /** Bytes of a node id. */
    public static final int NODE_ID_BYTES = 16;

    /** The label of the follower's proof. */
    public static final String PROOF_ROLE = "armdb-follower";

    /** Checks sizes and host names. */
    public SyncRequest {
        Codec.checkHost("dialed host", dialedHost);
        Codec.checkHost("RESP host", respHost);
        Codec.checkPort("dialed port", dialedPort);
        Codec.checkPort("RESP port", respPort);
        if (nodeId.length != NODE_ID_BYTES) {
            throw new IllegalArgumentException("node id must be " + NODE_ID_BYTES + " bytes, got " + nodeId.length);
        }
    }

    /** The payload length of this request. */
    public int length() {
        return FIXED_LENGTH + dialedHost.length() + respHost.length() + PROOF_BYTES;
    }

    /** Bytes the proof covers: everything before it. */
    public int signedLength() {
        return length() - PROOF_BYTES;
    }

    /** Writes the payload at the buffer's position (little-endian buffer). */
    public void encode(ByteBuffer out) {
        out.putShort((short) protocolVersion).putShort((short) 0).putInt(shard);
        out.put(leaderDatabaseId)
                .putLong(fromLsn)
                .put(nodeId)
                .putLong(leaderEpoch)
                .putLong(heldLsn);
        out.put(nonce);
        out.putShort((short) dialedPort)
                .putShort((short) respPort)
                .put((byte) dialedHost.length())
                .put((byte) respHost.length())
                .putShort((short) 0);
        Codec.putAscii(out, dialedHost);
        Codec.putAscii(out, respHost);
        out.put(proof);
    }

    /** The payload's bytes (little-endian), of which the first {@link #signedLength()} are what the proof covers. */
    public byte[] toBytes() {
        ByteBuffer b = ByteBuffer.allocate(length()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        encode(b);
        return b.array();
    }

    /** This request with {@code proof} in place of its own. */
    public SyncRequest withProof(byte[] proof) {
        return new SyncRequest(
                protocolVersion,
                shard,
                leaderDatabaseId,
                fromLsn,
                nodeId,
                leaderEpoch,
                heldLsn,
                nonce,
                dialedHost,
                dialedPort,
                respHost,
                respPort,
                proof);
    }

    /**
     * Reads a payload.
     *
     * @throws ProtocolException if the version is not this code's, or a length or host name is wrong
     */
    public static SyncRequest decode(ByteBuffer in) {
        Codec.expectVersion(MessageType.SYNC_REQUEST, in, "follower");
        Codec.expectLengthAtLeast(MessageType.SYNC_REQUEST, in, FIXED_LENGTH + PROOF_BYTES);
        int version = Short.toUnsignedInt(in.getShort());
        in.getShort();
        int shard = in.getInt();
        byte[] id = new byte[16];
        in.get(id);
        long from = in.getLong();
        byte[] node = new byte[NODE_ID_BYTES];
        in.get(node);
        long epoch = in.getLong();
        long held = in.getLong();
        byte[] nonce = new byte[Challenge.NONCE_BYTES];
        in.get(nonce);
        int dialedPort = Short.toUnsignedInt(in.getShort());
        int respPort = Short.toUnsignedInt(in.getShort());
        int dlen = Byte.toUnsignedInt(in.get());
        int rlen = Byte.toUnsignedInt(in.get());
        in.getShort();
        Codec.expectLength(MessageType.SYNC_REQUEST, in, dlen + rlen + PROOF_BYTES);
        String dialed = Codec.getAscii(MessageType.SYNC_REQUEST, in, dlen);
        String resp = Codec.getAscii(MessageType.SYNC_REQUEST, in, rlen);
        byte[] proof = new byte[PROOF_BYTES];
        in.get(proof);
        return new SyncRequest(
                version, shard, id, from, node, epoch, held, nonce, dialed, dialedPort, resp, respPort, proof);
    }

    /** The host to announce for a serving address: empty for a wildcard address or none, else its IP literal. */
    public static String announcedHost(java.net.InetSocketAddress a) {
        if (a == null || a.getAddress() == null || a.getAddress().isAnyLocalAddress()) {
            return "";
        }
        return a.getAddress().getHostAddress();
    }

    /** The port to announce for a serving address, 0 for none. */
    public static int announcedPort(java.net.InetSocketAddress a) {
        return a == null ? 0 : a.getPort();
    }

    /** True if the follower names no leader database. */
    public boolean noDatabase() {
        return Arrays.equals(leaderDatabaseId, new byte[16]);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SyncRequest r
                && r.protocolVersion == protocolVersion
                && r.shard == shard
                && Arrays.equals(r.leaderDatabaseId, leaderDatabaseId)
                && r.fromLsn == fromLsn
                && Arrays.equals(r.nodeId, nodeId)
                && r.leaderEpoch == leaderEpoch
                && r.heldLsn == heldLsn
                && Arrays.equals(r.nonce, nonce)
                && r.dialedHost.equals(dialedHost)
                && r.dialedPort == dialedPort
                && r.respHost.equals(respHost)
                && r.respPort == respPort
                && Arrays.equals(r.proof, proof);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(fromLsn) * 31 + shard;
    }
}
