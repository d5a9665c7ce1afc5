package dev.armdb.server;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.IntSupplier;

/**
 * The machine's runnable tasks now, as Linux counts them in the fourth field of {@code /proc/loadavg}
 * ({@code running/total}): one read of a file kept open, into a buffer kept too, so a sample allocates nothing. On a
 * machine without that file, or one whose line does not parse, every sample answers -1. Closing it closes the file.
 *
 * <p>Threading: one thread at a time (the event loop that owns its {@link SpinGovernor}).
 */
final class RunnableTasks implements IntSupplier, AutoCloseable {
    private static final Path LOADAVG = Path.of("/proc/loadavg");

    /** The open file, or null where it could not be opened. */
    private final FileChannel file;

    private final ByteBuffer line = ByteBuffer.allocateDirect(128);

    private RunnableTasks(FileChannel file) {
        this.file = file;
    }

    /** A reader of {@code /proc/loadavg}; where it cannot be opened, one that always answers -1. */
    static RunnableTasks open() {
        try {
            return new RunnableTasks(FileChannel.open(LOADAVG, StandardOpenOption.READ));
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return new RunnableTasks(null);
        }
    }

    @Override
    public void close() {
        if (file != null) {
            try {
                file.close();
            } catch (IOException ignored) {
                // a read-only proc file: nothing to lose
            }
        }
    }

    @Override
    public int getAsInt() {
        if (file == null) {
            return -1;
        }
        line.clear();
        try {
            // a proc file is generated afresh by each read from offset 0
            file.read(line, 0);
        } catch (IOException e) {
            return -1;
        }
        return parse(line.flip());
    }

    /**
     * The running count of a {@code /proc/loadavg} line ({@code "0.52 0.58 0.59 3/467 12345"} gives 3), read from
     * {@code text}'s position to its limit; -1 if the line has no such field.
     */
    static int parse(ByteBuffer text) {
        int spaces = 0;
        int i = text.position();
        int end = text.limit();
        while (i < end && spaces < 3) {
            if (text.get(i++) == ' ') {
                spaces++;
            }
        }
        int count = 0;
        int digits = 0;
        while (i < end && digits < 9) {
            byte b = text.get(i++);
            if (b == '/') {
                return digits == 0 ? -1 : count;
            }
            if (b < '0' || b > '9') {
                return -1;
            }
            count = count * 10 + (b - '0');
            digits++;
        }
        return -1;
    }
}
