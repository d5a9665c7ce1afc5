package dev.armdb.cli;

import dev.armdb.replication.ReplicationTls;
import java.nio.file.Files;
import java.nio.file.Path;
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
    @Option(names = "--out", required = true, description = "Key store file to write (must not exist).")
    Path out;

    @Option(
            names = "--password-file",
            required = true,
            description = "File holding the key store's password (a trailing newline is ignored).")
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
        String password = Files.readString(passwordFile).stripTrailing();
        if (password.length() < 6) {
            throw new IllegalArgumentException(
                    "the key store password needs at least 6 characters, got " + password.length());
        }
        ReplicationTls.writeSelfSignedKeyStore(out, password.toCharArray(), subjectAltNames, days);
        System.out.println("armdb tls-keystore: wrote " + out + " for " + String.join(", ", subjectAltNames));
        return 0;
    }
}
