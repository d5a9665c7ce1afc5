package dev.armdb.replication.protocol;

/** Why a session ended, as carried by an Error frame. Immutable. */
public enum ErrorCode {
    /** The peers speak different protocol versions. Permanent until one is upgraded. */
    PROTOCOL_VERSION(1, true),
    /** The shard id is outside the leader's shard range. Permanent. */
    INVALID_SHARD(2, true),
    /** Authentication failed. Permanent. */
    AUTH_FAILED(3, true),
    /** A frame broke the protocol (size, type, count, CRC...). */
    MALFORMED(4, false),
    /** The peer was silent past the timeout. */
    TIMEOUT(5, false),
    /** The sender is shutting down. */
    SHUTDOWN(6, false),
    /** An unexpected failure on the sender. */
    INTERNAL(7, false),
    /** The collections' sizes, shard count or routing differ. Permanent. */
    MISMATCH(8, true),
    /**
     * The leader's term is lower than the highest term the follower has seen: a newer leader was promoted since. Sent
     * by the follower; that connection ends, and the follower retries with backoff in case the leader's term rises.
     */
    STALE_TERM(9, false);

    private final int code;
    private final boolean permanent;

    ErrorCode(int code, boolean permanent) {
        this.code = code;
        this.permanent = permanent;
    }

    /** The number on the wire. */
    public int code() {
        return code;
    }

    /** True if retrying cannot help (a follower stops the shard instead of backing off). */
    public boolean permanent() {
        return permanent;
    }

    /** The code with this number; unknown numbers map to {@link #INTERNAL}. */
    public static ErrorCode ofCode(int code) {
        for (ErrorCode c : values()) {
            if (c.code == code) {
                return c;
            }
        }
        return INTERNAL;
    }
}
