package dev.armdb.replication;

import dev.armdb.ArmDbException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * TLS for the replication port: TLS 1.3 only, and mutual: the leader requires a certificate from every follower
 * that its trust store accepts, and a follower checks the leader's certificate chain and that it names the host
 * (or IP address) the follower connects to. Stateless; the sockets it makes belong to their callers.
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

    /** An unbound server socket: plain if {@code tls} is null, else TLS requiring a client certificate. */
    public static ServerSocket serverSocket(SSLContext tls) throws IOException {
        if (tls == null) {
            return new ServerSocket();
        }
        SSLServerSocket s = (SSLServerSocket) tls.getServerSocketFactory().createServerSocket();
        s.setEnabledProtocols(PROTOCOLS);
        s.setNeedClientAuth(true);
        return s;
    }

    /**
     * Wraps a connected socket for the follower side (null {@code tls}: returned as is) and completes the handshake,
     * checking that the leader's certificate names {@code leader}'s host or address.
     */
    public static Socket clientSocket(SSLContext tls, Socket connected, InetSocketAddress leader) throws IOException {
        if (tls == null) {
            return connected;
        }
        SSLSocket s = (SSLSocket)
                tls.getSocketFactory().createSocket(connected, leader.getHostString(), leader.getPort(), true);
        SSLParameters p = s.getSSLParameters();
        p.setProtocols(PROTOCOLS);
        p.setEndpointIdentificationAlgorithm("HTTPS");
        s.setSSLParameters(p);
        s.startHandshake();
        return s;
    }
}
