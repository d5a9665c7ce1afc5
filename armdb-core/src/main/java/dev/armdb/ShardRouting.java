package dev.armdb;

/**
 * How a key is mapped to its shard. Recorded in {@code db.meta}; a collection keeps its routing forever.
 */
public enum ShardRouting {
    /** By a hash of the whole key: spreads any key distribution evenly. The default. */
    HASH(0),
    /**
     * By the key's first (up to) four bytes read as an unsigned big-endian number, scaled to the shard count:
     * keys that share a prefix land in the same shard and shards hold contiguous key ranges.
     */
    KEY_PREFIX(1);

    private final int code;

    ShardRouting(int code) {
        this.code = code;
    }

    /** The number stored in {@code db.meta} for this routing. */
    public int code() {
        return code;
    }

    /**
     * The routing stored under {@code code}.
     *
     * @throws ArmDbCorruptException if no routing has that code
     */
    public static ShardRouting ofCode(int code) {
        for (ShardRouting r : values()) {
            if (r.code == code) {
                return r;
            }
        }
        throw new ArmDbCorruptException(
                "unknown shard routing code: expected 0 (HASH) or 1 (KEY_PREFIX), found " + code);
    }
}
