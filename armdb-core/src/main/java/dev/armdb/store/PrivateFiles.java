package dev.armdb.store;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Creates files and directories readable by their owner only (files 0600, directories 0700) on POSIX file systems;
 * elsewhere it creates them with the platform's defaults. Only newly created entries get these modes: an existing
 * file or directory keeps the mode its owner gave it. Stateless and thread-safe.
 */
public final class PrivateFiles {
    private static final boolean POSIX =
            FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
    private static final FileAttribute<?>[] FILE = POSIX
            ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))
            }
            : new FileAttribute<?>[0];
    private static final FileAttribute<?>[] DIR = POSIX
            ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"))
            }
            : new FileAttribute<?>[0];

    private PrivateFiles() {}

    /** Creates {@code dir} and any missing parents, each new one owner-only. */
    public static void createDirectories(Path dir) throws IOException {
        Files.createDirectories(dir, DIR);
    }

    /** Creates a new empty owner-only file. */
    public static void createFile(Path file) throws IOException {
        Files.createFile(file, FILE);
    }

    /** Opens a file channel; a file it creates is owner-only. */
    public static FileChannel open(Path file, OpenOption... options) throws IOException {
        return FileChannel.open(file, Set.of(options), FILE);
    }
}
