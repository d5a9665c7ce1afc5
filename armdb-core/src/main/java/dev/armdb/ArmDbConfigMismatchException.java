package dev.armdb;

/**
 * Thrown when a collection is opened with a {@link FixedConfig} that disagrees with its {@code db.meta}; the
 * message names the setting and both values. Nothing is written when this is thrown. Immutable.
 */
public final class ArmDbConfigMismatchException extends ArmDbException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception with a message naming the setting and both values. */
    public ArmDbConfigMismatchException(String message) {
        super(message);
    }
}
