package dev.armdb.replication;

import dev.armdb.ArmDbException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;

/**
 * Reads secrets (the replication secret, key store and RESP passwords) from files, as ssh reads private keys: a file
 * that its group or other users may read or write is refused with a message saying how to fix it, and the bytes
 * read are returned in an array the caller clears after use (never in a {@code String}). Trailing line breaks and
 * spaces are not part of a secret, so {@code echo ... > file} works. On file systems without POSIX permissions the
 * mode check is skipped. Stateless and thread-safe.
 */
public final class SecretFiles {
    private static final Set<PosixFilePermission> NOT_OWNER = EnumSet.of(
            PosixFilePermission.GROUP_READ,
            PosixFilePermission.GROUP_WRITE,
            PosixFilePermission.GROUP_EXECUTE,
            PosixFilePermission.OTHERS_READ,
            PosixFilePermission.OTHERS_WRITE,
            PosixFilePermission.OTHERS_EXECUTE);

    private SecretFiles() {}

    /**
     * The secret bytes of {@code file}, trailing whitespace removed. {@code what} names the secret in messages.
     *
     * @throws ArmDbException if the file cannot be read, or its group or other users have any access to it
     */
    public static byte[] read(Path file, String what) {
        checkPrivate(file, what);
        byte[] b;
        try {
            b = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ArmDbException("cannot read the " + what + " file " + file + ": " + e, e);
        }
        int n = b.length;
        while (n > 0 && (b[n - 1] == '\n' || b[n - 1] == '\r' || b[n - 1] == ' ' || b[n - 1] == '\t')) {
            n--;
        }
        byte[] secret = Arrays.copyOf(b, n);
        Arrays.fill(b, (byte) 0);
        return secret;
    }

    /**
     * The secret of {@code file} as UTF-8 characters (for key store passwords), trailing whitespace removed.
     *
     * @throws ArmDbException as {@link #read}, or if the file is not UTF-8
     */
    public static char[] readChars(Path file, String what) {
        byte[] b = read(file, what);
        try {
            CharBuffer cb = StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(b));
            char[] chars = Arrays.copyOfRange(cb.array(), cb.position(), cb.limit());
            Arrays.fill(cb.array(), '\0');
            return chars;
        } catch (CharacterCodingException e) {
            throw new ArmDbException("the " + what + " file " + file + " is not UTF-8 text", e);
        } finally {
            Arrays.fill(b, (byte) 0);
        }
    }

    /**
     * Refuses a file its group or other users may access.
     *
     * @throws ArmDbException naming the file's mode and the fix
     */
    public static void checkPrivate(Path file, String what) {
        if (!FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            return;
        }
        Set<PosixFilePermission> perms;
        try {
            perms = Files.getPosixFilePermissions(file);
        } catch (IOException e) {
            throw new ArmDbException("cannot read the " + what + " file " + file + ": " + e, e);
        }
        Set<PosixFilePermission> open = EnumSet.noneOf(PosixFilePermission.class);
        open.addAll(perms);
        open.retainAll(NOT_OWNER);
        if (!open.isEmpty()) {
            throw new ArmDbException("the " + what + " file " + file + " is accessible by other users (mode "
                    + PosixFilePermissions.toString(perms) + "); it must be readable by its owner only:"
                    + " chmod 600 " + file);
        }
    }
}
