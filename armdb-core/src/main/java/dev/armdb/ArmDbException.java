package dev.armdb;

/**
 * Root of every error armdb raises on purpose. Unchecked: a caller handles what it can and lets the rest
 * travel. Subclasses exist only where a caller reacts differently: {@link ArmDbClosedException}, {@link
 * ArmDbFullException}, {@link ArmDbCorruptException} and {@link ArmDbConfigMismatchException}.
 *
 * <p>Immutable and safe to share between threads.
 */
public class ArmDbException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Creates an exception with a message that says what was expected and what was found. */
    public ArmDbException(String message) {
        super(message);
    }

    /** Creates an exception with a message and the underlying cause. */
    public ArmDbException(String message, Throwable cause) {
        super(message, cause);
    }
}
