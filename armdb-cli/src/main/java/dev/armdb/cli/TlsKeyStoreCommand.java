package dev.armdb.cli;

import dev.armdb.replication.ReplicationTls;
import dev.armdb.replication.SecretFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code armdb tls-keystore}: writes a self-signed PKCS#12 key store for {@code serve --repl-tls-keystore} (the same
 * file on every node makes them trust each other).
 */
@Command(
        name = "tls-keystore",
        mixinStandardHelpOptions = true,
        description = {
            "Write a PKCS#12 key store with a new self-signed ECDSA P-256 key for the replication port",
            "(serve --repl-tls-keystore). Give the same file to every node, or use certificates of your own CA."
        })
final class TlsKeyStoreCommand implements Callable<Integer> {
    /**
     * Fewest password characters: the store holds every node's private key and its file may be copied around, so
     * its password must resist offline guessing (12 characters, as NIST SP 800-63B asks of a single-factor secret
     * chosen by a person, rounded up from 8).
     */
    static final int MIN_PASSWORD = 12;

    @Option(names = "--out", required = true, description = "Key store file to write (must not exist).")
    Path out;

    @Option(
            names = "--password-file",
            required = true,
            description = {
                "File holding the key store's password, at least 12 characters (a trailing newline is ignored).",
                "It must be readable by its owner only (chmod 600)."
            })
    Path passwordFile;

    @Option(
            names = "--san",
            split = ",",
            defaultValue = "ip:127.0.0.1,dns:localhost",
            description = "Names followers connect to, e.g. ip:10.0.0.5,dns:db1.internal (default ${DEFAULT-VALUE}).")
    List<String> subjectAltNames;

    @Option(names = "--days", defaultValue = "365", description = "Validity in days (default ${DEFAULT-VALUE}).")
    int days;

    @Override
    public Integer call() throws Exception {
        if (Files.exists(out)) {
            throw new IllegalArgumentException(out + " exists already; refusing to overwrite a key store");
        }
        char[] password = SecretFiles.readChars(passwordFile, "key store password");
        try {
            if (password.length < MIN_PASSWORD) {
                throw new IllegalArgumentException("the key store password needs at least " + MIN_PASSWORD
                        + " characters, got " + password.length);
            }
            ReplicationTls.writeSelfSignedKeyStore(out, password, subjectAltNames, days);
        } finally {
            Arrays.fill(password, '\0');
        }
        System.out.println("armdb tls-keystore: wrote " + out + " for " + String.join(", ", subjectAltNames));
        return 0;
    }
}
