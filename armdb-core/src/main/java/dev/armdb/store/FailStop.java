package dev.armdb.store;

import dev.armdb.ArmDbStorageFailedException;
import java.nio.file.Path;

/**
 * The fail-stop state of one collection: empty until a force or write of one of its shard files fails, then holding
 * that first failure for good. Every write checks it and refuses to run once it is set; only a new open (which
 * recovers from the files) starts with an empty one.
 *
 * <p>Threading: any thread; the failure is published with a volatile write and read with one volatile read, so
 * {@link #check()} allocates nothing while the collection is healthy.
 */
public final class FailStop {
    private volatile ArmDbStorageFailedException first;

    /** Creates a healthy state. */
    public FailStop() {}

    /**
     * Records that {@code what} on {@code file} failed with {@code cause} (only the first failure is kept) and returns
     * the exception to throw to the caller that saw it.
     */
    public ArmDbStorageFailedException failed(Path file, String what, Throwable cause) {
        ArmDbStorageFailedException e = new ArmDbStorageFailedException(
                what + " of " + file + " failed (" + cause + "); the collection refuses writes until it is reopened",
                cause);
        synchronized (this) {
            if (first == null) {
                first = e;
            }
        }
        return e;
    }

    /** True once a failure was recorded. */
    public boolean hasFailed() {
        return first != null;
    }

    /**
     * Throws if a failure was recorded.
     *
     * @throws ArmDbStorageFailedException naming the file and the first failure
     */
    public void check() {
        ArmDbStorageFailedException f = first;
        if (f != null) {
            throw new ArmDbStorageFailedException(
                    "collection is fail-stopped after an earlier storage failure: " + f.getMessage(), f.getCause());
        }
    }
}
