package dev.armdb;

/** Thrown when a shard has no free slot left and may not grow (slot limit reached or disk full). Immutable. */
public final class ArmDbFullException extends ArmDbException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception with a message naming the shard and the limit. */
    public ArmDbFullException(String message) {
        super(message);
    }

    /** Creates the exception with a message and the I/O error that stopped growth. */
    public ArmDbFullException(String message, Throwable cause) {
        super(message, cause);
    }
}
