package dev.armdb.replication.follower;

import dev.armdb.replication.ReplicationMetrics;
import dev.armdb.replication.ReplicationSecret;
import dev.armdb.replication.protocol.Challenge;
import dev.armdb.replication.protocol.ErrorCode;
import dev.armdb.replication.protocol.ProtocolException;
import dev.armdb.replication.protocol.ProtocolVersion;
import dev.armdb.replication.protocol.ShardInfo;
import dev.armdb.replication.protocol.SyncRequest;
import dev.armdb.store.DbMeta;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.security.SecureRandom;

/**
 * The follower's half of one shard's handshake with its leader, apart from the connection that carries it: what it
 * checks in the leader's CHALLENGE and SHARD_INFO, and the SYNC_REQUEST (with this follower's position, nonce and
 * proof) it answers with. {@link LeaderSession} drives it once per connection.
 *
 * <p>Threading: the session's worker only.
 */
final class LeaderHandshake {
    private static final SecureRandom NONCES = new SecureRandom();

    private final int shardId;
    private final InetSocketAddress leader;
    private final ReplicationClientConfig config;
    private final Position position;
    private final ReplicationMetrics metrics;
    private final byte[] nodeId;

    private byte[] followerNonce;
    private byte[] sentRequest;

    /** Where a shard's SYNC_REQUEST asks the leader to start from. */
    interface Position {
        /** The leader database id the shard follows (16 bytes, zero = none). */
        byte[] leaderDatabaseId();

        /** The first LSN the shard asks for. */
        long fromLsn();

        /** The leader epoch the shard's history belongs to. */
        long leaderEpoch();

        /** The highest LSN the shard holds, applied or not. */
        long heldLsn();

        /** A shard that holds nothing: a first copy. */
        Position FRESH = new Position() {
            @Override
            public byte[] leaderDatabaseId() {
                return new byte[16];
            }

            @Override
            public long fromLsn() {
                return 0;
            }

            @Override
            public long leaderEpoch() {
                return 0;
            }

            @Override
            public long heldLsn() {
                return 0;
            }
        };

        /** Shard {@code shardId}'s position: its record in {@code state} and what {@code applier} holds. */
        static Position of(int shardId, ReplicaState state, ShardApplier applier) {
            return new Position() {
                @Override
                public byte[] leaderDatabaseId() {
                    return state.leaderDatabaseId(shardId);
                }

                @Override
                public long fromLsn() {
                    return applier.fromLsn();
                }

                @Override
                public long leaderEpoch() {
                    return state.leaderEpoch(shardId);
                }

                @Override
                public long heldLsn() {
                    return applier.heldLsn();
                }
            };
        }
    }

    LeaderHandshake(
            int shardId,
            InetSocketAddress leader,
            ReplicationClientConfig config,
            Position position,
            ReplicationMetrics metrics,
            byte[] nodeId) {
        this.shardId = shardId;
        this.leader = leader;
        this.config = config;
        this.position = position;
        this.metrics = metrics;
        this.nodeId = nodeId;
    }

    /**
     * Takes the leader's CHALLENGE: checks its version and that both sides agree on authentication (a follower with
     * a secret never follows a leader that cannot prove it holds the same one), and makes the SYNC_REQUEST that answers
     * it, from the shard's position and with a fresh nonce.
     *
     * @throws ProtocolException (PROTOCOL_VERSION, AUTH_FAILED, MALFORMED) if the leader is refused
     */
    SyncRequest answer(ByteBuffer challengePayload) {
        Challenge c = Challenge.decode(challengePayload);
        if (config.secret() != null && !c.authRequired()) {
            throw new ProtocolException(
                    ErrorCode.AUTH_FAILED,
                    "leader " + leader + " has no replication secret, so it cannot prove it is the leader this"
                            + " follower's secret expects; refusing to follow it");
        }
        if (config.secret() == null && c.authRequired()) {
            throw new ProtocolException(
                    ErrorCode.AUTH_FAILED,
                    "leader " + leader + " requires a replication secret; give this follower the leader's secret");
        }
        followerNonce = new byte[Challenge.NONCE_BYTES];
        NONCES.nextBytes(followerNonce);
        SyncRequest req = new SyncRequest(
                ProtocolVersion.CURRENT,
                shardId,
                position.leaderDatabaseId(),
                position.fromLsn(),
                nodeId,
                position.leaderEpoch(),
                position.heldLsn(),
                followerNonce,
                leader.getHostString(),
                leader.getPort(),
                SyncRequest.announcedHost(config.respAddress()),
                SyncRequest.announcedPort(config.respAddress()),
                new byte[ReplicationSecret.PROOF_BYTES]);
        if (config.secret() != null) {
            req = req.withProof(
                    config.secret().proof(SyncRequest.PROOF_ROLE, c.nonce(), req.toBytes(), req.signedLength()));
        }
        sentRequest = req.toBytes();
        return req;
    }

    /**
     * Takes the leader's SHARD_INFO and refuses it if its proof does not match this follower's secret (a leader
     * without the secret); the caller then trusts what it says.
     *
     * @throws ProtocolException (AUTH_FAILED, MALFORMED) if the leader is refused
     */
    ShardInfo authenticate(ByteBuffer shardInfoPayload) {
        ShardInfo info = ShardInfo.decode(shardInfoPayload);
        ReplicationSecret secret = config.secret();
        if (secret != null
                && !secret.verifies(
                        ShardInfo.PROOF_ROLE,
                        followerNonce,
                        sentRequest,
                        info.toBytes(),
                        info.signedLength(),
                        info.proof())) {
            metrics.authFailures.increment();
            throw new ProtocolException(
                    ErrorCode.AUTH_FAILED,
                    "leader " + leader + " failed authentication: its replication secret differs from this follower's");
        }
        return info;
    }

    /**
     * Checks that the leader's collection has this follower's shape.
     *
     * @throws ProtocolException (MISMATCH, naming both values) if shard count, key, value or slot size, or routing
     *     differ
     */
    static void checkShape(ShardInfo info, DbMeta meta) {
        mismatch("shard count", info.shardCount(), meta.shardCount());
        mismatch("key size", info.keySize(), meta.keySize());
        mismatch("value size", info.valueSize(), meta.valueSize());
        mismatch("slot size", info.slotSize(), meta.slotSize());
        mismatch("shard routing", info.routing(), meta.routing().code());
    }

    private static void mismatch(String what, int leaderValue, int followerValue) {
        if (leaderValue != followerValue) {
            throw new ProtocolException(
                    ErrorCode.MISMATCH,
                    what + " mismatch: leader " + leaderValue + ", follower " + followerValue
                            + "; this follower cannot replicate that leader");
        }
    }
}
