package dev.armdb.store;

/**
 * Told by a shard's writer when a key enters or leaves the shard and when its value changes. Lets an ordered index
 * follow the hash index and keep a copy of each value. Called under the shard's write lock, after the slot is
 * written and before the write returns; implementations must be fast and must not call back into the shard. The
 * arrays belong to the caller: copy what you keep.
 */
public interface KeyListener {
    /** {@code key} became live with {@code value} in {@code slot}. */
    void inserted(byte[] key, int slot, byte[] value);

    /** {@code key}, live before, now holds {@code value} in {@code slot}. */
    void updated(byte[] key, int slot, byte[] value);

    /** {@code key} was deleted. */
    void removed(byte[] key);
}
