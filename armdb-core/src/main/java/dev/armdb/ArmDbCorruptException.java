package dev.armdb;

/**
 * Thrown when a file of a collection is not what armdb wrote: a garbage or truncated {@code db.meta}, a shard
 * file whose header does not match. Nothing is overwritten when this is thrown. Immutable.
 */
public final class ArmDbCorruptException extends ArmDbException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception with a message naming the file, what was expected and what was found. */
    public ArmDbCorruptException(String message) {
        super(message);
    }
}
