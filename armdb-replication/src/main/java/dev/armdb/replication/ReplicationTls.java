package dev.armdb.replication;

import dev.armdb.ArmDbException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;

/**
 * TLS for the replication port: TLS 1.3 only, and mutual: the leader requires a certificate from every follower
 * that its trust store accepts, and a follower checks the leader's certificate chain and that it names the host
 * (or IP address) the follower connects to. Stateless; the engines and sockets it makes belong to their callers.
 */
public final class ReplicationTls {
    private static final String[] PROTOCOLS = {"TLSv1.3"};

    private ReplicationTls() {}

    /**
     * A context from one PKCS#12 key store holding this node's private key and certificate and the certificates
     * (or CA) it trusts; both leader and followers can use the same file.
     *
     * @throws ArmDbException if the file cannot be read or holds no usable key
     */
    public static SSLContext fromKeyStore(Path keyStore, char[] password) {
        try (InputStream in = Files.newInputStream(keyStore)) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(in, password);
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, password);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            SSLContext ctx = SSLContext.getInstance("TLSv1.3");
            ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
            return ctx;
        } catch (IOException | GeneralSecurityException e) {
            throw new ArmDbException("cannot load the replication TLS key store " + keyStore + ": " + e, e);
        }
    }

    /**
     * Writes a PKCS#12 key store holding a new self-signed ECDSA P-256 key and certificate (valid {@code days} days)
     * for the given subject alternative names ({@code ip:10.0.0.5}, {@code dns:db1.internal}), made by this JDK's
     * {@code keytool}. One such store given to every node lets them all trust each other; for a real deployment,
     * certificates from your own CA work the same way.
     *
     * <p>The password reaches keytool through its environment ({@code -storepass:env}), never its command line, which
     * every local user can read in the process list. keytool writes into a fresh owner-only directory beside {@code
     * file}; the store is made owner-only (0600) before it is moved into place, so it is never readable by others.
     *
     * @throws ArmDbException if keytool fails (its output is in the message) or {@code file} exists
     */
    public static void writeSelfSignedKeyStore(Path file, char[] password, List<String> subjectAltNames, int days) {
        if (subjectAltNames.isEmpty()) {
            throw new IllegalArgumentException("at least one subject alternative name (ip:... or dns:...) is needed");
        }
        Path target = file.toAbsolutePath();
        Path workDir = null;
        try {
            workDir = Files.createTempDirectory(target.getParent(), ".keystore-", privateDirAttributes());
            Path tmp = workDir.resolve("store.p12");
            runKeytool(tmp, password, subjectAltNames, days);
            if (posix()) {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (java.nio.file.FileAlreadyExistsException e) {
            throw new ArmDbException(file + " exists already; refusing to overwrite a key store", e);
        } catch (IOException e) {
            throw new ArmDbException("cannot write the key store " + file + ": " + e, e);
        } finally {
            deleteQuietly(workDir);
        }
    }

    private static void runKeytool(Path out, char[] password, List<String> subjectAltNames, int days)
            throws IOException {
        List<String> cmd = List.of(
                Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair",
                "-alias",
                "armdb",
                "-keyalg",
                "EC",
                "-groupname",
                "secp256r1",
                "-dname",
                "CN=armdb",
                "-ext",
                "SAN=" + String.join(",", subjectAltNames),
                "-validity",
                Integer.toString(days),
                "-storetype",
                "PKCS12",
                "-keystore",
                out.toString(),
                "-storepass:env",
                PASSWORD_ENV,
                "-keypass:env",
                PASSWORD_ENV);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        // the environment of a process is readable only by its owner (and root), unlike its command line
        pb.environment().put(PASSWORD_ENV, new String(password));
        try {
            Process p = pb.start();
            p.getOutputStream().close();
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new ArmDbException("keytool could not write " + out + ": " + text.strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ArmDbException("interrupted while keytool wrote " + out, e);
        } finally {
            pb.environment().remove(PASSWORD_ENV);
        }
    }

    private static final String PASSWORD_ENV = "ARMDB_KEYSTORE_PASSWORD";

    private static boolean posix() {
        return java.nio.file.FileSystems.getDefault()
                .supportedFileAttributeViews()
                .contains("posix");
    }

    private static java.nio.file.attribute.FileAttribute<?>[] privateDirAttributes() {
        return posix()
                ? new java.nio.file.attribute.FileAttribute<?>[] {
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"))
                }
                : new java.nio.file.attribute.FileAttribute<?>[0];
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null) {
            return;
        }
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                Files.deleteIfExists(p);
            }
            Files.deleteIfExists(dir);
        } catch (IOException ignored) {
            // a leftover owner-only temporary directory holds nothing readable by others
        }
    }

    /**
     * An engine for the leader's end of one replication connection: server mode, TLS 1.3 only, a client certificate
     * its trust store accepts required, and the context's default cipher suites for a server.
     */
    public static SSLEngine serverEngine(SSLContext tls) {
        SSLEngine e = tls.createSSLEngine();
        // client mode first: it resets the protocols and cipher suites to the context's defaults for that mode
        e.setUseClientMode(false);
        e.setEnabledProtocols(PROTOCOLS.clone());
        e.setNeedClientAuth(true);
        return e;
    }

    /**
     * An engine for the follower's end of one replication connection to {@code leader}: client mode, TLS 1.3 only,
     * the context's default cipher suites for a client, and endpoint identification, so the handshake fails unless the
     * leader's certificate names {@code leader}'s host or IP address.
     */
    public static SSLEngine clientEngine(SSLContext tls, InetSocketAddress leader) {
        SSLEngine e = tls.createSSLEngine(leader.getHostString(), leader.getPort());
        e.setUseClientMode(true);
        SSLParameters p = e.getSSLParameters();
        p.setProtocols(PROTOCOLS.clone());
        p.setEndpointIdentificationAlgorithm("HTTPS");
        e.setSSLParameters(p);
        return e;
    }
}
