package dev.armdb.replication;

import dev.armdb.ArmDbException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The shared secret that leader and followers prove to each other at every replication handshake (HMAC-SHA256 over
 * the other side's fresh nonce and the handshake frame), so that only holders of the secret can follow a leader or
 * feed a follower. It authenticates; it does not encrypt (run replication over a trusted network or a tunnel).
 * Immutable and thread-safe; {@link #toString()} never shows the secret.
 */
public final class ReplicationSecret {
    /** Fewest secret bytes accepted. */
    public static final int MIN_BYTES = 16;

    /** Bytes of a proof. */
    public static final int PROOF_BYTES = 32;

    private static final String ALGORITHM = "HmacSHA256";

    private final byte[] key;

    private ReplicationSecret(byte[] key) {
        this.key = key;
    }

    /**
     * A secret of the given bytes (copied).
     *
     * @throws IllegalArgumentException if it is shorter than {@link #MIN_BYTES}
     */
    public static ReplicationSecret of(byte[] bytes) {
        if (bytes.length < MIN_BYTES) {
            throw new IllegalArgumentException(
                    "a replication secret needs at least " + MIN_BYTES + " bytes, got " + bytes.length);
        }
        return new ReplicationSecret(bytes.clone());
    }

    /**
     * The secret held in {@code file}; trailing line breaks and spaces are not part of it (so {@code echo ... >
     * file} works). The file must be readable by its owner only (see {@link SecretFiles}).
     *
     * @throws IllegalArgumentException if what remains is shorter than {@link #MIN_BYTES}
     * @throws ArmDbException if the file cannot be read, or other users may access it
     */
    public static ReplicationSecret fromFile(Path file) {
        byte[] b = SecretFiles.read(file, "replication secret");
        try {
            return of(b);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        } finally {
            Arrays.fill(b, (byte) 0);
        }
    }

    /**
     * The proof of {@code role} (a fixed label per direction, so one side's proof never passes as the other's) over
     * {@code nonce} and the first {@code length} bytes of {@code message}.
     */
    public byte[] proof(String role, byte[] nonce, byte[] message, int length) {
        try {
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(new SecretKeySpec(key, ALGORITHM));
            mac.update(role.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            mac.update(nonce);
            mac.update(message, 0, length);
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new ArmDbException("HMAC-SHA256 is not available in this JVM: " + e, e);
        }
    }

    /**
     * The proof of {@code role} over {@code nonce}, all of {@code context} (the other side's message this one answers)
     * and the first {@code length} bytes of {@code message}.
     */
    public byte[] proof(String role, byte[] nonce, byte[] context, byte[] message, int length) {
        try {
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(new SecretKeySpec(key, ALGORITHM));
            mac.update(role.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            mac.update(nonce);
            mac.update(context);
            mac.update(message, 0, length);
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new ArmDbException("HMAC-SHA256 is not available in this JVM: " + e, e);
        }
    }

    /** True if {@code proof} is {@link #proof(String, byte[], byte[], byte[], int)}; constant-time compare. */
    public boolean verifies(String role, byte[] nonce, byte[] context, byte[] message, int length, byte[] proof) {
        return MessageDigest.isEqual(proof(role, nonce, context, message, length), proof);
    }

    /** True if {@code proof} is this secret's proof of {@code role} over the same inputs; constant-time compare. */
    public boolean verifies(String role, byte[] nonce, byte[] message, int length, byte[] proof) {
        return MessageDigest.isEqual(proof(role, nonce, message, length), proof);
    }

    @Override
    public String toString() {
        return "ReplicationSecret[redacted]";
    }
}
