package dev.armdb.index;

/**
 * Where an index finds the key of a slot: the index stores only slot ids and hash tags, and asks this to compare
 * keys. Implemented by a shard over its mapped slots.
 *
 * <p>Called by index readers concurrently with the shard's writer; answers may be stale (a slot being rewritten)
 * and callers validate them.
 */
public interface SlotKeys {
    /** True if the key stored in {@code slot} equals {@code key}. */
    boolean keyEquals(int slot, byte[] key);

    /** True if the keys stored in two slots are equal. */
    boolean keysEqual(int slotA, int slotB);
}
