package dev.armdb.server;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Set;

/**
 * The password RESP clients must give (AUTH, HELLO AUTH) before any other command, as Redis's {@code requirepass}.
 * Compared in constant time: both sides are hashed (SHA-256, so the length does not leak either) and the digests
 * compared with {@link MessageDigest#isEqual}. Immutable; safe for any thread.
 */
public final class RespPassword {
    private final byte[] digest;

    private RespPassword(byte[] password) {
        if (password.length == 0) {
            throw new IllegalArgumentException("the RESP password must not be empty");
        }
        this.digest = sha256(password);
    }

    /** The password {@code password} (UTF-8). */
    public static RespPassword of(String password) {
        return new RespPassword(password.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * The password in {@code file} (one trailing newline ignored). Refuses a file that its group or others may read
     * (on file systems with POSIX permissions), as ssh does with a private key.
     *
     * @throws IllegalArgumentException if the file is group/world-readable, missing or empty
     */
    public static RespPassword fromFile(Path file) {
        try {
            if (Files.getFileStore(file).supportsFileAttributeView("posix")) {
                Set<PosixFilePermission> p = Files.getPosixFilePermissions(file);
                if (p.contains(PosixFilePermission.GROUP_READ) || p.contains(PosixFilePermission.OTHERS_READ)) {
                    throw new IllegalArgumentException("the password file " + file + " is readable by its group or"
                            + " others (permissions " + java.nio.file.attribute.PosixFilePermissions.toString(p)
                            + "); expected rw------- or r-------- (chmod 600 " + file + ")");
                }
            }
            byte[] b = Files.readAllBytes(file);
            int n = b.length;
            if (n > 0 && b[n - 1] == '\n') {
                n--;
            }
            if (n > 0 && b[n - 1] == '\r') {
                n--;
            }
            if (n == 0) {
                throw new IllegalArgumentException("the password file " + file + " is empty; expected a password");
            }
            return new RespPassword(Arrays.copyOf(b, n));
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the password file " + file + ": " + e.getMessage(), e);
        }
    }

    /** True if {@code given} is the password; takes the same time whatever {@code given} is. */
    public boolean matches(byte[] given) {
        return MessageDigest.isEqual(digest, sha256(given));
    }

    private static byte[] sha256(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JDK has no SHA-256", e);
        }
    }

    @Override
    public String toString() {
        return "RespPassword[hidden]";
    }
}
