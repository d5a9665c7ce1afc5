package dev.armdb.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Crash-safe replacement and removal of small whole files (metadata, epoch lists, lineages): after a crash at any
 * point a reader finds either the old content or the new, never a mix. Stateless.
 */
public final class DurableFiles {
    private DurableFiles() {}

    /**
     * Replaces {@code file} by {@code bytes}: writes a sibling temporary file, forces it, renames it over {@code
     * file} atomically, then forces the directory so the rename itself survives a power loss.
     */
    public static void replace(Path file, byte[] bytes) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel ch = PrivateFiles.open(
                tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        forceDirectory(file.toAbsolutePath().getParent());
    }

    /** Removes {@code file} if present, durably (the directory is forced); true if it was there. */
    public static boolean delete(Path file) throws IOException {
        boolean removed = Files.deleteIfExists(file);
        if (removed) {
            forceDirectory(file.toAbsolutePath().getParent());
        }
        return removed;
    }

    /** Forces a directory's entries (new files, renames, removals) to disk. */
    public static void forceDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }
}
