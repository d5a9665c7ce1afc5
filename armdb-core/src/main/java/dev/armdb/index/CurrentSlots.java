package dev.armdb.index;

/**
 * Whether a slot is some key's current slot: what a lock-free reader holding a hint of a key's slot checks before
 * it reads the slot and again after ({@link HashIndex} answers from one bit per slot).
 *
 * <p>Threading: any thread, lock-free, allocation-free.
 */
public interface CurrentSlots {
    /** True if some key is indexed at {@code slot} now. */
    boolean holdsSlot(int slot);
}
