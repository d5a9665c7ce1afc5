package dev.armdb.replication;

import static dev.armdb.replication.ReplicationFaultTest.awaitUntil;
import static org.assertj.core.api.Assertions.assertThat;

import dev.armdb.FixedMap;
import dev.armdb.replication.follower.ReplicationClient;
import dev.armdb.replication.follower.ReplicationClientConfig;
import dev.armdb.replication.follower.ShardStatus;
import dev.armdb.replication.leader.ReplicationServer;
import dev.armdb.replication.leader.ReplicationServerConfig;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;

/**
 * Mutual TLS on the replication port, with key stores made by the JDK's keytool for 127.0.0.1: matching stores
 * replicate (with and without a secret on top); a plain follower, or one trusting another certificate, gets no data.
 */
class ReplicationTlsTest extends ClosingTest {
    private static final char[] PASSWORD = "test-password".toCharArray();

    /** A PKCS#12 store with a self-signed EC key for 127.0.0.1 (trusting itself). */
    private Path keyStore(String name) {
        Path file = tmp.resolve(name + ".p12");
        ReplicationTls.writeSelfSignedKeyStore(file, PASSWORD, List.of("ip:127.0.0.1", "dns:localhost"), 2);
        return file;
    }

    private FixedMap leaderWithData() {
        FixedMap leader = track(FixedMap.open(tmp.resolve("leader"), ReplicationTest.config(32, 1024)));
        for (int i = 0; i < 3_000; i++) {
            leader.put(ReplicationTest.key(i), ReplicationTest.value(i, 0));
        }
        return leader;
    }

    private ReplicationClient follow(FixedMap follower, InetSocketAddress leader, ReplicationClientConfig cfg) {
        return track(ReplicationClient.start(follower, leader, cfg));
    }

    @Test
    void followersWithTheLeadersCertificatesReplicateOverTls() throws Exception {
        SSLContext tls = ReplicationTls.fromKeyStore(keyStore("node"), PASSWORD);
        ReplicationSecret secret = ReplicationSecret.of("tls-and-a-secret-too".getBytes(StandardCharsets.US_ASCII));
        FixedMap leader = leaderWithData();
        ReplicationServer server = track(ReplicationServer.start(
                leader, ReplicationServerConfig.defaults().withTls(tls).withSecret(secret)));
        FixedMap follower = track(FixedMap.open(tmp.resolve("follower"), ReplicationTest.config(32, 1024)));
        ReplicationClient client = follow(
                follower,
                server.address(),
                ReplicationClientConfig.defaults().withTls(tls).withSecret(secret));
        ReplicationFaultTest.awaitConverged(leader, client);
        assertThat(ReplicationTest.contents(follower)).isEqualTo(ReplicationTest.contents(leader));
        leader.put(ReplicationTest.key(99_999), ReplicationTest.value(99_999, 1));
        ReplicationFaultTest.awaitConverged(leader, client);
        assertThat(follower.get(ReplicationTest.key(99_999))).isEqualTo(ReplicationTest.value(99_999, 1));
    }

    @Test
    void aPlainFollowerOrOneTrustingAnotherCertificateGetsNothing() throws Exception {
        SSLContext tls = ReplicationTls.fromKeyStore(keyStore("node"), PASSWORD);
        SSLContext stranger = ReplicationTls.fromKeyStore(keyStore("stranger"), PASSWORD);
        FixedMap leader = leaderWithData();
        ReplicationServer server = track(ReplicationServer.start(
                leader, ReplicationServerConfig.defaults().withTls(tls)));

        FixedMap plain = track(FixedMap.open(tmp.resolve("plain"), ReplicationTest.config(32, 1024)));
        ReplicationClient plainClient = follow(plain, server.address(), ReplicationClientConfig.defaults());
        FixedMap other = track(FixedMap.open(tmp.resolve("other"), ReplicationTest.config(32, 1024)));
        ReplicationClient otherClient = follow(
                other, server.address(), ReplicationClientConfig.defaults().withTls(stranger));

        awaitUntil(
                () -> "the stranger's sessions report the TLS failure: " + otherClient.status(),
                Duration.ofSeconds(20),
                () -> otherClient.status().stream().allMatch(s -> s.lastError().startsWith("TLS")));
        awaitUntil(
                () -> "the plain follower's sessions failed: " + plainClient.status(),
                Duration.ofSeconds(20),
                () -> plainClient.status().stream().noneMatch(s -> s.lastError().isEmpty()));
        for (ReplicationClient c : List.of(plainClient, otherClient)) {
            for (ShardStatus s : c.status()) {
                assertThat(s.state()).isNotIn("CATCHING_UP", "STREAMING");
                assertThat(s.appliedLsn()).isZero();
            }
        }
        assertThat(plain.size()).isZero();
        assertThat(other.size()).isZero();
        assertThat(server.status())
                .as("no session got past the handshake")
                .allSatisfy(f -> assertThat(f.shard()).isEqualTo(-1));
    }

    /**
     * The leader's per-connection engine has the security properties its former SSLServerSocket had: server mode,
     * TLS 1.3 only, a client certificate required, the same cipher suites.
     */
    @Test
    void theLeadersEngineIsConfiguredAsItsServerSocketWas() throws Exception {
        SSLContext tls = ReplicationTls.fromKeyStore(keyStore("node"), PASSWORD);
        SSLEngine engine = ReplicationTls.serverEngine(tls);
        try (SSLServerSocket s = (SSLServerSocket) tls.getServerSocketFactory().createServerSocket()) {
            s.setEnabledProtocols(new String[] {"TLSv1.3"});
            s.setNeedClientAuth(true);
            assertThat(engine.getUseClientMode()).isFalse();
            assertThat(engine.getNeedClientAuth()).isTrue();
            assertThat(engine.getEnabledProtocols()).containsExactly("TLSv1.3");
            assertThat(engine.getEnabledCipherSuites()).containsExactly(s.getEnabledCipherSuites());
        }
    }

    /**
     * The follower's per-connection engine has the security properties its former SSLSocket had: client mode, TLS 1.3
     * only, the leader's certificate checked against the address dialed (HTTPS endpoint identification), the same
     * cipher suites.
     */
    @Test
    void theFollowersEngineIsConfiguredAsItsSocketWas() throws Exception {
        SSLContext tls = ReplicationTls.fromKeyStore(keyStore("node"), PASSWORD);
        InetSocketAddress leader = new InetSocketAddress("127.0.0.1", 7001);
        SSLEngine engine = ReplicationTls.clientEngine(tls, leader);
        try (SSLSocket s = (SSLSocket) tls.getSocketFactory().createSocket()) {
            assertThat(engine.getUseClientMode()).isTrue();
            assertThat(engine.getEnabledProtocols()).containsExactly("TLSv1.3");
            assertThat(engine.getSSLParameters().getEndpointIdentificationAlgorithm())
                    .isEqualTo("HTTPS");
            assertThat(engine.getPeerHost()).isEqualTo("127.0.0.1");
            assertThat(engine.getPeerPort()).isEqualTo(7001);
            assertThat(engine.getEnabledCipherSuites()).containsExactly(s.getEnabledCipherSuites());
        }
    }

    /** A leader whose certificate does not name the address the follower dials is refused in the TLS handshake. */
    @Test
    void aLeaderWhoseCertificateNamesAnotherHostIsRefused() throws Exception {
        Path file = tmp.resolve("elsewhere.p12");
        ReplicationTls.writeSelfSignedKeyStore(file, PASSWORD, List.of("dns:db9.invalid"), 2);
        SSLContext tls = ReplicationTls.fromKeyStore(file, PASSWORD);
        FixedMap leader = leaderWithData();
        ReplicationServer server = track(ReplicationServer.start(
                leader, ReplicationServerConfig.defaults().withTls(tls)));
        FixedMap follower = track(FixedMap.open(tmp.resolve("follower"), ReplicationTest.config(32, 1024)));
        ReplicationClient client = follow(
                follower, server.address(), ReplicationClientConfig.defaults().withTls(tls));
        awaitUntil(
                () -> "the sessions report the refused certificate: " + client.status(),
                Duration.ofSeconds(20),
                () -> client.status().stream().allMatch(s -> s.lastError().startsWith("TLS")));
        assertThat(client.status()).allSatisfy(s -> assertThat(s.state()).isNotIn("CATCHING_UP", "STREAMING"));
        assertThat(follower.size()).isZero();
    }
}
