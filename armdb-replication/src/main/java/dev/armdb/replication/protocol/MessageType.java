package dev.armdb.replication.protocol;

/** The message types of the replication protocol; the first byte of every frame. Immutable. */
public enum MessageType {
    /** Follower → leader: first frame of a session. */
    SYNC_REQUEST(1),
    /** Leader → follower: answer to a good SyncRequest. */
    SHARD_INFO(2),
    /** Leader → follower: slot images. */
    SLOT_BATCH(3),
    /** Leader → follower: catch-up is complete up to an LSN. */
    CAUGHT_UP(4),
    /** Follower → leader: applied LSN and last batch received. */
    ACK(5),
    /** Either way: liveness while idle. */
    HEARTBEAT(6),
    /** Either way: the session ends, with a reason. */
    ERROR(7),
    /** Leader → follower: first frame of a session (version, auth flag, nonce). */
    CHALLENGE(8);

    private static final MessageType[] BY_CODE = new MessageType[9];

    static {
        for (MessageType t : values()) {
            BY_CODE[t.code] = t;
        }
    }

    private final int code;

    MessageType(int code) {
        this.code = code;
    }

    /** The largest payload a frame of this type may carry; checked before any payload byte is read. */
    public int maxPayload() {
        return switch (this) {
            case SYNC_REQUEST -> SyncRequest.MAX_LENGTH;
            case SHARD_INFO -> ShardInfo.MAX_LENGTH;
            case SLOT_BATCH -> FrameLayout.MAX_PAYLOAD;
            case CAUGHT_UP -> CaughtUp.LENGTH;
            case ACK -> Ack.LENGTH;
            case HEARTBEAT -> Heartbeat.LENGTH;
            case ERROR -> 4 + ErrorMessage.MAX_MESSAGE;
            case CHALLENGE -> Challenge.LENGTH;
        };
    }

    /** The byte on the wire. */
    public int code() {
        return code;
    }

    /** The type with this code, or null if none. */
    public static MessageType ofCode(int code) {
        return code > 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }
}
