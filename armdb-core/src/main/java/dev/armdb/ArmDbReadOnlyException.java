package dev.armdb;

/**
 * Thrown by a write to a collection that is a read-only replica (a follower's copy of a leader) until it is
 * promoted. Immutable.
 */
public final class ArmDbReadOnlyException extends ArmDbException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception with a message naming the collection and how to make it writable. */
    public ArmDbReadOnlyException(String message) {
        super(message);
    }
}
