package dev.armdb;

/** Thrown by any operation on a collection (or a view of it) after {@code close()}. Immutable. */
public final class ArmDbClosedException extends ArmDbException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception naming the collection that is closed. */
    public ArmDbClosedException(String message) {
        super(message);
    }
}
