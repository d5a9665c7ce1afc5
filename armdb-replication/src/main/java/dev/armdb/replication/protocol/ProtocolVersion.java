package dev.armdb.replication.protocol;

/** The protocol version this code speaks; both sides must speak the same. Stateless. */
public final class ProtocolVersion {
    /**
     * Current version. History: 5 added the leader term to SHARD_INFO and HEARTBEAT and the STALE_TERM error; 4
     * bound the follower's proof to the leader address it dialed. See docs/protocol.md.
     */
    public static final int CURRENT = 5;

    private ProtocolVersion() {}
}
