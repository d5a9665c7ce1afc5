package dev.armdb.store;

/**
 * Told by a shard's writer when a key enters or leaves the shard (not when its value changes). Lets an ordered
 * index follow the hash index. Called under the shard's write lock; implementations must be fast and must not
 * call back into the shard.
 */
public interface KeyListener {
    /** {@code key} became live; the array belongs to the caller, copy it to keep it. */
    void inserted(byte[] key);

    /**
     * {@code key} became live in {@code slot} (a hint: later updates move the key without telling the listener).
     * By default {@link #inserted(byte[])}.
     */
    default void insertedAt(byte[] key, int slot) {
        inserted(key);
    }

    /** {@code key} was deleted. */
    void removed(byte[] key);
}
