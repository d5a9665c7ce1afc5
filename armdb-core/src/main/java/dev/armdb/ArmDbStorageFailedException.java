package dev.armdb;

/**
 * Thrown when a shard file's force or write failed (an I/O error, a full disk), and by every write of the
 * collection after that: the collection is then <em>fail-stopped</em>. Nothing written since the last successful
 * force may be assumed on disk (after a failed {@code fsync}/{@code msync} the kernel may already have dropped the
 * dirty pages), so the collection claims nothing more durable; reads keep working, and closing and reopening the
 * collection recovers it from what the files hold. The message names the file and the first failure; the cause is
 * that failure. Immutable.
 */
public final class ArmDbStorageFailedException extends ArmDbException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception with a message naming the file and what failed, and the underlying failure. */
    public ArmDbStorageFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}
